// postinstall: teach dicom-parser 1.8.21 that OV, SV and UV (added to DICOM in 2019) have 4-byte
// lengths in explicit VR. Without it a file with an Extended Offset Table (7FE0,0001 OV) fails to
// parse at all. Idempotent; fails loudly if the library changed so the patch no longer applies.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const root = dirname(require.resolve('dicom-parser/package.json'));
const targets = [
  ['dist/dicomParser.min.js', '"UT"===e||"UN"===e', '"UT"===e||"UN"===e||"OV"===e||"SV"===e||"UV"===e'],
  [
    'dist/dicomParser.js',
    "vr === 'UT' || vr === 'UN'",
    "vr === 'UT' || vr === 'UN' || vr === 'OV' || vr === 'SV' || vr === 'UV'",
  ],
];
for (const [file, from, to] of targets) {
  const path = join(root, file);
  const source = readFileSync(path, 'utf8');
  if (source.includes(to)) continue;
  if (source.split(from).length !== 2) {
    throw new Error(`patch-dicom-parser: pattern not found exactly once in ${file}; check the dicom-parser version`);
  }
  writeFileSync(path, source.replace(from, to));
}
