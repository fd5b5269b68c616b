import { test } from "node:test";
import assert from "node:assert/strict";
import { Random } from "../../../runtime/random";
import { trainSoftmax } from "../gradient-descent";
import { canShare, defaultThreads, startHalfHelper } from "./softmax-helper";
import { SoftmaxKernel } from "./softmax-kernel";
import { sparseSet } from "../test-problems";

const k = 10,
  d = 60;
const shared = sparseSet(11, 300, d, k, 0.25, true);
const init = () => {
  const rng = new Random(12);
  return { W0: rng.normalArray(k * d, 0, 0.1), b0: rng.normalArray(k, 0, 0.1) };
};

test("which sets a helper thread can read without a copy", () => {
  const plain = sparseSet(1, 4, 3, 2, 0.5);
  const table: [string, Parameters<typeof canShare>[0], boolean][] = [
    ["plain arrays", plain, false],
    ["shared images and labels", sparseSet(1, 4, 3, 2, 0.5, true), true],
    ["shared images, plain labels", { ...sparseSet(1, 4, 3, 2, 0.5, true), labels: plain.labels }, false],
  ];
  for (const [what, set, want] of table) assert.equal(canShare(set), want, what);
  assert.equal(defaultThreads(plain), 1);
});

test("two threads give bit-identical gradients and steps to one thread", () => {
  const { W0, b0 } = init();
  const order = new Random(13).permutation(shared.rows);
  const one = new SoftmaxKernel(shared, k, 101, W0, b0);
  const two = new SoftmaxKernel(shared, k, 101, W0, b0, { helper: startHalfHelper(shared, k, 101) });
  try {
    assert.equal(two.threads, 2);
    // An odd minibatch (51 + 50 rows), then a minibatch of one row (no second half).
    for (const [start, end] of [
      [0, 101],
      [7, 8],
    ])
      assert.deepEqual(two.gradient(order, start, end), one.gradient(order, start, end));
    for (let i = 0; i < 6; i++) {
      const start = (i % 2) * 101;
      assert.deepEqual(two.step(order, start, start + 101, 0.05, 0.9), one.step(order, start, start + 101, 0.05, 0.9));
    }
    assert.deepEqual(two.weights(), one.weights());
  } finally {
    two.dispose();
  }
});

test("trainSoftmax: the same weights on one and two threads", () => {
  const { W0, b0 } = init();
  const o = {
    train: shared,
    W0,
    b0,
    learningRate: 0.01,
    momentum: 0.9,
    batchSize: 50,
    maxIter: 20,
    epsilon: 0,
    seed: 3,
    recordEvery: 0,
    engine: "kernel" as const,
  };
  const a = trainSoftmax({ ...o, threads: 1 }),
    b = trainSoftmax({ ...o, threads: 2 });
  assert.deepEqual(a.W, b.W);
  assert.deepEqual(a.b, b.b);
  assert.throws(
    () => trainSoftmax({ ...o, train: sparseSet(1, 60, d, k, 0.3), threads: 2 }),
    /threads 2 needs a set in SharedArrayBuffers/,
  );
});

test("errors in the helper thread come back with its message, at start-up and during a step", () => {
  assert.throws(() => startHalfHelper(sparseSet(1, 4, 3, 2, 0.5), 2, 4), /must be in SharedArrayBuffers/);
  assert.throws(
    () => startHalfHelper(shared, k, 10, { file: "/nowhere/softmax-kernel.wasm" }),
    /softmax kernel helper thread: softmax kernel: \/nowhere\/softmax-kernel.wasm is missing/,
  );
  // A thread that does not answer in time (here: at once) is stopped and reported.
  assert.throws(
    () => startHalfHelper(shared, k, 10, { timeoutMs: 0 }),
    /softmax kernel helper thread: no answer at start-up within 0 ms/,
  );
  const { W0, b0 } = init();
  const kernel = new SoftmaxKernel(shared, k, 10, W0, b0, { helper: startHalfHelper(shared, k, 10) });
  try {
    // Row 999 is in the second half, which the helper does.
    assert.throws(
      () => kernel.gradient([0, 1, 2, 3, 4, 5, 6, 7, 8, 999]),
      /softmax kernel helper thread: SoftmaxKernel: row 999 is outside the set \(0..299\)/,
    );
  } finally {
    kernel.dispose();
  }
});
