import { oneHot } from "../../data/labelled";
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend, tf } from "../../runtime/backend";
import { chooseEngine, momentumStep, trainSoftmax, DivergenceError, TrainOptions } from "./gradient-descent";
import { crossEntropy } from "./softmax";
import { separableSet } from "./test-problems";
import { Random } from "../../runtime/random";

before(async () => {
  await initBackend();
});

test("one momentum step equals the step computed by hand", () => {
  // v' = 0.9 v - 0.1 g; w' = w + v'
  const out = momentumStep(
    {
      W: tf.tensor2d([
        [1, 2],
        [3, 4],
      ]),
      b: tf.tensor1d([0.5, -0.5]),
    },
    {
      vW: tf.tensor2d([
        [0.1, 0],
        [-0.2, 1],
      ]),
      vb: tf.tensor1d([1, 0]),
    },
    {
      dW: tf.tensor2d([
        [2, -1],
        [0, 10],
      ]),
      db: tf.tensor1d([3, -4]),
    },
    0.1,
    0.9,
  );
  const close = (got: number[] | number[][], want: number[] | number[][]) =>
    assert.ok(
      got.flat().every((g, i) => Math.abs(g - want.flat()[i]) < 1e-6),
      `${got} vs ${want}`,
    );
  close(out.vW.arraySync(), [
    [0.09 - 0.2, 0.1],
    [-0.18, 0.9 - 1],
  ]);
  close(out.W.arraySync(), [
    [1 - 0.11, 2.1],
    [3 - 0.18, 4 - 0.1],
  ]);
  close(out.vb.arraySync(), [0.9 - 0.3, 0.4]);
  close(out.b.arraySync(), [0.5 + 0.6, -0.5 + 0.4]);
});

const set = separableSet(3, 200, 12, 4);
const opts = (o: Partial<TrainOptions> = {}): TrainOptions => ({
  train: set,
  test: separableSet(4, 100, 12, 4),
  W0: new Random(5).normalArray(4 * 12, 0, 0.1),
  b0: new Float32Array(4),
  learningRate: 0.01,
  momentum: 0,
  batchSize: 50,
  maxIter: 30,
  epsilon: 0,
  seed: 6,
  recordEvery: 10,
  ...o,
});
const fullCost = (W: Float32Array, b: Float32Array) =>
  tf.tidy(
    () =>
      crossEntropy(
        tf.tensor2d(W, [4, 12]),
        tf.tensor2d(set.x, [200, 12]),
        tf.tensor1d(b),
        tf.tensor2d(oneHot(set, 4), [200, 4]),
      ).dataSync()[0],
  );

test("a few iterations on a separable problem lower the cost and raise the accuracy, on both engines", () => {
  for (const [momentum, engine] of [
    [0, "kernel"],
    [0.9, "kernel"],
    [0, "tfjs"],
    [0.9, "tfjs"],
  ] as const) {
    const o = opts({ momentum, engine });
    const r = trainSoftmax(o);
    assert.equal(r.engine, engine);
    assert.equal(r.iterations, 30);
    assert.equal(r.stoppedBy, "maxIter");
    assert.ok(
      fullCost(r.W, r.b) < 0.5 * fullCost(o.W0, o.b0),
      `momentum ${momentum}: ${fullCost(r.W, r.b)} vs ${fullCost(o.W0, o.b0)}`,
    );
    assert.deepEqual(
      r.history.map((h) => h.iteration),
      [0, 10, 20, 30],
    );
    assert.ok(r.history[3].trainAccuracy > 0.95 && r.history[3].testAccuracy > 0.95, JSON.stringify(r.history));
    assert.ok(r.history[0].trainAccuracy < 0.6);
  }
});

