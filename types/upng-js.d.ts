// upng-js ships no types; only the encoder the benchmark compares against is declared.
declare module 'upng-js' {
  const UPNG: { encode(frames: ArrayBuffer[], width: number, height: number, colours: number): ArrayBuffer };
  export default UPNG;
}
