// Runs the Emscripten-built codecs: one instance per process, loaded on first use, failures are UndecodablePixels.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { UndecodablePixels } from '../errors.js';
import type { SampleArray } from '../pixels.js';

/** What these packages' Emscripten factories accept. */
export interface EmscriptenOptions {
  wasmBinary: Uint8Array;
  print: (text: string) => void;
  printErr: (text: string) => void;
}

/**
 * True when this module runs from its TypeScript source (tsx, vitest), false inside an esbuild bundle. Neither Node
 * nor Vite can import a .wasm file, and a Lambda bundle has no node_modules to read it from: so from source the file
 * is read where the package put it, and in a bundle from the copy esbuild's file loader put beside the bundle.
 */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

/**
 * The bytes of a codec's .wasm, read from disk on the codec's first use. `located` is
 * `() => import('./<codec>-wasm.js')`, a module whose only content is the static import of the .wasm, which esbuild's
 * file loader (lib/constructs/function-defaults.ts) turns into the path of the copy it wrote beside the bundle,
 * relative to the bundle; this module is part of that one-file bundle, so its URL resolves the path. It runs only in a
 * bundle: from source nothing imports a .wasm.
 *
 * Files rather than bytes embedded in the bundle (esbuild's binary loader, the scheme until the 4.1 MB dcmjs-codecs
 * build came): an embedded .wasm is a base64 string literal that V8 scans at every cold start, whether or not a frame
 * ever needs the codec. Measured (docs/performance.md, "Bundles"; median module init of fresh processes, the variants
 * interleaved): the processor's init went 202 -> 166 ms with the dcmjs-codecs .wasm as a file and -> 151 ms with all
 * five; png's 199 -> 160 -> 150 ms. The four small ones (0.15-0.3 MB each) are worth 10-15 ms together, so they moved
 * too and one scheme serves all. A first use reads the file instead of decoding base64: JPEG Lossless starts in 62 ms
 * instead of 87, the others in 15-21 ms either way.
 */
