// The OpenJPH codec's .wasm as bytes, embedded by esbuild's binary loader: imported only from a bundle (see wasm.ts).
import bytes from '@cornerstonejs/codec-openjph/wasm';

export default bytes;
