// What each Lambda bundle may carry: the render pipeline and pixel codecs only where images are rendered.
import type { Metafile } from 'esbuild';

/** The functions that render pixels (the codecs load lazily per transfer syntax inside them). */
export const RENDERING_FUNCTIONS: readonly string[] = ['png', 'processor', 'dicomwebFrames', 'dicomwebRendered'];

/** The decoder, the codec registry and wrappers, and the codec packages they load. */
const RENDER_INPUT =
  /(^|\/)lambdas\/dicom\/(codecs\/|pixels\.ts$|render\.ts$)|node_modules\/(@cornerstonejs\/codec-|dcmjs-codecs\/)/;

/** The bundle inputs (esbuild metafile) that are render or codec code. */
export function renderInputs(metafile: Metafile): string[] {
  return Object.keys(metafile.inputs).filter((input) => RENDER_INPUT.test(input));
}