test("the kernel and TensorFlow.js engines take the same steps", () => {
  const [a, b] = (["kernel", "tfjs"] as const).map((engine) =>
    trainSoftmax(opts({ engine, momentum: 0.9, maxIter: 40 })),
  );
  assert.equal(a.iterations, b.iterations);
  for (let i = 0; i < a.W.length; i++)
    assert.ok(Math.abs(a.W[i] - b.W[i]) < 1e-5 * (1 + Math.abs(b.W[i])), `W[${i}]: ${a.W[i]} vs ${b.W[i]}`);
  assert.deepEqual(
    a.history.map((h) => h.trainAccuracy),
    b.history.map((h) => h.trainAccuracy),
  );
  // Absolute tolerance: the tfjs cost is sum(max + log s) - sum(y z) in float32, two sums
  // of about 250 that cancel to under 1.
  for (const [h, g] of a.history.map((h, i) => [h, b.history[i]])) {
    assert.ok(
      Number.isNaN(h.batchCost) || Math.abs(h.batchCost - g.batchCost) < 1e-4 * (1 + g.batchCost),
      `${h.batchCost} vs ${g.batchCost}`,
    );
  }
});

test("the engine: auto picks the kernel when it is built and takes the classes, else TensorFlow.js with the reason", () => {
  const table: [Parameters<typeof chooseEngine>, ReturnType<typeof chooseEngine>][] = [
    [["auto", 10], { engine: "kernel" }],
    [["auto", 16], { engine: "kernel" }],
    [["auto", 17], { engine: "tfjs", note: "17 classes (the kernel takes at most 16)" }],
    [
      ["auto", 10, "/nowhere/softmax-kernel.wasm"],
      { engine: "tfjs", note: "/nowhere/softmax-kernel.wasm is not built (npm run build; needs clang and lld)" },
    ],
    [["tfjs", 10], { engine: "tfjs" }],
    [["kernel", 10], { engine: "kernel" }],
  ];
  for (const [args, want] of table) assert.deepEqual(chooseEngine(...args), want, JSON.stringify(args));
});

test("the same seed gives the same weights; another seed does not", () => {
  const a = trainSoftmax(opts({ recordEvery: 0 }));
  const b = trainSoftmax(opts({ recordEvery: 0 }));
  const c = trainSoftmax(opts({ recordEvery: 0, seed: 7 }));
  assert.deepEqual(a.W, b.W);
  assert.notDeepEqual(a.W, c.W);
});

test("the stopping rule ends training when the weight change is at most epsilon", () => {
  const r = trainSoftmax(opts({ epsilon: 1e9, maxIter: 100 }));
  assert.equal(r.stoppedBy, "epsilon");
  assert.equal(r.iterations, 1);
});

test("divergence stops training with the iteration and the learning rate, on both engines", () => {
  for (const engine of ["kernel", "tfjs"] as const) {
    assert.throws(
      () => trainSoftmax(opts({ learningRate: 1e38, maxIter: 50, engine })),
      (e: unknown) =>
        e instanceof DivergenceError &&
        /diverged at iteration \d+ with learning rate 1e\+38/.test(e.message) &&
        e.iteration >= 1,
    );
    // No tensors leak from a failed run.
    const before = tf.memory().numTensors;
    assert.throws(() => trainSoftmax(opts({ learningRate: 1e38, engine })), DivergenceError);
    assert.equal(tf.memory().numTensors, before);
  }
});

test("bad settings are named", () => {
  assert.throws(() => trainSoftmax(opts({ learningRate: -1 })), /learningRate must be a positive number, got -1/);
  assert.throws(() => trainSoftmax(opts({ momentum: 1 })), /momentum must be in \[0, 1\), got 1/);
  assert.throws(() => trainSoftmax(opts({ batchSize: 201 })), /batchSize must be an integer in 1..200, got 201/);
  assert.throws(() => trainSoftmax(opts({ W0: new Float32Array(3) })), /W0 has 3 values, expected 4 x 12/);
  // Labels are the one truth (no one-hot copy to disagree with); one outside 0..k-1 is named.
  const mislabelled = { ...set, labels: Uint8Array.from(set.labels, (l, r) => (r === 7 ? 9 : l)) };
  assert.throws(
    () => trainSoftmax(opts({ train: mislabelled })),
    /trainSoftmax: the training set: row 7 has label 9, expected 0\.\.3/,
  );
  const short = { ...set, rows: set.rows + 1 };
  assert.throws(
    () => trainSoftmax(opts({ train: short })),
    /the training set: x has 2400 values, expected 201 rows x 12 inputs/,
  );
});
