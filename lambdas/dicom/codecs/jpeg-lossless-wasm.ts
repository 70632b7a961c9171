// The dcmjs-codecs .wasm (DCMTK's IJG decoders), which esbuild's file loader copies beside the bundle: the import is
// the copy's path relative to the bundle. Imported only from a bundle (see wasm.ts).
import path from 'dcmjs-codecs/build/dcmjs-native-codecs.wasm';

export default path;
