// The codecs' .wasm files, which esbuild's file loader (`loader: { '.wasm': 'file' }`) copies beside the bundle: the
// import is the copy's path, relative to the bundle's directory (e.g. "./charlswasm_decode-ABCD1234.wasm").
declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm' {
  const path: string;
  export default path;
}
declare module '@cornerstonejs/codec-charls/decodewasm' {
  const path: string;
  export default path;
}
declare module '@cornerstonejs/codec-openjpeg/decodewasm' {
  const path: string;
  export default path;
}
declare module '@cornerstonejs/codec-openjph/wasm' {
  const path: string;
  export default path;
}
declare module 'dcmjs-codecs/build/dcmjs-native-codecs.wasm' {
  const path: string;
  export default path;
}
