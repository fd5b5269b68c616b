import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend, tf } from "../../runtime/backend";
import { basicNetwork, crossEntropy, softmaxGradient, autodiffGradient, stableSoftmax } from "./softmax";
import { crossEntropy64, gradient64, problemTensors, maxRelativeDifference } from "./gradient-check";
import { randomProblem } from "./test-problems";

before(async () => {
  await initBackend();
});

test("basicNetwork rows are probabilities equal to the float64 softmax", () => {
  const p = randomProblem(1, 7, 5, 4);
  const t = problemTensors(p);
  const P = basicNetwork(t.W, t.X, t.b).arraySync();
  for (let r = 0; r < p.n; r++) {
    const o = Array.from(
      { length: p.k },
      (_, i) =>
        p.b[i] + Array.from({ length: p.d }, (_, j) => p.W[i * p.d + j] * p.X[r * p.d + j]).reduce((a, c) => a + c),
    );
    const s = o.reduce((a, c) => a + Math.exp(c), 0);
    for (let i = 0; i < p.k; i++) assert.ok(Math.abs(P[r][i] - Math.exp(o[i]) / s) < 1e-6, `row ${r} output ${i}`);
  }
});

test("softmax is stable for outputs that would overflow exp", () => {
  const rows: [number[], number[]][] = [
    [
      [1000, 1000],
      [0.5, 0.5],
    ],
    [
      [1000, 0],
      [1, 0],
    ],
    [
      [-1000, -1000, -1000, -1000],
      [0.25, 0.25, 0.25, 0.25],
    ],
    [
      [100.5, 100],
      [1 / (1 + Math.exp(-0.5)), 1 - 1 / (1 + Math.exp(-0.5))],
    ],
  ];
  for (const [o, want] of rows) {
    const got = stableSoftmax(tf.tensor2d([o])).arraySync()[0];
    got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-6, `softmax(${o}) = ${got}, want ${want}`));
  }
});

test("crossEntropy equals the float64 reference and stays finite for a confident wrong answer", () => {
  for (const seed of [2, 3, 4]) {
    const p = randomProblem(seed, 20, 6, 4);
    const t = problemTensors(p);
    const c = crossEntropy(t.W, t.X, t.b, t.Y).dataSync()[0];
    const want = crossEntropy64(p);
    assert.ok(Math.abs(c - want) / want < 1e-5, `seed ${seed}: ${c} vs ${want}`);
  }
  const c = crossEntropy(
    tf.tensor2d([[200], [-200]]),
    tf.tensor2d([[1]]),
    tf.tensor1d([0, 0]),
    tf.tensor2d([[0, 1]]),
  ).dataSync()[0];
  assert.ok(Math.abs(c - 400) < 1e-3, `cost of a 400-logit mistake is ${c}`);
});

test("hand-written gradient equals the float64 reference and tf.grad, with and without X^T", () => {
  for (const [seed, n, d, k] of [
    [5, 20, 6, 4],
    [6, 13, 9, 3],
    [7, 50, 30, 10],
  ]) {
    const p = randomProblem(seed, n, d, k);
    const want = gradient64(p);
    const t = problemTensors(p);
    const hand = softmaxGradient(t.W, t.X, t.b, t.Y);
    const handT = softmaxGradient(t.W, t.X, t.b, t.Y, tf.transpose(t.X) as tf.Tensor2D);
    const auto = autodiffGradient(t.W, t.X, t.b, t.Y);
    for (const [name, g] of [
      ["hand", hand],
      ["hand with X^T", handT],
      ["tf.grad", auto],
    ] as const) {
      assert.deepEqual(g.dW.shape, [k, d]);
      assert.ok(maxRelativeDifference(g.dW.dataSync(), want.dW) < 1e-4, `${name} dW, seed ${seed}`);
      assert.ok(maxRelativeDifference(g.db.dataSync(), want.db) < 1e-4, `${name} db, seed ${seed}`);
    }
    assert.ok(maxRelativeDifference(hand.dW.dataSync(), auto.dW.dataSync()) < 1e-4);
  }
});

test("shape mistakes are named", () => {
  const W = tf.zeros([10, 784]) as tf.Tensor2D;
  assert.throws(
    () => basicNetwork(W, tf.zeros([3, 783]) as tf.Tensor2D, tf.zeros([10]) as tf.Tensor1D),
    /X has 783 inputs per example but W expects 784/,
  );
  assert.throws(
    () => basicNetwork(W, tf.zeros([3, 784]) as tf.Tensor2D, tf.zeros([9]) as tf.Tensor1D),
    /b must have 10 entries/,
  );
  assert.throws(
    () =>
      crossEntropy(
        W,
        tf.zeros([3, 784]) as tf.Tensor2D,
        tf.zeros([10]) as tf.Tensor1D,
        tf.zeros([3, 9]) as tf.Tensor2D,
      ),
    /Y must be \[3, 10\]/,
  );
});
