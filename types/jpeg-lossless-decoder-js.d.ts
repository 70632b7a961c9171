// jpeg-lossless-decoder-js 2.1.2 points "types" at a file it does not ship: only the decoder used here is declared.
declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    /** The bytes being read and how far the decoder got; left in place after decode(). */
    stream: { buffer: Uint8Array; index: number } | null;
    frame: { precision: number; numComp: number; dimX: number; dimY: number };
    /** One sample per 8 bits of `numBytes`: Uint8Array for 1, Uint16Array for 2 (colour only for 1). */
    decode(buffer: ArrayBufferLike, offset: number, length: number, numBytes?: number): Uint8Array | Uint16Array;
  }
}
