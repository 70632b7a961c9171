// Extracts the uploaded file from a multipart/form-data body with busboy, with limits.
import busboy from 'busboy';
import { BadRequest, PayloadTooLarge } from './errors.js';
import { LARGE_UPLOAD_ROUTE } from '../config.js';
import { wellFormed } from './content-disposition.js';

export interface UploadedFile {
  filename: string;
  bytes: Buffer;
}

/** Keeps a display name only: no path, no control characters, bounded length (it never becomes a key). */
export function sanitizeFilename(raw: string | undefined): string {
  const base = (raw ?? '').split(/[/\\]/).pop() ?? '';
  // Unpaired surrogates (JSON can carry them) become U+FFFD: the name must survive headers and DynamoDB.
  const clean = wellFormed(base.replace(/[\u0000-\u001f\u007f-\u009f]/g, '')).trim();
  const bounded = Array.from(clean).slice(0, 255).join('');
  return bounded || 'upload.dcm';
}

/**
 * busboy refuses part headers holding control characters, which some clients put in filenames
 * unescaped; blank them (same length, so offsets hold) so the file is accepted and its name sanitised.
 */
export function blankControlBytesInPartHeaders(contentType: string, body: Buffer): Buffer {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const marker = boundary ? Buffer.from(`--${boundary[1] ?? boundary[2]}`) : undefined;
  if (!marker) return body;
  let out: Buffer | undefined;
  for (let at = body.indexOf(marker); at !== -1; at = body.indexOf(marker, at + marker.length)) {
    const headersStart = at + marker.length;
    const headersEnd = body.indexOf('\r\n\r\n', headersStart);
    if (headersEnd === -1) break;
    for (let i = headersStart + 2; i < headersEnd; i++) {
      const byte = body[i]!;
      if ((byte < 0x20 && byte !== 0x0d && byte !== 0x0a && byte !== 0x09) || byte === 0x7f) {
        out ??= Buffer.from(body);
        out[i] = 0x20;
      }
    }
    at = headersEnd;
  }
  return out ?? body;
}

/** Parses the body and returns the one file sent in the form field `file`. */
export function readMultipartFile(
  contentType: string | undefined,
  body: Buffer,
  maxFileBytes: number,
): Promise<UploadedFile> {
  if (!contentType || !/^multipart\/form-data/i.test(contentType)) {
    throw new BadRequest(
      'expected a multipart/form-data upload with the file in the field "file" (curl -F "file=@image.dcm")',
      'NOT_MULTIPART',
    );
  }
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { 'content-type': contentType },
        defParamCharset: 'utf8',
        limits: { files: 2, fileSize: maxFileBytes, fields: 50, parts: 60, headerPairs: 50 },
      });
    } catch (error) {
      reject(new BadRequest(`malformed multipart request: ${(error as Error).message}`, 'BAD_MULTIPART'));
      return;
    }
    const files: UploadedFile[] = [];
    let tooLarge = false;
    let fileFields = 0;
    parser.on('file', (field, stream, info) => {
      if (field !== 'file') {
        stream.resume();
        return;
      }
      fileFields++;
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => {
        tooLarge = true;
      });
      stream.on('close', () => files.push({ filename: sanitizeFilename(info.filename), bytes: Buffer.concat(chunks) }));
    });
    parser.on('error', (error: Error) =>
      reject(new BadRequest(`malformed multipart request: ${error.message}`, 'BAD_MULTIPART')),
    );
    parser.on('close', () => {
      if (tooLarge) {
        reject(new PayloadTooLarge(`file too large for POST /dicom; upload large files with ${LARGE_UPLOAD_ROUTE}`));
      } else if (fileFields > 1) {
        reject(new BadRequest('send exactly one file in the field "file"', 'TOO_MANY_FILES'));
      } else if (files.length === 0) {
        reject(new BadRequest('no file in the form field "file"', 'MISSING_FILE'));
      } else {
        resolve(files[0]!);
      }
    });
    parser.end(blankControlBytesInPartHeaders(contentType, body));
  });
}
