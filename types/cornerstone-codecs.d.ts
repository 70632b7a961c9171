// The Emscripten builds of @cornerstonejs/codec-* ship no types: only what lambdas/dicom/codecs uses is declared.

/** Shared shape of the embind decoder classes (JPEG, JPEG-LS, J2K, HTJ2K). */
interface CornerstoneFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

interface CornerstoneDecoder {
  /** A view on the WASM heap, `length` bytes long, to copy the codestream into. */
  getEncodedBuffer(length: number): Uint8Array;
  /** A view on the WASM heap: copy it before the next call into the module. */
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): CornerstoneFrameInfo;
  /** Frees the C++ object. */
  delete(): void;
}

interface CornerstoneModuleOptions {
  wasmBinary?: Uint8Array;
  print?: (text: string) => void;
  printErr?: (text: string) => void;
}

declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs' {
  const factory: (options?: CornerstoneModuleOptions) => Promise<{ JPEGDecoder: new () => CornerstoneDecoder }>;
  export default factory;
}

declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/wasmjs' {
  interface JpegEncoder {
    getDecodedBuffer(info: CornerstoneFrameInfo): Uint8Array;
    getEncodedBuffer(): Uint8Array;
    setQuality(progressive: boolean, quality: number): void;
    encode(): void;
    delete(): void;
  }
  const factory: (options?: CornerstoneModuleOptions) => Promise<{ JPEGEncoder: new () => JpegEncoder }>;
  export default factory;
}

declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  interface JpegLsDecoder extends CornerstoneDecoder {
    /** 0 none (component planes one after the other), 1 line, 2 sample. */
    getInterleaveMode(): number;
    getNearLossless(): number;
  }
  const factory: (options?: CornerstoneModuleOptions) => Promise<{
    JpegLSDecoder: new () => JpegLsDecoder;
    getExceptionMessage?: (pointer: number) => string;
  }>;
  export default factory;
}

declare module '@cornerstonejs/codec-charls/wasmjs' {
  interface JpegLsEncoder {
    getDecodedBuffer(info: CornerstoneFrameInfo): Uint8Array;
    getEncodedBuffer(): Uint8Array;
    setNearLossless(nearLossless: number): void;
    setInterleaveMode(mode: number): void;
    encode(): void;
    delete(): void;
  }
  const factory: (options?: CornerstoneModuleOptions) => Promise<{ JpegLSEncoder: new () => JpegLsEncoder }>;
  export default factory;
}

declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  interface J2kDecoder extends CornerstoneDecoder {
    getColorSpace(): number;
    getIsReversible(): boolean;
  }
  const factory: (options?: CornerstoneModuleOptions) => Promise<{ J2KDecoder: new () => J2kDecoder }>;
  export default factory;
}

declare module '@cornerstonejs/codec-openjpeg/wasmjs' {
  interface J2kEncoder {
    getDecodedBuffer(info: CornerstoneFrameInfo): Uint8Array;
    getEncodedBuffer(): Uint8Array;
    setQuality(lossless: boolean, quantizationStep: number): void;
    setDecompositions(levels: number): void;
    encode(): void;
    delete(): void;
  }
  const factory: (options?: CornerstoneModuleOptions) => Promise<{ J2KEncoder: new () => J2kEncoder }>;
  export default factory;
}

declare module '@cornerstonejs/codec-openjph/wasmjs' {
  interface HtJ2kDecoder extends CornerstoneDecoder {
    getLastErrorMessage?: () => string;
  }
  interface HtJ2kEncoder {
    getDecodedBuffer(info: CornerstoneFrameInfo): Uint8Array;
    getEncodedBuffer(): Uint8Array;
    setQuality(lossless: boolean, quantizationStep: number): void;
    setDecompositions(levels: number): void;
    encode(): void;
    delete(): void;
  }
  const factory: (options?: CornerstoneModuleOptions) => Promise<{
    HTJ2KDecoder: new () => HtJ2kDecoder;
    HTJ2KEncoder: new () => HtJ2kEncoder;
  }>;
  export default factory;
}
