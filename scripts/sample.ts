// `npm run sample`: writes sample.dcm, a small valid CT (64 x 64, 16-bit, a drawn head phantom, no real person) with
// fresh patient, study, series and SOP Instance UIDs, to the current folder, for the README's walk-through.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { headPhantomSeries } from '../test/fixtures/phantom.js';

/** A UID under the 2.25 root (PS3.5 B.2): the decimal form of a random UUID, unique without a registered root. */
function randomUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replaceAll('-', '')}`).toString()}`;
}

const studyInstanceUid = randomUid();
const [file] = headPhantomSeries({
  slices: 1,
  size: 64,
  name: 'SAMPLE^PATIENT',
  patientId: 'SAMPLE-0001',
  description: 'CT HEAD SAMPLE',
  studyInstanceUid,
  seriesInstanceUid: randomUid(),
  // The phantom appends `.1` (the slice number): 2.25.<uuid>.1 is at most 45 characters.
  sopInstanceUidPrefix: randomUid(),
  frameOfReferenceUid: randomUid(),
});

// npm runs scripts in the package folder; INIT_CWD is where `npm run sample` was typed.
const target = path.resolve(process.env.INIT_CWD ?? process.cwd(), 'sample.dcm');
writeFileSync(target, file!);
console.log(target);
