import { test } from "node:test";
import assert from "node:assert/strict";
import { MlpWeights } from "../models/mlp/mlp";
import { meanHidden, percentDifference, rankUnits, tiesAmongFirst, unitInputWeights } from "./hidden-units";

/** A network with the given output weights W2 (hidden x outputs); W1 is the identity on `hidden` inputs. */
function net(W2: number[][]): MlpWeights {
  const hidden = W2.length;
  const outputs = W2[0].length;
  const W1 = new Float32Array(hidden * hidden);
  for (let j = 0; j < hidden; j++) W1[j * hidden + j] = 1;
  return {
    inputSize: hidden,
    hidden,
    outputs,
    activation: "relu",
    W1,
    b1: new Float32Array(hidden),
    W2: Float32Array.from(W2.flat()),
    b2: new Float32Array(outputs),
  };
}

test("percentDifference: the report's formula, and where it saturates at 200%", () => {
  const table: [number, number, number][] = [
    [3, 1, 100], // |3 - 1| / 2
    [1, 1, 0],
    [0, 0, 0],
    [0.001, 0, 200], // one contribution 0: 200% however small the other
    [5, 0, 200],
    [2, -0.5, 200], // opposite signs: always 200%
    [0.0004, -0.0014, 200],
    [0.000782, -0.00477, 200], // exactly: 199.99999999999997 if 100 |a - b| is rounded before the division
  ];
  for (const [a, b, expected] of table) assert.equal(percentDifference(a, b), expected, `${a}, ${b}`);
});

// Units, mean activations over A's and B's training images, output weights into A (label 0) and B (label 2):
//   unit 0: strong, fires for A, weighted towards A:   hA 2,     hB 0.5, wA 1,   wB -1  -> cA 2,      cB -0.5,  200%, separation  3
//   unit 1: near-dead, opposite-sign contributions:    hA 0.001, hB 0.002, wA 0.5, wB -0.4 -> cA 0.0005, cB -0.0008, 200%, separation -0.0009
//   unit 2: fires for B, weighted towards B:           hA 0.2,   hB 1.5,  wA -0.5, wB 1  -> cA -0.1,   cB 1.5,   200%, separation 1.95
//   unit 3: same activation for both (a bias, not a separator): hA 1, hB 1, wA 2, wB 0.5 -> cA 2, cB 0.5, 120%, separation 0
//   unit 4: dead on A's images:                        hA 0,     hB 0.01, wA 0.3, wB 0.2 -> cA 0,      cB 0.002, 200%, separation -0.001
//   unit 5: moderate:                                  hA 1,     hB 0.5,  wA 0.8, wB 0.6 -> cA 0.8,    cB 0.3,   90.9%, separation 0.1
const W2 = [
  [1, 9, -1],
  [0.5, 9, -0.4],
  [-0.5, 9, 1],
  [2, 9, 0.5],
  [0.3, 9, 0.2],
  [0.8, 9, 0.6],
];
const meanA = [2, 0.001, 0.2, 1, 0, 1];
const meanB = [0.5, 0.002, 1.5, 1, 0.01, 0.5];

test("rankUnits: separation ranks strong separators first; the report's score ties four units at 200%, near-dead ones among them", () => {
  const units = rankUnits(net(W2), meanA, meanB, 0, 2);
  assert.deepEqual(
    units.map((u) => u.unit),
    [0, 2, 5, 3, 1, 4],
  );
  assert.deepEqual(
    units.map((u) => Number(u.separation.toFixed(6))),
    [3, 1.95, 0.1, 0, -0.0009, -0.001],
  );
  assert.deepEqual(
    units.map((u) => u.separationRank),
    [1, 2, 3, 4, 5, 6],
  );
  // The report's order: the five 200% units in unit order (a tie), then 120%, then 90.9%.
  const byReport = [...units].sort((a, b) => a.reportRank - b.reportRank);
  assert.deepEqual(
    byReport.map((u) => u.unit),
    [0, 1, 2, 4, 3, 5],
  );
  assert.deepEqual(
    byReport.map((u) => Number(u.percentDifference.toFixed(1))),
    [200, 200, 200, 200, 120, 90.9],
  );
  assert.deepEqual(
    units.map((u) => u.favours),
    ["A", "B", "A", "A", "A", "A"],
  );
  assert.equal(
    tiesAmongFirst(
      byReport.map((u) => u.percentDifference),
      3,
    ),
    3,
  );
  assert.equal(
    tiesAmongFirst(
      units.map((u) => u.separation),
      3,
    ),
    0,
  );
});

test("rankUnits: errors name the mismatch", () => {
  assert.throws(() => rankUnits(net(W2), [1, 2], meanB, 0, 2), /6 hidden units but 2 and 6 mean activations/);
  assert.throws(() => rankUnits(net(W2), meanA, meanB, 0, 3), /label 3 is not an output/);
});

test("meanHidden averages each unit over the rows; unitInputWeights reads a column of W1", () => {
  const w = net([
    [1, 0],
    [0, 1],
  ]);
  // Rows (1, -2) and (3, 4): ReLU gives (1, 0) and (3, 4).
  assert.deepEqual([...meanHidden(w, Float32Array.from([1, -2, 3, 4]), 2)], [2, 2]);
  assert.deepEqual([...unitInputWeights(w, 1)], [0, 1]);
  assert.throws(() => unitInputWeights(w, 2), /unit 2 is not in 0..1/);
});
