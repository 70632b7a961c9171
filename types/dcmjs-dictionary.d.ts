// dcmjs ships no types for its data dictionary export: only the entry shape private-dictionary.ts reads is declared.
declare module 'dcmjs/dictionary' {
  /** Keyed like dcmtk's dicom.dic and private.dic: "(0010,0010)", '(0019,"GEMS_ACQU_01",1e)', '(6001-o-60ff,"PAPYRUS 3.0",10)'. */
  const dictionary: Record<string, { tag: string; vr?: string; name?: string; vm?: string; version?: string }>;
  export default dictionary;
}
