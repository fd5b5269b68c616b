/**
 * From verified image bytes to the three crops the report uses: decode (JPEGs on the
 * WebAssembly port of jimp's JPEG decoder, jpeg/jpeg-wasm.ts, with the same bytes; everything
 * else, and any JPEG it declines, with jimp), cut out
 * the list's bounding box, then resample to greyscale 32x32 and 64x64 and colour
 * 227x227. Resampling is separable: area averaging when shrinking (a face cut from an
 * 18-megapixel photo must not alias into noise at 32x32), linear interpolation when
 * enlarging (thumbnails smaller than 227 pixels).
 */
import { Jimp } from "jimp";
import { decodeJpegFast } from "./jpeg/jpeg-wasm";

export type CropKind = "grey32" | "grey64" | "rgb227";
export const CROP_KINDS: readonly CropKind[] = ["grey32", "grey64", "rgb227"];
export const CROP_SHAPE: Record<CropKind, { size: number; channels: 1 | 3 }> = {
  grey32: { size: 32, channels: 1 },
  grey64: { size: 64, channels: 1 },
  rgb227: { size: 227, channels: 3 },
};

export class ImageRejection extends Error {
  constructor(
    readonly reason: "undecodable" | "bbox-outside" | "too-many-pixels",
    message: string,
  ) {
    super(message);
  }
}

/**
 * The most pixels decoded from one image: 50 megapixels is 200 MB of RGBA, over twice
 * the largest original in the FaceScrub mirror (4274x4293, 18 MP). The declared size is read from the header and
 * checked before any decoding, so a small file declaring 30000x30000 costs nothing.
 */
export const MAX_PIXELS = 50_000_000;

export interface Crops {
  width: number;
  height: number;
  /** Bytes 0..255: grey row-major, rgb HWC interleaved. */
  crops: Record<CropKind, Uint8Array>;
  ms: { decode: number; crop: number; resize: number };
}

export interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * A PNG cut at the end of its IEND chunk. Some originals carry junk after IEND (one
 * FaceScrub PNG has 300 KB of it); browsers ignore it, but jimp's PNG decoder refuses the
 * whole file. Anything else is returned unchanged.
 */
export function trimPngTrailer(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 8 || PNG_SIGNATURE.some((v, i) => bytes[i] !== v)) return bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let i = 8;
  while (i + 12 <= bytes.length) {
    const len = view.getUint32(i);
    const type = String.fromCharCode(bytes[i + 4], bytes[i + 5], bytes[i + 6], bytes[i + 7]);
    const end = i + 12 + len;
    if (type === "IEND") return end <= bytes.length ? bytes.subarray(0, end) : bytes;
    i = end;
  }
  return bytes;
}

export interface DeclaredSize {
  format: "png" | "jpeg" | "gif" | "bmp";
  width: number;
  height: number;
}

/**
 * The width and height an image's header declares, read without decoding: PNG's IHDR,
 * JPEG's first start-of-frame segment, GIF's logical screen, BMP's info header. Null when
 * the format is none of these or the header is cut short.
 */
export function declaredSize(b: Uint8Array): DeclaredSize | null {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length >= 24 && PNG_SIGNATURE.every((v, i) => b[i] === v)) {
    return { format: "png", width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    // Segments: FF <marker> <16-bit length including itself> <payload>; SOFn holds height, width.
    let i = 2;
    while (i + 4 <= b.length) {
      if (b[i] !== 0xff) return null;
      const marker = b[i + 1];
      if (marker === 0xff) {
        i++; // fill byte
        continue;
      }
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        i += 2; // markers without a length
        continue;
      }
      const len = view.getUint16(i + 2);
      const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
      if (isSof) {
        if (i + 9 > b.length) return null;
        return { format: "jpeg", height: view.getUint16(i + 5), width: view.getUint16(i + 7) };
      }
      if (marker === 0xd9 || marker === 0xda) return null; // end of image or start of scan before any frame header
      i += 2 + len;
    }
    return null;
  }
  if (b.length >= 10 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) {
    return { format: "gif", width: view.getUint16(6, true), height: view.getUint16(8, true) };
  }
  if (b.length >= 26 && b[0] === 0x42 && b[1] === 0x4d) {
    return { format: "bmp", width: Math.abs(view.getInt32(18, true)), height: Math.abs(view.getInt32(22, true)) };
  }
  return null;
}

/**
 * Refuses, before decoding, an image whose header declares more than `maxPixels` pixels, or
 * whose size cannot be read from a header at all (a format the decoder would have to guess at).
 */
export function checkDeclaredSize(bytes: Uint8Array, maxPixels = MAX_PIXELS): DeclaredSize {
  const size = declaredSize(bytes);
  if (!size) throw new ImageRejection("undecodable", "not a PNG, JPEG, GIF or BMP with a readable header");
  const pixels = size.width * size.height;
  if (pixels > maxPixels) {
    throw new ImageRejection(
      "too-many-pixels",
      `${size.format.toUpperCase()} header declares ${size.width}x${size.height} (${pixels.toLocaleString("en")} pixels), more than the limit of ${maxPixels.toLocaleString("en")}; not decoded`,
    );
  }
  return size;
}

