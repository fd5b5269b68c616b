import { test } from "node:test";
import assert from "node:assert/strict";
import { formatNpy, parseNpy } from "./npy";

// Headers exactly as numpy 1.24's np.save writes them (magic + header padded to 128 bytes).
const NUMPY_HEADERS: { shape: number[]; header: string }[] = [
  { shape: [2, 3], header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" },
  { shape: [1], header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }" },
];

function numpyBytes(header: string, values: number[], major = 1): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  const total = Math.ceil((pre + header.length + 1) / 64) * 64;
  const padded = header.padEnd(total - pre - 1, " ") + "\n";
  const buf = Buffer.alloc(pre + padded.length + values.length * 4);
  buf.write("\x93NUMPY", 0, "latin1");
  buf[6] = major;
  if (major === 1) buf.writeUInt16LE(padded.length, 8);
  else buf.writeUInt32LE(padded.length, 8);
  buf.write(padded, pre, "latin1");
  values.forEach((v, i) => buf.writeFloatLE(v, pre + padded.length + i * 4));
  return buf;
}

test("formatNpy writes the same bytes as numpy.save", () => {
  for (const { shape, header } of NUMPY_HEADERS) {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: n }, (_, i) => i + 0.5);
    const ours = formatNpy({ shape, data: Float32Array.from(values) });
    assert.deepEqual(Buffer.from(ours), Buffer.from(numpyBytes(header, values)));
    assert.equal((ours.length - n * 4) % 64, 0);
  }
});

test("parseNpy reads format versions 1 and 2", () => {
  for (const major of [1, 2]) {
    const arr = parseNpy(numpyBytes(NUMPY_HEADERS[0].header, [0, 1, 2, 3, 4, 5], major));
    assert.deepEqual(arr.shape, [2, 3]);
    assert.deepEqual(Array.from(arr.data), [0, 1, 2, 3, 4, 5]);
  }
});

test("round trip keeps shape and values, including a 0-d array", () => {
  for (const shape of [[3, 1, 2], [4], []]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i + 1) * 1e3));
    const back = parseNpy(formatNpy({ shape, data }));
    assert.deepEqual(back.shape, shape);
    assert.deepEqual(back.data, data);
  }
});

const BAD: { name: string; bytes: () => Uint8Array; message: RegExp }[] = [
  { name: "not npy", bytes: () => Buffer.from("PK\x03\x04 a zip file"), message: /w\.npy: not a \.npy file/ },
  {
    name: "float64",
    bytes: () => numpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", [0, 0]),
    message: /dtype <f8 is not little-endian float32/,
  },
  {
    name: "fortran order",
    bytes: () => numpyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", [0]),
    message: /Fortran-ordered/,
  },
  {
    name: "truncated data",
    bytes: () => numpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", [0, 1, 2]),
    message: /needs 24 data bytes but the file has 12/,
  },
  { name: "unknown version", bytes: () => numpyBytes(NUMPY_HEADERS[1].header, [0], 7), message: /version 7/ },
  { name: "no shape", bytes: () => numpyBytes("{'descr': '<f4'}", []), message: /malformed \.npy header/ },
];

for (const bad of BAD) {
  test(`parseNpy rejects ${bad.name} naming the file`, () => {
    assert.throws(() => parseNpy(bad.bytes(), "w.npy"), bad.message);
  });
}
