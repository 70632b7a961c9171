// Specific Character Set decoding: single-byte sets, UTF-8/GB18030/GBK and ISO 2022 code extensions.
import { describe, expect, it } from 'vitest';
import { characterSetFromValue, decodeText, decodeTextValues } from '../../lambdas/dicom/charset.js';

const ESC = 0x1b;
const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));
const bytes = (...parts: Array<number | number[] | string>): Uint8Array =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? ascii(p) : Array.isArray(p) ? p : [p])));

// Escape sequences of PS3.3 Table C.12-4.
const JIS_X_0208 = [ESC, 0x24, 0x42]; // ESC $ B  -> G0
const JIS_X_0212 = [ESC, 0x24, 0x28, 0x44]; // ESC $ ( D -> G0
const ASCII_G0 = [ESC, 0x28, 0x42]; // ESC ( B
const KATAKANA_G1 = [ESC, 0x29, 0x49]; // ESC ) I
const KS_X_1001 = [ESC, 0x24, 0x29, 0x43]; // ESC $ ) C -> G1
const GB_2312 = [ESC, 0x24, 0x29, 0x41]; // ESC $ ) A -> G1
const LATIN1_G1 = [ESC, 0x2d, 0x41]; // ESC - A
const CYRILLIC_G1 = [ESC, 0x2d, 0x4c]; // ESC - L

/** ISO 8859-5 puts U+0410..U+044F at 0xB0..0xEF. */
const iso8859_5 = (text: string): number[] =>
  [...text].map((c) => (c.charCodeAt(0) >= 0x410 ? c.charCodeAt(0) - 0x360 : c.charCodeAt(0)));
/** ISO 8859-7 puts U+0386..U+03CE at 0xB6..0xFE. */
const iso8859_7 = (text: string): number[] =>
  [...text].map((c) => (c.charCodeAt(0) >= 0x386 ? c.charCodeAt(0) - 0x2d0 : c.charCodeAt(0)));

describe('single-byte and whole-value character sets', () => {
  it('decodes Latin-1 (ISO_IR 100) byte for byte, including 0x80-0x9F', () => {
    const value = bytes(0xc4, 'neas^R', 0xfc, 'diger');
    expect(decodeText(value, characterSetFromValue('ISO_IR 100'), 'PN')).toBe('Äneas^Rüdiger');
  });

  it('decodes Cyrillic (ISO_IR 144) and Greek (ISO_IR 126)', () => {
    expect(decodeText(bytes(iso8859_5('Люксембург')), characterSetFromValue('ISO_IR 144'), 'PN')).toBe('Люксембург');
    expect(decodeText(bytes(iso8859_7('Διονυσιος')), characterSetFromValue('ISO_IR 126'), 'PN')).toBe('Διονυσιος');
  });

  it('decodes Latin-9, Hebrew, Arabic, Thai and Turkish tables', () => {
    expect(decodeText(bytes(0xa4), characterSetFromValue('ISO_IR 203'), 'LO')).toBe('€');
    expect(decodeText(bytes(0xf9, 0xf8), characterSetFromValue('ISO_IR 138'), 'LO')).toBe('שר');
    expect(decodeText(bytes(0xc7), characterSetFromValue('ISO_IR 127'), 'LO')).toBe('ا');
    expect(decodeText(bytes(0xa1), characterSetFromValue('ISO_IR 166'), 'LO')).toBe('ก');
    expect(decodeText(bytes(0xfd), characterSetFromValue('ISO_IR 148'), 'LO')).toBe('ı');
  });

  it('decodes ISO_IR 13 as half-width katakana with JIS X 0201 Roman', () => {
    expect(
      decodeText(bytes(0xd4, 0xcf, 0xc0, 0xde, '^', 0xc0, 0xdb, 0xb3), characterSetFromValue('ISO_IR 13'), 'PN'),
    ).toBe('ﾔﾏﾀﾞ^ﾀﾛｳ');
  });

  it('decodes UTF-8 (ISO_IR 192), GB18030 and GBK', () => {
    const utf8 = new TextEncoder().encode('Wang^XiaoDong=王^小東');
    expect(decodeText(utf8, characterSetFromValue('ISO_IR 192'), 'PN')).toBe('Wang^XiaoDong=王^小東');
    expect(decodeText(bytes(0xcd, 0xf5), characterSetFromValue('GB18030'), 'PN')).toBe('王');
    expect(decodeText(bytes(0xcd, 0xf5), characterSetFromValue('GBK'), 'LO')).toBe('王');
  });

  it('splits GBK values after decoding, because a trail byte may be 0x5C', () => {
    // 0x81 0x5C is one GBK character; a byte-level split at "\" would cut it in half.
    expect(decodeTextValues(bytes(0x81, 0x5c, '\\A'), characterSetFromValue('GBK'), 'LO')).toEqual(['乗', 'A']);
  });

  it('accepts common misspellings of the defined terms', () => {
    expect(decodeText(bytes(0xc4), characterSetFromValue('ISO-IR 100'), 'LO')).toBe('Ä');
    expect(decodeText(new TextEncoder().encode('é'), characterSetFromValue('UTF-8'), 'LO')).toBe('é');
  });

  it('reports defined terms it does not know', () => {
    expect(characterSetFromValue('ISO_IR 999').unknownTerms).toEqual(['ISO_IR 999']);
    expect(characterSetFromValue('\\ISO 2022 IR 87').unknownTerms).toEqual([]);
  });
});

