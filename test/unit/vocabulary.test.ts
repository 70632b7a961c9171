// One DICOM vocabulary: every tag the code names is the dictionary's, every transfer syntax is in the one table.
import { describe, expect, it } from 'vitest';
import { describeTag } from '../../lambdas/dicom/attributes.js';
import { CODECS } from '../../lambdas/dicom/codecs/index.js';
import { TAG_HEX, TAGS } from '../../lambdas/dicom/tags.js';
import { TRANSFER_SYNTAX, TRANSFER_SYNTAXES } from '../../lambdas/dicom/uids.js';

describe('tags', () => {
  it.each(Object.entries(TAG_HEX))('%s is (%s) in the data dictionary', (keyword, hex) => {
    expect(describeTag(hex).keyword).toBe(keyword);
  });

  it('names each tag once, in both forms', () => {
    expect(new Set(Object.values(TAG_HEX)).size).toBe(Object.keys(TAG_HEX).length);
    expect(TAGS.PixelData).toBe('x7fe00010');
    expect(TAGS.StudyInstanceUID).toBe('x0020000d');
    expect(Object.keys(TAGS)).toEqual(Object.keys(TAG_HEX));
  });
});

describe('transfer syntaxes', () => {
  it('names each UID once, and the table knows every one of them and nothing else', () => {
    const uids = Object.values(TRANSFER_SYNTAX);
    expect(new Set(uids).size).toBe(uids.length);
    expect([...TRANSFER_SYNTAXES.keys()].sort()).toEqual([...uids].sort());
  });

  it('every syntax with a codec is known, and compressed', () => {
    for (const uid of Object.keys(CODECS)) {
      expect(TRANSFER_SYNTAXES.get(uid)?.name).toBeTruthy();
      expect(TRANSFER_SYNTAXES.get(uid)?.native).toBeUndefined();
    }
  });

  it('the four native syntaxes are the uncompressed ones', () => {
    const native = [...TRANSFER_SYNTAXES].filter(([, facts]) => facts.native).map(([uid]) => uid);
    expect(native.sort()).toEqual(
      [
        TRANSFER_SYNTAX.ImplicitVRLittleEndian,
        TRANSFER_SYNTAX.ExplicitVRLittleEndian,
        TRANSFER_SYNTAX.DeflatedExplicitVRLittleEndian,
        TRANSFER_SYNTAX.ExplicitVRBigEndian,
      ].sort(),
    );
  });
});