export async function wasmBinary(specifier: string, located: () => Promise<{ default: string }>): Promise<Uint8Array> {
  const file = FROM_SOURCE
    ? createRequire(import.meta.url).resolve(specifier)
    : new URL((await located()).default, import.meta.url);
  const bytes = await readFile(file);
  // A view of the Buffer's memory rather than a copy of up to 4 MB.
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** What a codec's output says about itself, to check against the DICOM Image Pixel module. */
export interface FrameShape {
  width: number;
  height: number;
  components: number;
}

/** PIXEL_DATA_CORRUPT for a frame the codec could not decode, naming the codec and the reason. */
export function undecodable(codec: string, reason: string): UndecodablePixels {
  return new UndecodablePixels(`${codec} cannot decode the frame: ${reason}`, 'PIXEL_DATA_CORRUPT');
}

/** Rejects codec output whose size disagrees with Rows, Columns and Samples per Pixel. */
export function checkShape(
  codec: string,
  actual: FrameShape,
  expected: { rows: number; columns: number; samplesPerPixel: number },
): void {
  if (
    actual.width !== expected.columns ||
    actual.height !== expected.rows ||
    actual.components !== expected.samplesPerPixel
  ) {
    throw undecodable(
      codec,
      `the codestream holds ${actual.width} x ${actual.height} pixels of ${actual.components} component(s); ` +
        `the DICOM attributes say ${expected.columns} x ${expected.rows} of ${expected.samplesPerPixel}`,
    );
  }
}

/**
 * Copies decoded bytes off the WASM heap (a later call may move or reuse it) into samples: one byte each up to 8
 * bits, else little-endian 16-bit words. Signed when the codestream says so; BitsStored and Pixel Representation
 * are applied afterwards by pixels.ts either way.
 */
export function copySamples(heapView: Uint8Array, bitsPerSample: number, signed: boolean): SampleArray {
  // The copy constructor, not slice(): some builds hand out Uint8ClampedArray views, and slice() keeps that type.
  const bytes = new Uint8Array(heapView);
  if (bitsPerSample <= 8) return signed ? new Int8Array(bytes.buffer) : bytes;
  const words = Math.floor(bytes.length / 2);
  return signed ? new Int16Array(bytes.buffer, 0, words) : new Uint16Array(bytes.buffer, 0, words);
}

function errorName(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
}

/** Emscripten's exit() throws an ExitStatus (libjpeg's error_exit ends up there). */
function isEmscriptenExit(error: unknown): boolean {
  return errorName(error) === 'ExitStatus';
}

/** WebAssembly.RuntimeError: abort(), unreachable, out-of-bounds memory (the lib typings lack the value). */
function isWasmTrap(error: unknown): boolean {
  return error instanceof Error && errorName(error) === 'RuntimeError';
}

/** Keeps the last lines a module printed to stderr: codecs explain their errors there before they throw or exit. */
class Stderr {
  private lines: string[] = [];
  readonly write = (text: string): void => {
    this.lines.push(text);
    if (this.lines.length > 8) this.lines.shift();
  };
  take(): string {
    const text = this.lines
      .map((l) => l.trim())
      .filter(Boolean)
      .join('; ');
    this.lines = [];
    return text;
  }
}

/**
 * One Emscripten module, instantiated on first use and shared by every later call in the process. A decode that
 * aborts the module (WebAssembly.RuntimeError), exits it (libjpeg's error_exit) or throws a C++ exception retires
 * the instance, so the next call starts from a clean heap instead of a possibly corrupted one.
 */
export class WasmModule<M> {
  private instance: Promise<M> | undefined;
  private readonly stderr = new Stderr();

  constructor(
    /** Names the codec in error messages, e.g. "CharLS (JPEG-LS)". */
    readonly name: string,
    private readonly instantiate: (options: EmscriptenOptions) => Promise<M>,
    private readonly binary: () => Promise<Uint8Array>,
    /** Turns a thrown C++ exception (a heap pointer) into its message, where the module can. */
    private readonly exceptionMessage?: (module: M, pointer: number) => string | undefined,
  ) {}

  /** The shared instance (created on the first call). */
  load(): Promise<M> {
    if (!this.instance) {
      const starting = this.binary().then((wasmBinary) =>
        this.instantiate({ wasmBinary, print: () => undefined, printErr: this.stderr.write }),
      );
      // A failed start is retried by the next call rather than cached.
      starting.catch(() => {
        if (this.instance === starting) this.instance = undefined;
      });
      this.instance = starting;
    }
    return this.instance;
  }

  /** True once the module has been asked for (the codec was needed). */
  get started(): boolean {
    return this.instance !== undefined;
  }

  /**
   * Runs `work` against the instance; anything it throws comes out as UndecodablePixels with the codec's reason.
   * `printed()` gives what the codec wrote to stderr meanwhile (OpenJPEG explains failures there and returns nothing).
   */
  async run<T>(work: (module: M, printed: () => string) => T): Promise<T> {
    const module = await this.load();
    const exitCode = process.exitCode;
    this.stderr.take();
    try {
      return work(module, () => this.stderr.take());
    } catch (error) {
      if (error instanceof UndecodablePixels) throw error;
      throw undecodable(this.name, this.describe(module, error));
    } finally {
      // Emscripten's exit() sets process.exitCode before it throws: a corrupt image must not fail the process.
      process.exitCode = exitCode;
    }
  }

  private describe(module: M, error: unknown): string {
    const printed = this.stderr.take();
    const wasmFailure = isWasmTrap(error) || isEmscriptenExit(error) || typeof error === 'number';
    if (wasmFailure) this.instance = undefined;
    if (typeof error === 'number') {
      let message: string | undefined;
      try {
        message = this.exceptionMessage?.(module, error);
      } catch {
        message = undefined;
      }
      return message || printed || `the codec failed (C++ exception ${error})`;
    }
    if (isEmscriptenExit(error)) return printed || 'the codec stopped on an error';
    const message = error instanceof Error ? error.message : String(error);
    return printed ? `${printed} (${message})` : message;
  }
}

/** Runs `work` with a C++ object and frees it afterwards (embind objects are not garbage collected). */
export function using<D extends { delete(): void }, T>(object: D, work: (object: D) => T): T {
  try {
    return work(object);
  } finally {
    try {
      object.delete();
    } catch {
      // The module aborted: its heap is gone with it.
    }
  }
}
