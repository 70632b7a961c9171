// The codecs' .wasm files, embedded by esbuild's binary loader (`loader: { '.wasm': 'binary' }`) as bytes.
declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm' {
  const bytes: Uint8Array;
  export default bytes;
}
declare module '@cornerstonejs/codec-charls/decodewasm' {
  const bytes: Uint8Array;
  export default bytes;
}
declare module '@cornerstonejs/codec-openjpeg/decodewasm' {
  const bytes: Uint8Array;
  export default bytes;
}
declare module '@cornerstonejs/codec-openjph/wasm' {
  const bytes: Uint8Array;
  export default bytes;
}
declare module 'dcmjs-codecs/build/dcmjs-native-codecs.wasm' {
  const bytes: Uint8Array;
  export default bytes;
}
