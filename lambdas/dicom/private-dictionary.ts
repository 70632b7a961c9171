// Names and VRs of well-known private data elements (GEMS, Siemens, Philips, ...) from the dictionary dcmjs ships,
// whose private part is dcmtk's private.dic. It is 1.3 MB of source: only the processor loads it (see process.ts).

export interface PrivateDictionaryEntry {
  /** dcmtk's identifier for the element ("DisplayFieldOfView"); undefined where the dictionary knows only its VR. */
  readonly name: string | undefined;
  /** The VR that decodes the element's value when the file does not state one (implicit VR, or UN). */
  readonly vr: string;
}

export interface PrivateDictionary {
  /**
   * The entry of private data element (group, element) whose block the private creator `creator` reserved (the
   * value of (gggg,00xx) for element xxyy, PS3.5 7.8.1), or undefined when the dictionary does not know it.
   */
  lookup(creator: string, group: number, element: number): PrivateDictionaryEntry | undefined;
  /**
   * A public element (tag as 'GGGGEEEE') that the main dictionary (PS3.6 2019e, lambdas/dicom/dictionary.ts) lacks:
   * 448 newer ones (SyntheticData, PyramidUID, ...) and the directory group 0004, from the same data file's public part.
   */
  standard(tagHex: string): { keyword: string; vr: string } | undefined;
}

type RawEntries = Record<string, { tag: string; vr?: string; name?: string }>;

/**
 * dcmtk's keys: '(0019,"GEMS_ACQU_01",1e)' (any block the creator reserved), '(0019,"PHILIPS MR/PART",1005)' (a
 * fixed element number) and '(6001-o-60ff,"PAPYRUS 3.0",10)' (every odd group of a range).
 */
/** A public element's key in the same file: '(0008,001C)' (repeating groups such as '(60xx,0010)' are skipped). */
const PUBLIC_KEY = /^\(([0-9a-f]{3}[02468ace]),([0-9a-f]{4})\)$/i;

const PRIVATE_KEY = /^\(([0-9a-f]{4})(?:-o-([0-9a-f]{4}))?,"([^"]+)",([0-9a-f]{2}|[0-9a-f]{4})\)$/i;

/** dcmtk's "OB or OW" code; implicit VR writes such values as OW (PS3.5 A.1). Other codes are DICOM VRs. */
const DCMTK_VR_CODES: Record<string, string> = { ox: 'OW' };

/** A creator value as the file holds it (LO, PS3.5 7.8.1), compared without its padding. */
export function normaliseCreator(value: string): string {
  return value.replace(/^ +/, '').replace(/[ \0]+$/, '');
}

function hex(value: number, digits: number): string {
  return value.toString(16).toUpperCase().padStart(digits, '0');
}

function entryOf(raw: { vr?: string; name?: string }): PrivateDictionaryEntry {
  const name = raw.name?.trim();
  const vr = raw.vr ?? 'UN';
  return { name: name && name !== 'Unknown' ? name : undefined, vr: DCMTK_VR_CODES[vr] ?? vr };
}

/** Builds the lookup from dictionary entries keyed the way dcmtk's private.dic writes them; other keys are ignored. */
export function privateDictionaryFrom(entries: RawEntries): PrivateDictionary {
  // "GGGG|creator|YY" for relocatable entries, "GGGG|creator|XXYY" for fixed element numbers.
  const byKey = new Map<string, PrivateDictionaryEntry>();
  const publicByTag = new Map<string, { keyword: string; vr: string }>();
  const groupRanges: Array<{
    first: number;
    last: number;
    creator: string;
    low: number;
    entry: PrivateDictionaryEntry;
  }> = [];
  for (const raw of Object.values(entries)) {
    const publicMatch = PUBLIC_KEY.exec(raw.tag);
    if (publicMatch && raw.name && raw.vr) {
      publicByTag.set(`${publicMatch[1]}${publicMatch[2]}`.toUpperCase(), { keyword: raw.name, vr: raw.vr });
      continue;
    }
    const match = PRIVATE_KEY.exec(raw.tag);
    if (!match) continue;
    const [, group, lastGroup, creator, element] = match as unknown as [
      string,
      string,
      string | undefined,
      string,
      string,
    ];
    const entry = entryOf(raw);
    if (lastGroup) {
      const low = parseInt(element, 16);
      groupRanges.push({ first: parseInt(group, 16), last: parseInt(lastGroup, 16), creator, low, entry });
    } else {
      byKey.set(`${group.toUpperCase()}|${creator}|${element.toUpperCase()}`, entry);
    }
  }
  return {
    standard: (tagHex) => publicByTag.get(tagHex.toUpperCase()),
    lookup(creator, group, element) {
      const block = element >> 8;
      // Private data elements are (gggg,1000-FFFF) of an odd group other than 0001-0007 and FFFF (PS3.5 7.8.1).
      if (group % 2 === 0 || group <= 0x0007 || group === 0xffff || block < 0x10) return undefined;
      const name = normaliseCreator(creator);
      const low = element & 0xff;
      const groupHex = hex(group, 4);
      return (
        byKey.get(`${groupHex}|${name}|${hex(element, 4)}`) ??
        byKey.get(`${groupHex}|${name}|${hex(low, 2)}`) ??
        groupRanges.find((r) => r.creator === name && r.low === low && group >= r.first && group <= r.last)?.entry
      );
    },
  };
}

let loading: Promise<PrivateDictionary> | undefined;

/** The private dictionary, loaded once per process (a dynamic import, so only the processor's bundle carries it). */
export function loadPrivateDictionary(): Promise<PrivateDictionary> {
  loading ??= import('dcmjs/dictionary').then((module) => privateDictionaryFrom(module.default));
  return loading;
}