describe('default repertoire and VRs outside the character set', () => {
  it('reads CS, DA, UI... as the default repertoire even when the file declares another set', () => {
    // 0xC4 is "Ф" in ISO 8859-5 but a CS value is never decoded with the declared set.
    expect(decodeText(bytes(0xc4), characterSetFromValue('ISO_IR 144'), 'CS')).toBe('Ä');
    expect(decodeText(bytes(0xc4), characterSetFromValue('ISO_IR 144'), 'LO')).toBe('Ф');
  });

  it('reads undeclared text as UTF-8 when it is valid UTF-8, else as Latin-1', () => {
    const none = characterSetFromValue(undefined);
    expect(decodeText(new TextEncoder().encode('Müller'), none, 'PN')).toBe('Müller');
    expect(decodeText(bytes('M', 0xfc, 'ller'), none, 'PN')).toBe('Müller');
  });

  it('splits multi-valued VRs at backslashes but keeps them in ST, LT and UT', () => {
    const none = characterSetFromValue(undefined);
    expect(decodeTextValues(bytes('ORIGINAL\\PRIMARY'), none, 'CS')).toEqual(['ORIGINAL', 'PRIMARY']);
    expect(decodeTextValues(bytes('C:\\dir'), none, 'LT')).toEqual(['C:\\dir']);
  });
});

