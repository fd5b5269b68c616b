/**
 * JPEG decoding on the WebAssembly port of jpeg-js (jpeg-decoder.c): the same RGBA bytes
 * jimp 1.6.1 gives for the same file, byte for byte, several times faster. Used by
 * face-image.ts's decodeImage, so by the FaceScrub pipeline of notebooks 08-10.
 *
 * Only the files for which jimp's result is exactly jpeg-js's decode with its default
 * options are taken here: bytes that file-type (jimp's format detection) calls image/jpeg,
 * with no EXIF orientation that jimp would apply (read with the exif-parser jimp itself uses),
 * and that the kernel accepts (baseline, extended and progressive frames, 8-bit precision, 1,
 * 3 or Adobe 4 components, a clean entropy-coded stream). Everything else, and the case of a kernel that
 * was not built, returns null and the caller decodes with jimp, so its pixels, its rotation
 * and its error messages are unchanged.
 */
import * as fs from "fs";
import { createRequire } from "module";
import { compileWasmKernel, wasmKernelPath } from "../../runtime/wasm";

export interface DecodedJpeg {
  width: number;
  height: number;
  /** RGBA, 4 bytes a pixel, row-major. */
  data: Uint8Array;
}

/** Why jpeg_decode declined an image (its nonzero return codes). */
export const DECLINED = {
  1: "structure not ported (a segment jpeg-js would reject or recover from)",
  2: "(unused: progressive frames are decoded)",
  3: "entropy-coded data running into a marker or the end, or an invalid Huffman code",
  4: "over jpeg-js's limits (maxMemoryUsageInMB 512, maxResolutionInMP 100)",
  5: "component count jimp cannot give as RGBA (not 1, 3, or 4 with an Adobe segment)",
  6: "the kernel's memory could not grow",
  7: "a Huffman table jpeg-js would refuse",
} as const;

interface JpegExports {
  memory: WebAssembly.Memory;
  jpeg_input(bytes: number): number;
  jpeg_decode(): number;
  jpeg_output(): number;
  jpeg_width(): number;
  jpeg_height(): number;
  jpeg_use_simd(on: number): void;
}

/** Where scripts/build-wasm.mjs puts the compiled decoder. */
export function jpegKernelPath(): string {
  return wasmKernelPath("data", "jpeg", "jpeg-decoder.wasm");
}

/**
 * After an image that grew the memory past this, the instance is dropped so a worker does not
 * keep it for the rest of its life. An 18-megapixel 4:2:0 photo needs about 260 MB (its
 * coefficients as jpeg-js keeps them, 32 bits each, the planes and the RGBA); keeping that
 * saves refaulting it for the next large photo.
 */
const KEEP_MEMORY_BYTES = 512 * 1024 * 1024;

let instance: JpegExports | null = null;

function kernel(): JpegExports | null {
  if (instance) return instance;
  const file = jpegKernelPath();
  if (!fs.existsSync(file)) return null;
  instance = new WebAssembly.Instance(compileWasmKernel(file, "jpeg decoder"), {}).exports as unknown as JpegExports;
  return instance;
}

/** The exif-parser jimp's core uses (resolved from jimp's own location, so the very same copy). */
let exifParser: { create(b: Buffer): { parse(): { tags?: { Orientation?: unknown } } } } | null = null;
function exif(): NonNullable<typeof exifParser> {
  if (!exifParser) {
    const fromJimp = createRequire(require.resolve("jimp"));
    const fromCore = createRequire(fromJimp.resolve("@jimp/core"));
    exifParser = fromCore("exif-parser") as NonNullable<typeof exifParser>;
  }
  return exifParser;
}

/**
 * True when jimp would rotate or mirror this image after decoding it: its attemptExifRotate
 * parses the EXIF (errors ignored) and transforms for an Orientation tag of 2 to 8. Any
 * Orientation other than absent or 1 counts here, so nothing odd is guessed at.
 */
export function jimpWouldReorient(bytes: Uint8Array): boolean {
  let orientation: unknown;
  try {
    orientation = exif()
      .create(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
      .parse().tags?.Orientation;
  } catch {
    return false; // jimp ignores an EXIF it cannot parse
  }
  return !(orientation === undefined || orientation === 1 || orientation === 0 || orientation === null);
}

/** The bytes start as file-type's image/jpeg does: FF D8 FF, not followed by F7 (JPEG-LS). */
export function looksLikeJimpJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff && bytes[3] !== 0xf7;
}

/**
 * The kernel's answer alone: the image, or the code (a key of DECLINED) saying why not.
 * `simd: false` runs every block through the scalar IDCT (tests compare the two).
 */
export function decodeJpegKernel(bytes: Uint8Array, opts: { simd?: boolean } = {}): DecodedJpeg | number | null {
  const k = kernel();
  if (!k) return null;
  k.jpeg_use_simd(opts.simd === false ? 0 : 1);
  const at = k.jpeg_input(bytes.length);
  if (at === 0) return 6;
  new Uint8Array(k.memory.buffer, at, bytes.length).set(bytes);
  const code = k.jpeg_decode();
  let result: DecodedJpeg | number = code;
  if (code === 0) {
    const width = k.jpeg_width();
    const height = k.jpeg_height();
    const data = new Uint8Array(k.memory.buffer, k.jpeg_output(), width * height * 4).slice();
    result = { width, height, data };
  }
  if (k.memory.buffer.byteLength > KEEP_MEMORY_BYTES) instance = null;
  return result;
}

/**
 * The RGBA pixels jimp would give for `bytes`, or null when jimp must decode them itself
 * (not a JPEG as jimp sees it, an EXIF orientation, anything the kernel declines, or no kernel).
 */
export function decodeJpegFast(bytes: Uint8Array): DecodedJpeg | null {
  if (!looksLikeJimpJpeg(bytes) || jimpWouldReorient(bytes)) return null;
  const r = decodeJpegKernel(bytes);
  return typeof r === "object" ? r : null;
}
