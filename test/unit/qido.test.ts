// QIDO-RS query parsing and matching (PS3.18 8.3.4, PS3.4 C.2.2.2): keys, value forms, includefield, paging, Warnings.
import { describe, expect, it } from 'vitest';
import type { DicomJsonDataset } from '../../lambdas/dicom/dicom-json.js';
import {
  MAX_RESULTS,
  matches,
  parseQidoQuery,
  selectReturned,
  type QidoQuery,
  type QueryLevel,
} from '../../lambdas/dicomweb/qido.js';
import { HttpError } from '../../lambdas/http/errors.js';

/** A query string as API Gateway's multi-value map (repeated keys keep every value). */
function parse(level: QueryLevel, query: string): QidoQuery {
  const multi: Record<string, string[]> = {};
  for (const [key, value] of new URLSearchParams(query)) (multi[key] ??= []).push(value);
  return parseQidoQuery(level, multi);
}

/** The 400 a query gets, with the parameter its body names. */
function rejection(level: QueryLevel, query: string): { status: number; code: string; parameter: unknown } {
  try {
    parse(level, query);
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return { status: error.status, code: error.code, parameter: error.extra.body?.parameter };
  }
  throw new Error(`expected ${query} to be refused`);
}

const STUDY: DicomJsonDataset = {
  '00080005': { vr: 'CS', Value: ['ISO_IR 192'] },
  '00080020': { vr: 'DA', Value: ['20231215'] },
  '00080030': { vr: 'TM', Value: ['143015.250'] },
  '00080050': { vr: 'SH', Value: ['ACC-1'] },
  '00080061': { vr: 'CS', Value: ['CT', 'SR'] },
  '00081030': { vr: 'LO', Value: ['CT HEAD'] },
  '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Müller^Jürgen' }] },
  '00100020': { vr: 'LO', Value: ['PID-1'] },
  '00100040': { vr: 'CS', Value: ['M'] },
  '00101010': { vr: 'AS', Value: ['042Y'] },
  '0020000D': { vr: 'UI', Value: ['1.2.3.4'] },
  '00201206': { vr: 'IS', Value: [2] },
  '00201208': { vr: 'IS', Value: [7] },
};

const matching = (level: QueryLevel, query: string, dataset: DicomJsonDataset = STUDY): boolean =>
  matches(parse(level, query), dataset);

describe('query keys', () => {
  it('takes keywords and tags alike, in either hex case', () => {
    for (const key of ['PatientID', '00100020', '0010002a'.replace('a', '0')]) {
      const query = parse('study', `${key}=PID-1`);
      expect(query.matchers.map((m) => m.tag)).toEqual(['00100020']);
      expect(matches(query, STUDY)).toBe(true);
    }
    expect(parse('study', 'StudyInstanceUID=1.2.3.4&0008103e=x').matchers).toHaveLength(1);
  });

  it('refuses an unknown key with 400 INVALID_PARAMETER naming it', () => {
    expect(rejection('study', 'PatientNam=DOE')).toEqual({
      status: 400,
      code: 'INVALID_PARAMETER',
      parameter: 'PatientNam',
    });
    expect(rejection('instance', 'frobnicate=1').parameter).toBe('frobnicate');
  });

  it('refuses dotted sequence keys with 400 naming the key', () => {
    expect(rejection('series', 'RequestAttributesSequence.ScheduledProcedureStepID=1')).toMatchObject({
      status: 400,
      parameter: 'RequestAttributesSequence.ScheduledProcedureStepID',
    });
    expect(rejection('study', '00400275.00400009=1').status).toBe(400);
  });

  it('ignores an attribute kept only at a lower level with a Warning naming it', () => {
    const query = parse('study', 'SOPInstanceUID=1.2.3');
    expect(query.matchers).toEqual([]);
    expect(query.warnings.join()).toMatch(/^299 .*00080018/);
  });
});

