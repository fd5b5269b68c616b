/**
 * NumPy .npy files (format versions 1-3), float32 only: the format the AlexNet
 * converter writes, chosen because numpy writes it without pickle and it is a
 * ten-line header plus raw little-endian bytes that JS can read directly.
 * https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
import * as fs from "fs";

export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

const MAGIC = "\x93NUMPY";

/** Parses a .npy buffer; `source` names the file in error messages. */
export function parseNpy(buf: Uint8Array, source = "<buffer>"): NpyArray {
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (bytes.length < 10 || bytes.toString("latin1", 0, 6) !== MAGIC) {
    throw new Error(`${source}: not a .npy file (missing the \\x93NUMPY magic bytes)`);
  }
  const major = bytes[6];
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = bytes.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new Error(`${source}: truncated .npy header`);
    headerLen = bytes.readUInt32LE(8);
    headerStart = 12;
  } else {
    throw new Error(`${source}: unsupported .npy format version ${major}`);
  }
  if (headerStart + headerLen > bytes.length) throw new Error(`${source}: truncated .npy header`);
  const header = bytes.toString("latin1", headerStart, headerStart + headerLen);
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new Error(`${source}: malformed .npy header ${JSON.stringify(header.trim())}`);
  }
  if (descr !== "<f4") {
    throw new Error(`${source}: dtype ${descr} is not little-endian float32 ('<f4'); convert with arr.astype('<f4')`);
  }
  if (fortran === "True") {
    throw new Error(`${source}: Fortran-ordered array; save np.ascontiguousarray(arr) instead`);
  }
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${source}: bad shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLen;
  const expected = count * 4;
  if (bytes.length - dataStart !== expected) {
    throw new Error(
      `${source}: shape [${shape}] needs ${expected} data bytes but the file has ${bytes.length - dataStart} (truncated or corrupt)`,
    );
  }
  // Copy so the result is aligned and independent of the file buffer.
  const data = new Float32Array(count);
  new Uint8Array(data.buffer).set(bytes.subarray(dataStart, dataStart + expected));
  return { shape, data };
}

/** Serialises a float32 array as .npy version 1.0, byte-identical to numpy.save. */
export function formatNpy(arr: NpyArray): Uint8Array {
  const count = arr.shape.reduce((a, b) => a * b, 1);
  if (count !== arr.data.length)
    throw new Error(`formatNpy: shape [${arr.shape}] does not match ${arr.data.length} values`);
  const shape = arr.shape.length === 1 ? `(${arr.shape[0]},)` : `(${arr.shape.join(", ")})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  // numpy pads with spaces so that magic + header is a multiple of 64 bytes, ending in \n.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, " ") + "\n";
  const out = new Uint8Array(10 + header.length + count * 4);
  out.set(Buffer.from(MAGIC, "latin1"), 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, "latin1"), 10);
  out.set(new Uint8Array(arr.data.buffer, arr.data.byteOffset, count * 4), 10 + header.length);
  return out;
}

export function readNpy(file: string): NpyArray {
  return parseNpy(fs.readFileSync(file), file);
}
