import { oneHotRows } from "../../data/labelled";
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { initBackend, tf } from "../../runtime/backend";
import { BatchBuffers } from "./batches";
import { separableSet } from "./test-problems";

after(async () => {
  await tf.setBackend((await initBackend()).name);
});

for (const backend of ["wasm", "cpu"]) {
  test(`fill copies the chosen rows in both layouts (${backend} backend)`, async () => {
    await initBackend();
    await tf.setBackend(backend);
    const set = separableSet(1, 50, 11, 3);
    const bb = new BatchBuffers(9, 11, 3);
    assert.equal(bb.inPlace, backend === "wasm");
    for (const rows of [
      [3, 0, 49, 7, 7, 12, 30, 31, 2],
      [5, 6, 1, 9, 10, 11, 40, 41, 42],
    ]) {
      bb.fill(set, rows);
      const X = bb.X.arraySync() as number[][];
      const XT = bb.XT.arraySync() as number[][];
      const Y = bb.Y.arraySync() as number[][];
      rows.forEach((j, r) => {
        assert.deepEqual(X[r], Array.from(set.x.subarray(j * 11, j * 11 + 11)), `X row ${r}`);
        assert.deepEqual(
          XT.map((col) => col[r]),
          X[r],
          `XT column ${r}`,
        );
        assert.deepEqual(Y[r], Array.from(oneHotRows(set.labels, [j], 3)), `Y row ${r}`);
      });
      // The product a step computes sees the new rows (no stale cached operand).
      const W = tf.eye(3, 11);
      const z = tf.matMul(bb.X, tf.transpose(W)).arraySync() as number[][];
      rows.forEach((j, r) => assert.deepEqual(z[r], Array.from(set.x.subarray(j * 11, j * 11 + 3)), `X W^T row ${r}`));
    }
    bb.fill(set, [4, 8], 0, 2);
    assert.equal(bb.rows, 2);
    assert.deepEqual(bb.X.arraySync()[5], new Array(11).fill(0), "rows past the end are zeroed");
    assert.throws(() => bb.fill(set, [0, 50]), /row 50 is outside the set \(0..49\)/);
    assert.throws(() => bb.fill(set, new Array(10).fill(0)), /10 rows do not fit a batch of 9/);
    bb.dispose();
  });
}