describe('UID matching', () => {
  it('matches one UID or a backslash-separated list', () => {
    expect(matching('study', 'StudyInstanceUID=1.2.3.4')).toBe(true);
    expect(matching('study', 'StudyInstanceUID=1.2.3.5')).toBe(false);
    expect(matching('study', 'StudyInstanceUID=9.9\\1.2.3.4')).toBe(true);
    expect(matching('study', 'StudyInstanceUID=9.9\\8.8')).toBe(false);
  });

  it('refuses malformed UIDs with 400 naming the key', () => {
    for (const bad of ['1.2.x', '1..2', '.1', `1.${'2'.repeat(70)}`, '1.2\\', '1.2.*']) {
      expect(rejection('study', `StudyInstanceUID=${encodeURIComponent(bad)}`)).toMatchObject({
        status: 400,
        parameter: 'StudyInstanceUID',
      });
    }
  });
});

describe('date and time ranges', () => {
  it('matches a single date and closed, open-start and open-end ranges', () => {
    expect(matching('study', 'StudyDate=20231215')).toBe(true);
    expect(matching('study', 'StudyDate=20231214')).toBe(false);
    expect(matching('study', 'StudyDate=20231201-20231231')).toBe(true);
    expect(matching('study', 'StudyDate=20231215-20231215')).toBe(true);
    expect(matching('study', 'StudyDate=20231216-20231231')).toBe(false);
    expect(matching('study', 'StudyDate=20231215-')).toBe(true);
    expect(matching('study', 'StudyDate=20231216-')).toBe(false);
    expect(matching('study', 'StudyDate=-20231215')).toBe(true);
    expect(matching('study', 'StudyDate=-20231214')).toBe(false);
  });

  it('refuses impossible dates and malformed or reversed ranges with 400 naming the key', () => {
    for (const bad of ['2023-12-15', '20231315', '20230230', '-', '20231231-20230101', '1-2-3', 'today']) {
      expect(rejection('study', `StudyDate=${bad}`)).toMatchObject({ status: 400, parameter: 'StudyDate' });
    }
  });

  it('compares times by the precision given (1430 covers 14:30:00 to 14:30:59)', () => {
    expect(matching('study', 'StudyTime=1430')).toBe(true);
    expect(matching('study', 'StudyTime=14')).toBe(true);
    expect(matching('study', 'StudyTime=1431')).toBe(false);
    expect(matching('study', 'StudyTime=1400-1430')).toBe(true);
    expect(matching('study', 'StudyTime=1000-1429')).toBe(false);
    expect(matching('study', 'StudyTime=143016-')).toBe(false);
    expect(matching('study', 'StudyTime=-143015')).toBe(true);
    expect(rejection('study', 'StudyTime=25:00').parameter).toBe('StudyTime');
  });
});

describe('string matching', () => {
  it('applies * and ? wildcards over the whole value', () => {
    expect(matching('study', 'AccessionNumber=ACC*')).toBe(true);
    expect(matching('study', 'AccessionNumber=ACC-?')).toBe(true);
    expect(matching('study', 'AccessionNumber=ACC-??')).toBe(false);
    expect(matching('study', 'AccessionNumber=*C-1')).toBe(true);
    expect(matching('study', 'AccessionNumber=ACC')).toBe(false);
    // Regular expression characters are literal.
    expect(matching('study', 'AccessionNumber=ACC.1')).toBe(false);
  });

  it('matches person names case-insensitively, non-ASCII included, other strings exactly', () => {
    expect(matching('study', `PatientName=${encodeURIComponent('müller*')}`)).toBe(true);
    expect(matching('study', `PatientName=${encodeURIComponent('MÜLLER^JÜRGEN')}`)).toBe(true);
    expect(matching('study', 'PatientName=mueller*')).toBe(false);
    expect(matching('study', 'AccessionNumber=acc-1')).toBe(false);
  });

  it('matches a CS list (CT\\MR) against any of the values, ModalitiesInStudy included', () => {
    expect(matching('study', 'ModalitiesInStudy=CT')).toBe(true);
    expect(matching('study', 'ModalitiesInStudy=MR\\CT')).toBe(true);
    expect(matching('study', 'ModalitiesInStudy=MR\\US')).toBe(false);
    expect(matching('study', 'ModalitiesInStudy=SR')).toBe(true);
  });

  it('matches numbers by value', () => {
    expect(matching('study', 'NumberOfStudyRelatedInstances=7')).toBe(true);
    expect(matching('study', 'NumberOfStudyRelatedInstances=7.0')).toBe(true);
    expect(matching('study', 'NumberOfStudyRelatedInstances=8')).toBe(false);
    expect(rejection('study', 'NumberOfStudyRelatedInstances=seven').parameter).toBe('NumberOfStudyRelatedInstances');
  });
});