describe('ISO 2022 code extensions', () => {
  const japanese = characterSetFromValue('\\ISO 2022 IR 87');

  it('decodes the Japanese person name of PS3.5 Annex H (IR 87, ESC $ B)', () => {
    const value = bytes(
      'Yamada^Tarou=',
      JIS_X_0208,
      ';3ED',
      ASCII_G0,
      '^',
      JIS_X_0208,
      'B@O:',
      ASCII_G0,
      '=',
      JIS_X_0208,
      '$d$^$@',
      ASCII_G0,
      '^',
      JIS_X_0208,
      '$?$m$&',
      ASCII_G0,
    );
    expect(decodeText(value, japanese, 'PN')).toBe('Yamada^Tarou=山田^太郎=やまだ^たろう');
  });

  it('decodes JIS X 0212 (IR 159, ESC $ ( D)', () => {
    expect(decodeText(bytes(JIS_X_0212, 0x30, 0x21, ASCII_G0), characterSetFromValue('\\ISO 2022 IR 159'), 'LO')).toBe(
      '丂',
    );
  });

  it('decodes katakana in G1 (IR 13, ESC ) I) next to kanji in G0', () => {
    const charset = characterSetFromValue('ISO 2022 IR 13\\ISO 2022 IR 87');
    // Value 1 is IR 13, so katakana is in G1 from the start, even without an escape.
    const value = bytes(0xd4, 0xcf, 0xc0, 0xde, '=', JIS_X_0208, ';3ED', ASCII_G0, '=', KATAKANA_G1, 0xd4);
    expect(decodeText(value, charset, 'PN')).toBe('ﾔﾏﾀﾞ=山田=ﾔ');
  });

  it('does not treat "=" or "\\" inside a kanji as delimiters', () => {
    // 表 is 0x49 0x3D and 須 is 0x3F 0x5C in JIS X 0208.
    expect(decodeText(bytes(JIS_X_0208, 0x49, 0x3d, ASCII_G0), japanese, 'PN')).toBe('表');
    expect(decodeTextValues(bytes(JIS_X_0208, 0x3f, 0x5c, ASCII_G0, '\\A'), japanese, 'LO')).toEqual(['須', 'A']);
  });

  it('decodes the Korean person name of PS3.5 Annex I (IR 149, ESC $ ) C)', () => {
    const value = bytes(
      'Hong^Gildong=',
      KS_X_1001,
      0xfb,
      0xf3,
      '^',
      KS_X_1001,
      0xd1,
      0xce,
      0xd4,
      0xd7,
      '=',
      KS_X_1001,
      0xc8,
      0xab,
      '^',
      KS_X_1001,
      0xb1,
      0xe6,
      0xb5,
      0xbf,
    );
    expect(decodeText(value, characterSetFromValue('\\ISO 2022 IR 149'), 'PN')).toBe('Hong^Gildong=洪^吉洞=홍^길동');
  });

  it('decodes the Chinese person name of PS3.5 Annex K (IR 58, ESC $ ) A)', () => {
    const value = bytes('Zhang^XiaoDong=', GB_2312, 0xd5, 0xc5, '^', GB_2312, 0xd0, 0xa1, 0xb6, 0xab, '=');
    expect(decodeText(value, characterSetFromValue('\\ISO 2022 IR 58'), 'PN')).toBe('Zhang^XiaoDong=张^小东=');
  });

  it('switches single-byte G1 sets with ESC - F', () => {
    const charset = characterSetFromValue('ISO 2022 IR 100\\ISO 2022 IR 144');
    const value = bytes(0xc4, ' ', CYRILLIC_G1, iso8859_5('Люкс'), LATIN1_G1, 0xfc);
    expect(decodeText(value, charset, 'LO')).toBe('Ä Люксü');
  });

  it('returns to value 1 after "^" and "=" in PN, but not in other VRs', () => {
    const charset = characterSetFromValue('ISO 2022 IR 100\\ISO 2022 IR 149');
    const value = bytes(KS_X_1001, 0xc8, 0xab, '^', 0xb1, 0xe6);
    // PN: after "^" G1 is Latin-1 again, so 0xB1 0xE6 are "±æ"; LO keeps KS X 1001 and reads 길.
    expect(decodeText(value, charset, 'PN')).toBe('홍^±æ');
    expect(decodeText(value, charset, 'LO')).toBe('홍^길');
  });

  it('returns to value 1 at each backslash and control character', () => {
    const charset = characterSetFromValue('ISO 2022 IR 100\\ISO 2022 IR 149');
    expect(decodeTextValues(bytes(KS_X_1001, 0xc8, 0xab, '\\', 0xc4), charset, 'LO')).toEqual(['홍', 'Ä']);
    expect(decodeText(bytes(KS_X_1001, 0xc8, 0xab, '\r\n', 0xc4), charset, 'LT')).toBe('홍\r\nÄ');
  });

  it('keeps an unknown escape sequence visible', () => {
    expect(decodeText(bytes('A', ESC, 0x25, 0x47, 'B'), japanese, 'LO')).toBe('A\u001b%GB');
  });

  it('recognises escapes even when the file declares no extension', () => {
    expect(decodeText(bytes(JIS_X_0208, ';3ED', ASCII_G0), characterSetFromValue(undefined), 'PN')).toBe('山田');
  });
});
