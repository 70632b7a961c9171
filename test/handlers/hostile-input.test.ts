// Issue 19: input a client controls never gets a 5xx; each case answers a 4xx JSON error with a code (or is bounded).
import type { APIGatewayProxyResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { getStores } from '../../lambdas/commons.js';
import { KEYS } from '../../lambdas/config.js';
import { inflatedCapBytes } from '../../lambdas/dicom/parse.js';
import { processDicom } from '../../lambdas/dicom/process.js';
import { handler as attributes, MAX_INLINE_ATTRIBUTES_BYTES } from '../../lambdas/handlers/attributes.js';
import { handler as file } from '../../lambdas/handlers/file.js';
import { handler as processor } from '../../lambdas/handlers/processor.js';
import { handler as reprocess } from '../../lambdas/handlers/reprocess.js';
import { handler as upload } from '../../lambdas/handlers/upload.js';
import { attachmentDisposition } from '../../lambdas/http/content-disposition.js';
import { MAX_RECORD_TEXT_CHARS } from '../../lambdas/store/item-size.js';
import {
  buildDeflatedDicom,
  buildDicom,
  imageElements,
  patientElements,
  sampleCt,
  TS,
} from '../fixtures/dicom-builder.js';
import { useEmulatedStorage } from '../support/emulated-storage.js';
import { idEvent, s3Event, uploadEvent } from '../support/events.js';

useEmulatedStorage('hostile-input');

const body = (response: APIGatewayProxyResult): Record<string, any> => JSON.parse(response.body);

async function uploaded(bytes: Uint8Array, filename = 'sample.dcm'): Promise<string> {
  const response = await upload(await uploadEvent(bytes, filename));
  expect(response.statusCode, response.body).toBe(201);
  const { id } = body(response) as { id: string };
  await processor(s3Event(KEYS.upload(id)));
  return id;
}

describe('text values too long for a DynamoDB item', () => {
  it('a 300 KB name and a 300 KB description: 201 and READY, the record keeps shortened values', async () => {
    const long = (letter: string) => letter.repeat(300_000);
    // Implicit VR: 32-bit lengths, so an LO/PN of 300 KB can be written (explicit VR caps them at 64 KB).
    const bytes = buildDicom(
      [
        ...patientElements({ name: long('N'), description: long('D'), modality: 'CT' }),
        ...imageElements({ rows: 4, columns: 4, pixels: new Array(16).fill(100) }),
      ],
      { transferSyntax: TS.implicitLE },
    );
    const id = await uploaded(bytes);
    const record = (await getStores().records.get(id))!;
    expect(record.status).toBe('READY');
    expect(record.dicom_info.PatientName!.length).toBeLessThanOrEqual(MAX_RECORD_TEXT_CHARS);
    expect(record.dicom_info.StudyDescription).toMatch(/^D+…$/);
    // The full values stay in the attributes JSON.
    const stored = await attributes(idEvent('/dicom/{id}/attributes', id));
    expect(stored.statusCode).toBe(200);
    expect(stored.body).toContain(long('D'));
  });
});

describe('a deflated file that inflates far beyond its size', () => {
  it('the cap is a small multiple of the input and a quarter of the function memory', () => {
    const MiB = 1024 * 1024;
    expect(inflatedCapBytes(1_000, 1024)).toBe(64 * MiB); // a floor for small sparse images
    expect(inflatedCapBytes(3_000_000, 1024)).toBe(96_000_000); // 32 times the input
    expect(inflatedCapBytes(10_000_000, 512)).toBe(128 * MiB); // a quarter of 512 MB
    expect(inflatedCapBytes(1_000, 128)).toBe(32 * MiB);
  });

  it('POST /dicom of 100 MB of zeros deflated to ~100 KB: 413 INFLATED_TOO_LARGE', async () => {
    const bomb = buildDeflatedDicom([
      ...patientElements(),
      { tag: 0x00091010, vr: 'OB', value: new Uint8Array(100 * 1024 * 1024) },
    ]);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const response = await upload(await uploadEvent(bomb, 'bomb.dcm'));
    expect(response.statusCode).toBe(413);
    expect(body(response)).toMatchObject({ code: 'INFLATED_TOO_LARGE', error: expect.any(String) });
  });
});

describe('an attributes document larger than a Lambda response', () => {
  it('answers 302 to a short-lived URL of the stored JSON, the document as made; one element of it 200', async () => {
    // A 5.1 MB text value, deflated (a POST /dicom body is at most 4.3 MB): the attributes document is larger than
    // a Lambda response, so it is stored on its own; the DICOM JSON, as large, is in the documents object.
    const text = 'LONG REPORT TEXT '.repeat(300_000);
    const bytes = buildDeflatedDicom([
      ...patientElements({ modality: 'SR' }),
      { tag: 0x0040a160, vr: 'UT', value: text },
    ]);
    const id = await uploaded(bytes);
    const made = await processDicom(new Uint8Array(bytes));
    expect(made.attributesJson.length).toBeGreaterThan(MAX_INLINE_ATTRIBUTES_BYTES);
    const response = await attributes(idEvent('/dicom/{id}/attributes', id));
    expect(response.statusCode).toBe(302);
    expect(response.body.length).toBeLessThan(6 * 1024 * 1024);
    const followed = await fetch(response.headers!.Location as string);
    expect(followed.status).toBe(200);
    expect(Buffer.from(await followed.arrayBuffer()).equals(Buffer.from(made.attributesJson))).toBe(true);

    const one = await attributes(idEvent('/dicom/{id}/attributes', id, 'GET', { tag: '0040A160' }));
    expect(one.statusCode).toBe(200);
    expect(body(one)).toMatchObject({ tag: '0040,A160', value: text.trimEnd() });
  });
});

describe('a filename with a lone surrogate', () => {
  it('GET /dicom/{id}/file answers 200 with U+FFFD in its place', async () => {
    expect(attachmentDisposition('a\ud800b.dcm')).toContain("filename*=UTF-8''a%EF%BF%BDb.dcm");
    const id = await uploaded(sampleCt(), 'scan\udc00.dcm');
    const response = await file(idEvent('/dicom/{id}/file', id));
    expect(response.statusCode, response.body.slice(0, 200)).toBe(200);
    expect(response.headers!['Content-Disposition']).toContain('%EF%BF%BD');
  });
});

describe('reprocess racing a delete', () => {
  it('the original removed between the check and the copy: 404, not a 500', async () => {
    const id = await uploaded(sampleCt());
    const { objects, records } = getStores();
    // The DELETE removes the original just after reprocess has seen it (its head), before the copy.
    const head = objects.head.bind(objects);
    let first = true;
    objects.head = async (key, versionId) => {
      const found = await head(key, versionId);
      if (first && key === KEYS.upload(id)) {
        first = false;
        await objects.delete([KEYS.upload(id)]);
      }
      return found;
    };
    try {
      const response = await reprocess(idEvent('/dicom/{id}/reprocess', id, 'POST'));
      expect(response.statusCode, response.body).toBe(404);
      expect(body(response)).toMatchObject({ code: 'FILE_NOT_FOUND' });
    } finally {
      objects.head = head;
    }
    expect((await records.get(id))?.status).toBe('FAILED');
  });

  it('the record deleted meanwhile too: 404', async () => {
    const id = await uploaded(sampleCt());
    const { objects, records } = getStores();
    const head = objects.head.bind(objects);
    objects.head = async (key, versionId) => {
      const found = await head(key, versionId);
      objects.head = head;
      await records.delete(id, () => objects.delete([KEYS.upload(id)]));
      return found;
    };
    try {
      const response = await reprocess(idEvent('/dicom/{id}/reprocess', id, 'POST'));
      expect(response.statusCode, response.body).toBe(404);
    } finally {
      objects.head = head;
    }
  });
});