describe('universal matching', () => {
  it('an empty value matches everything (even without the attribute) and returns the attribute', () => {
    const query = parse('study', 'PatientAge=&StudyID=');
    expect(matches(query, STUDY)).toBe(true);
    expect(matches(query, { '0020000D': { vr: 'UI', Value: ['1.2'] } })).toBe(true);
    const returned = selectReturned(query, STUDY);
    expect(returned['00101010']).toEqual({ vr: 'AS', Value: ['042Y'] });
    // PatientAge is not a default study attribute.
    expect(selectReturned(parse('study', ''), STUDY)['00101010']).toBeUndefined();
  });
});

describe('returned attributes', () => {
  it('returns the level defaults (PS3.18 Table 10.6.3-3), sorted by tag', () => {
    const returned = selectReturned(parse('study', ''), STUDY);
    expect(Object.keys(returned)).toEqual(Object.keys(returned).sort());
    for (const tag of ['00080020', '00080061', '00100010', '0020000D', '00201206', '00201208']) {
      expect(returned[tag]).toBeDefined();
    }
    expect(returned['00101010']).toBeUndefined();
  });

  it('adds includefield tags and keywords, comma lists and repeats; all returns everything kept', () => {
    const dataset = { ...STUDY, '00101020': { vr: 'DS', Value: [1.8] }, '00101030': { vr: 'DS', Value: [80] } };
    const picked = (query: string) => Object.keys(selectReturned(parse('study', query), dataset));
    expect(picked('includefield=PatientAge')).toContain('00101010');
    expect(picked('includefield=00101010')).toContain('00101010');
    const listed = picked('includefield=PatientAge,00101020&includefield=PatientWeight');
    expect(listed).toEqual(expect.arrayContaining(['00101010', '00101020', '00101030']));
    // all: everything kept, plus the required keys the file lacks, empty (PS3.18 10.6.3.3.1).
    const everything = selectReturned(parse('study', 'includefield=all'), dataset);
    expect(Object.keys(everything)).toEqual(expect.arrayContaining(Object.keys(dataset)));
    for (const [tag, attribute] of Object.entries(everything)) {
      if (!(tag in dataset)) expect(attribute, tag).toEqual({ vr: expect.stringMatching(/^[A-Z]{2}$/) });
    }
    expect(rejection('study', 'includefield=NoSuchKeyword').parameter).toBe('includefield');
  });
});

describe('required return keys', () => {
  it('are returned empty when the file lacks them; asked-for optional keys are simply absent', () => {
    const bare = { '0020000D': { vr: 'UI', Value: ['1.2.3'] } };
    const returned = selectReturned(parse('study', 'includefield=PatientWeight'), bare);
    expect(returned['00080090']).toEqual({ vr: 'PN' }); // ReferringPhysicianName, required
    expect(returned['00100030']).toEqual({ vr: 'DA' }); // PatientBirthDate, required
    expect(returned['00101030']).toBeUndefined(); // PatientWeight: asked for, not in the file
    expect(returned['0020000D']).toEqual(bare['0020000D']);
  });
});

describe('paging and Warnings', () => {
  it('takes limit and offset; a limit above the maximum is capped with a Warning', () => {
    expect(parse('study', 'limit=10&offset=20')).toMatchObject({ limit: 10, offset: 20, warnings: [] });
    const capped = parse('study', `limit=${MAX_RESULTS.study + 1}`);
    expect(capped.limit).toBe(MAX_RESULTS.study);
    expect(capped.warnings).toEqual([expect.stringMatching(/^299 /)]);
    for (const bad of ['limit=0', 'limit=-1', 'limit=ten', 'offset=-1', 'offset=1.5']) {
      expect(rejection('study', bad).parameter).toBe(bad.split('=')[0]);
    }
  });

  it('fuzzymatching=true answers with the Warning PS3.18 8.3.4.1 words', () => {
    const warnings = parse('study', 'fuzzymatching=true&PatientName=DOE').warnings;
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^299 \S+: The fuzzymatching parameter is not supported\. Only literal matching has been performed\.$/,
    );
    expect(parse('study', 'fuzzymatching=false').warnings).toEqual([]);
    expect(rejection('study', 'fuzzymatching=maybe').parameter).toBe('fuzzymatching');
  });
});
