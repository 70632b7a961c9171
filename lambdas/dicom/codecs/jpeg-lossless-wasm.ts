// The dcmjs-codecs .wasm (DCMTK's IJG decoders) as bytes, embedded by esbuild's binary loader: imported only from a
// bundle (see wasm.ts).
import bytes from 'dcmjs-codecs/build/dcmjs-native-codecs.wasm';

export default bytes;
