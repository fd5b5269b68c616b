import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeIdx, parseIdx, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from "./idx";

test("parses a 2x2x2 images file", () => {
  const bytes = encodeIdx(IDX_IMAGES_MAGIC, [2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 255]);
  const a = parseIdx(bytes, "x", IDX_IMAGES_MAGIC);
  assert.deepEqual(a.dims, [2, 2, 2]);
  assert.deepEqual(Array.from(a.data), [0, 1, 2, 3, 4, 5, 6, 255]);
});

test("faults are named with the file", () => {
  const good = encodeIdx(IDX_LABELS_MAGIC, [3], [1, 2, 3]);
  const cases: [Uint8Array, number, RegExp][] = [
    [good.subarray(0, 2), IDX_LABELS_MAGIC, /f: truncated: 2 bytes/],
    [good, IDX_IMAGES_MAGIC, /f: wrong magic number 2049 \(0x801\), expected 2051 for an images file/],
    [good.subarray(0, 6), IDX_LABELS_MAGIC, /f: truncated header: 6 bytes, need 8/],
    [good.subarray(0, 10), IDX_LABELS_MAGIC, /f: truncated data: header promises 3 = 3 bytes, file holds 2/],
    [Buffer.concat([good, Buffer.from([9])]), IDX_LABELS_MAGIC, /f: 1 unexpected bytes after the 3 data/],
  ];
  for (const [bytes, magic, re] of cases) assert.throws(() => parseIdx(bytes, "f", magic), re);
});
