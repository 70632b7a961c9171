// JPEG Lossless (process 14, any predictor, and its SV1 subset) through dcmjs-codecs: a WASM build of DCMTK's IJG
// decoders for 8-, 12- and 16-bit streams. The module is started on the first lossless frame, not before.
import type { CodecOutput, EncodedFrame, FrameDecoder } from '../pixels.js';
import { checkHeader, cutShort, endsWithEoi, jpegFrameHeader } from './headers.js';
import { checkShape, copySamples, undecodable, wasmBinary } from './wasm.js';

const NAME = 'DCMTK/IJG via dcmjs-codecs (JPEG Lossless)';
const WASM = 'dcmjs-codecs/build/dcmjs-native-codecs.wasm';
/** SOF3: lossless, Huffman coded, non-hierarchical (process 14), the only frame type .57 and .70 allow. */
const SOF3 = 0xc3;

type Package = typeof import('dcmjs-codecs');
type NativeCodecs = Package['NativeCodecs'];

interface Instance {
  codecs: NativeCodecs;
  Context: Package['Context'];
}

/**
 * What the decoder says while it works: IJG reports damaged entropy-coded data only as a warning and fills the rest
 * of the image with zeros, so these messages are how an invented image is told from a decoded one.
 */
const messages: string[] = [];
let instance: Promise<Instance> | undefined;

/** IJG's warnings (jerror.h JWRN_*) after which the samples are no longer the ones coded. */
const DAMAGED =
  /Corrupt JPEG data: (premature end of data segment|bad Huffman code|found marker 0x[0-9a-f]+ instead of RST)|Premature end of JPEG file/i;

async function start(): Promise<Instance> {
  const imported = (await import('dcmjs-codecs')) as Package & { default?: Package };
  const codecsPackage = imported.default ?? imported;
  const bytes = await wasmBinary(WASM, () => import('./jpeg-lossless-wasm.js'));
  // The package reads its .wasm with fs from beside its own script, which a bundle does not have; this one subclass
  // (its own static state, so a retired instance is dropped whole) hands it the bytes instead.
  class Codecs extends codecsPackage.NativeCodecs {
    static async _getWebAssemblyBytes(): Promise<Uint8Array> {
      return bytes;
    }
  }
  // Its logger is its own loglevel instance: keep the decoder's words (for the checks above and error reasons) and
  // print nothing.
  const { log } = codecsPackage;
  log.methodFactory =
    () =>
    (...args: unknown[]) => {
      messages.push(args.map(String).join(' '));
      if (messages.length > 64) messages.shift();
    };
  log.setLevel('info', false);
  await Codecs.initializeAsync({ logCodecsInfo: true, logCodecsTrace: false });
  return { codecs: Codecs, Context: codecsPackage.Context };
}

/** The shared instance, started on first use; a failed start is retried by the next call. */
function load(): Promise<Instance> {
  if (!instance) {
    const starting = start();
    starting.catch(() => {
      if (instance === starting) instance = undefined;
    });
    instance = starting;
  }
  return instance;
}

/** True once the module has been asked for (a lossless frame was decoded), false again after a failure retired it. */
export const jpegLosslessModule = {
  get started(): boolean {
    return instance !== undefined;
  },
};

/** The decoder's own words, without the logger's prefixes. */
function said(): string[] {
  return messages.map((m) => m.replace(/^NativeCodecs::\w+::(\w+::EmitMessage::)?/, '').trim()).filter(Boolean);
}

export async function decodeJpegLossless(frame: EncodedFrame): Promise<CodecOutput> {
  const { bytes, layout } = frame;
  const header = jpegFrameHeader(bytes);
  if (!header) throw undecodable(NAME, 'no JPEG frame header found');
  if (header.marker !== SOF3) {
    const marker = header.marker.toString(16).toUpperCase();
    throw undecodable(NAME, `the frame is SOF 0xFF${marker}, not lossless process 14 (SOF3)`);
  }
  checkHeader(NAME, header, layout); // before the decoder allocates width x height samples
  if (header.precision < 2 || header.precision > 16) throw undecodable(NAME, `${header.precision}-bit samples`);
  if (header.precision > 8 && layout.bitsAllocated <= 8) {
    throw undecodable(NAME, `${header.precision}-bit samples do not fit Bits Allocated ${layout.bitsAllocated}`);
  }
  // A cut-short stream would decode with its missing rows as zeros: refused before any decoding.
  if (!endsWithEoi(bytes)) cutShort(NAME);

  const current = load();
  const { codecs, Context } = await current;
  messages.length = 0;
  const wide = header.precision > 8;
  let decoded: InstanceType<Package['Context']>;
  try {
    decoded = codecs.decodeJpeg(
      new Context({
        width: layout.columns,
        height: layout.rows,
        // The stream's precision picks the 8-, 12- or 16-bit decoder; Bits Stored is applied afterwards by pixels.ts.
        bitsAllocated: wide ? 16 : 8,
        bitsStored: header.precision,
        samplesPerPixel: layout.samplesPerPixel,
        pixelRepresentation: 0,
        planarConfiguration: 0,
        photometricInterpretation: layout.samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2',
        encodedBuffer: bytes,
      }),
      { convertColorspaceToRgb: false },
    );
  } catch (error) {
    // The decoder stops by throwing through the WASM stack: what it had allocated stays allocated, so this instance
    // is retired and the next frame gets a fresh one.
    if (instance === current) instance = undefined;
    const reason = error instanceof Error ? error.message : String(error);
    const last = said().at(-1);
    throw undecodable(NAME, last && !reason.includes(last) ? `${reason} (${last})` : reason);
  }
  const damage = said().find((m) => DAMAGED.test(m));
  if (damage) throw undecodable(NAME, `the codestream is damaged: ${damage}`);
  checkShape(
    NAME,
    { width: decoded.getWidth() ?? 0, height: decoded.getHeight() ?? 0, components: decoded.getSamplesPerPixel() ?? 0 },
    layout,
  );
  const out = decoded.getDecodedBuffer() ?? new Uint8Array(0);
  const expected = layout.rows * layout.columns * layout.samplesPerPixel * (wide ? 2 : 1);
  if (out.length !== expected) {
    throw undecodable(NAME, `the decoder returned ${out.length} bytes; ${expected} expected`);
  }
  // Lossless JPEG codes the stored bit patterns; two's complement is restored from Pixel Representation later.
  const samples = copySamples(out, wide ? 16 : 8, false);
  // An 8-bit stream in 16-bit words (Bits Allocated 16) comes back as 16-bit samples, as the words would hold them.
  return { samples: !wide && layout.bitsAllocated > 8 ? Uint16Array.from(samples) : samples };
}

export async function loadJpegLossless(): Promise<FrameDecoder> {
  await load();
  return decodeJpegLossless;
}
