import { test } from "node:test";
import assert from "node:assert/strict";
import { checkLabelled, LabelledMatrix, oneHot, oneHotRows } from "./labelled";

const set = (rows: number, dim: number, labels: number[], values = rows * dim): LabelledMatrix => ({
  rows,
  dim,
  x: new Float32Array(values),
  labels: Uint8Array.from(labels),
});

test("oneHotRows: a table of labels, chosen rows and classes", () => {
  const cases: { labels: number[]; rows: number[]; k: number; want: number[] }[] = [
    { labels: [0, 2, 1], rows: [0, 1, 2], k: 3, want: [1, 0, 0, 0, 0, 1, 0, 1, 0] },
    { labels: [0, 2, 1], rows: [2, 2], k: 3, want: [0, 1, 0, 0, 1, 0] },
    { labels: [3], rows: [0], k: 4, want: [0, 0, 0, 1] },
    { labels: [1, 0], rows: [], k: 2, want: [] },
  ];
  for (const c of cases)
    assert.deepEqual(Array.from(oneHotRows(Uint8Array.from(c.labels), c.rows, c.k)), c.want, JSON.stringify(c));
});

test("oneHotRows writes at a row offset and clears what was there", () => {
  const out = new Float32Array(3 * 2).fill(7);
  oneHotRows(Uint8Array.from([1, 0]), [0, 1], 2, out, 1);
  assert.deepEqual(Array.from(out), [7, 7, 0, 1, 1, 0]);
});

test("oneHot of a whole set", () => {
  assert.deepEqual(Array.from(oneHot(set(2, 1, [1, 1]), 2)), [0, 1, 0, 1]);
});

test("checkLabelled accepts a good set and names the set and the fault otherwise", () => {
  checkLabelled(set(2, 3, [0, 1]), 2, "train");
  const bad: [LabelledMatrix, RegExp][] = [
    [set(2, 3, [0, 1], 5), /train: x has 5 values, expected 2 rows x 3 inputs$/],
    [set(2, 3, [0]), /train: 1 labels for 2 rows$/],
    [set(2, 3, [0, 2]), /train: row 1 has label 2, expected 0..1$/],
    [set(2, 0, [0, 1], 0), /train: dim must be a positive whole number, got 0$/],
    [set(1.5, 2, [0], 3), /train: rows must be a whole number, got 1.5$/],
  ];
  for (const [m, re] of bad) assert.throws(() => checkLabelled(m, 2, "train"), re);
});
