// The libjpeg-turbo decoder's .wasm as bytes, embedded by esbuild's binary loader: imported only from a bundle (see wasm.ts).
import bytes from '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm';

export default bytes;