export async function decodeImage(input: Uint8Array, maxPixels = MAX_PIXELS): Promise<Rgba> {
  checkDeclaredSize(input, maxPixels);
  const bytes = trimPngTrailer(input);
  const fast = decodeJpegFast(bytes);
  if (fast) return fast;
  let img: { bitmap: { width: number; height: number; data: Buffer } };
  try {
    img = (await Jimp.fromBuffer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))) as typeof img;
  } catch (e) {
    throw new ImageRejection("undecodable", `image could not be decoded: ${String((e as Error).message ?? e).split("\n")[0]}`);
  }
  const { width, height, data } = img.bitmap;
  if (!(width > 0 && height > 0) || data.length < width * height * 4) {
    throw new ImageRejection("undecodable", `decoded image is empty or short (${width}x${height}, ${data.length} bytes)`);
  }
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** The bbox region as planar float RGB. The box must lie inside the image: a box outside means the list row is for another file. */
export function cropRgb(img: Rgba, bbox: readonly [number, number, number, number]): { w: number; h: number; rgb: Float32Array[] } {
  const [x1, y1, x2, y2] = bbox;
  if (x1 < 0 || y1 < 0 || x2 > img.width || y2 > img.height || x2 <= x1 || y2 <= y1) {
    throw new ImageRejection("bbox-outside", `bounding box ${bbox.join(",")} is not inside the ${img.width}x${img.height} image`);
  }
  const w = x2 - x1;
  const h = y2 - y1;
  const rgb = [new Float32Array(w * h), new Float32Array(w * h), new Float32Array(w * h)];
  for (let y = 0; y < h; y++) {
    let src = ((y1 + y) * img.width + x1) * 4;
    const row = y * w;
    for (let x = 0; x < w; x++, src += 4) {
      rgb[0][row + x] = img.data[src];
      rgb[1][row + x] = img.data[src + 1];
      rgb[2][row + x] = img.data[src + 2];
    }
  }
  return { w, h, rgb };
}

/** Sparse 1-D resampling weights: for each output index, source indices and weights summing to 1. */
export function resampleWeights(inSize: number, outSize: number): { idx: Int32Array[]; w: Float32Array[] } {
  const idx: Int32Array[] = [];
  const w: Float32Array[] = [];
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const is: number[] = [];
    const ws: number[] = [];
    if (scale >= 1) {
      // Output pixel o covers source interval [o*scale, (o+1)*scale): weight = overlap length.
      const a = o * scale;
      const b = a + scale;
      for (let i = Math.floor(a); i < Math.min(inSize, Math.ceil(b)); i++) {
        const overlap = Math.min(b, i + 1) - Math.max(a, i);
        if (overlap > 1e-9) {
          is.push(i);
          ws.push(overlap / scale);
        }
      }
    } else {
      const c = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), inSize - 1);
      const i0 = Math.floor(c);
      const f = c - i0;
      is.push(i0);
      ws.push(1 - f);
      if (f > 0 && i0 + 1 < inSize) {
        is.push(i0 + 1);
        ws.push(f);
      }
    }
    idx.push(Int32Array.from(is));
    w.push(Float32Array.from(ws));
  }
  return { idx, w };
}

/** Resamples one w x h plane to size x size (rows first, then columns). */
export function resizePlane(src: Float32Array, w: number, h: number, size: number): Float32Array {
  const wx = resampleWeights(w, size);
  const wy = resampleWeights(h, size);
  const tmp = new Float32Array(size * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let o = 0; o < size; o++) {
      const is = wx.idx[o];
      const ws = wx.w[o];
      let s = 0;
      for (let k = 0; k < is.length; k++) s += src[row + is[k]] * ws[k];
      tmp[y * size + o] = s;
    }
  }
  const out = new Float32Array(size * size);
  for (let o = 0; o < size; o++) {
    const is = wy.idx[o];
    const ws = wy.w[o];
    for (let x = 0; x < size; x++) {
      let s = 0;
      for (let k = 0; k < is.length; k++) s += tmp[is[k] * size + x] * ws[k];
      out[o * size + x] = s;
    }
  }
  return out;
}

/** Luma weights of skimage's rgb2gray (ITU-R BT.709), which the course's code used. */
const LUMA = [0.2125, 0.7154, 0.0721];

function toByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

export function makeCrops(img: Rgba, bbox: readonly [number, number, number, number], ms = { decode: 0, crop: 0, resize: 0 }): Crops {
  let t = performance.now();
  const { w, h, rgb } = cropRgb(img, bbox);
  ms.crop += performance.now() - t;
  t = performance.now();
  const crops = {} as Record<CropKind, Uint8Array>;
  for (const kind of CROP_KINDS) {
    const { size, channels } = CROP_SHAPE[kind];
    const planes = rgb.map((p) => resizePlane(p, w, h, size));
    const out = new Uint8Array(size * size * channels);
    for (let i = 0; i < size * size; i++) {
      if (channels === 1) out[i] = toByte(LUMA[0] * planes[0][i] + LUMA[1] * planes[1][i] + LUMA[2] * planes[2][i]);
      else for (let c = 0; c < 3; c++) out[i * 3 + c] = toByte(planes[c][i]);
    }
    crops[kind] = out;
  }
  ms.resize += performance.now() - t;
  return { width: img.width, height: img.height, crops, ms };
}

/** Decode, crop and resize one image, timing each stage. Throws ImageRejection for bad images. */
export async function processImage(bytes: Uint8Array, bbox: readonly [number, number, number, number]): Promise<Crops> {
  const t = performance.now();
  const img = await decodeImage(bytes);
  const ms = { decode: performance.now() - t, crop: 0, resize: 0 };
  return makeCrops(img, bbox, ms);
}
