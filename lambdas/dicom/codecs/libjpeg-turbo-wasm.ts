// The libjpeg-turbo decoder's .wasm, which esbuild's file loader copies beside the bundle: the import is the
// copy's path relative to the bundle. Imported only from a bundle (see wasm.ts).
import path from '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm';

export default path;
