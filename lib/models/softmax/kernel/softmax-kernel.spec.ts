import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Random } from "../../../runtime/random";
import type { LabelledMatrix } from "../../../data/labelled";
import { kernelPath, nonzeroIndex, SoftmaxKernel } from "./softmax-kernel";
import { sparseSet } from "../test-problems";
import { trainSoftmax } from "../gradient-descent";

/** The gradient of the summed cross-entropy in float64, straight from the formulas. */
function reference(set: LabelledMatrix, rows: ArrayLike<number>, W: Float32Array, b: Float32Array, k: number) {
  const d = set.x.length / set.rows;
  const dW = new Float64Array(k * d),
    db = new Float64Array(k);
  let cost = 0;
  for (let i = 0; i < rows.length; i++) {
    const j = rows[i];
    const z = Array.from({ length: k }, (_, c) => {
      let s = b[c];
      for (let p = 0; p < d; p++) s += W[c * d + p] * set.x[j * d + p];
      return s;
    });
    const m = Math.max(...z);
    const sum = z.reduce((a, zc) => a + Math.exp(zc - m), 0);
    cost += m + Math.log(sum) - z[set.labels[j]];
    for (let c = 0; c < k; c++) {
      const dz = Math.exp(z[c] - m) / sum - (c === set.labels[j] ? 1 : 0);
      db[c] += dz;
      for (let p = 0; p < d; p++) dW[c * d + p] += dz * set.x[j * d + p];
    }
  }
  return { dW, db, cost };
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) {
  assert.equal(got.length, want.length, `${what}: length`);
  let scale = 1;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) <= tol * scale, `${what}[${i}]: ${got[i]} vs ${want[i]} (scale ${scale})`);
  }
}

test("the nonzero index lists each row's nonzero pixels in order", () => {
  const images = Float32Array.from([0, 1, 0, 2, 0, /**/ 0, 0, 0, 0, 0, /**/ 3, 3, 3, 3, 3, /**/ 0, 0, 0, 0, 0.5]);
  const index = nonzeroIndex({ rows: 4, dim: 5, x: images, labels: new Uint8Array(4) });
  assert.deepEqual(Array.from(index.offsets), [0, 2, 2, 7, 8]);
  assert.deepEqual(Array.from(index.pixels), [1, 3, 0, 1, 2, 3, 4, 4]);
});

// [rows in the batch, inputs d, classes k, density, weight scale]: one and two SIMD vectors
// of classes and the largest (16), k not a multiple of 4, batches across the 32-row
// chunks, fully dense rows, and logits in the hundreds (softmax must not overflow).
const SHAPES: [number, number, number, number, number][] = [
  [1, 1, 1, 1, 0.5],
  [3, 5, 2, 0.5, 0.5],
  [7, 13, 4, 0.3, 0.5],
  [40, 33, 5, 0.2, 0.5],
  [70, 100, 10, 0.2, 0.5],
  [20, 40, 16, 0.5, 0.5],
  [33, 9, 13, 1, 0.5],
  [12, 30, 10, 0.5, 60],
];

for (const [rows, d, k, density, scale] of SHAPES) {
  test(`kernel gradient and cost equal the float64 formulas: ${rows} rows, d=${d}, k=${k}, density ${density}, weights x${scale}`, () => {
    const set = sparseSet(rows * 31 + d, rows + 5, d, k, density);
    const rng = new Random(k * 7 + d);
    const W = rng.normalArray(k * d, 0, scale),
      b = rng.normalArray(k, 0, scale);
    const batch = Int32Array.from(rng.permutation(set.rows).subarray(0, rows));
    batch[0] = 0; // the all-zero row
    if (rows > 1) batch[1] = 1; // the dense row
    const got = new SoftmaxKernel(set, k, rows, W, b).gradient(batch);
    const want = reference(set, batch, W, b, k);
    assertClose(got.dW, want.dW, 2e-6, "dW");
    assertClose(got.db, want.db, 2e-6, "db");
    assertClose([got.cost], [want.cost], 2e-6, "cost");
  });
}

test("two momentum steps equal the report's update computed by hand from the gradients", () => {
  const k = 10,
    d = 50,
    rate = 0.05,
    momentum = 0.9;
  const set = sparseSet(3, 60, d, k, 0.3);
  const rng = new Random(4);
  const W0 = rng.normalArray(k * d, 0, 0.1),
    b0 = rng.normalArray(k, 0, 0.1);
  const first = Int32Array.from({ length: 25 }, (_, i) => i),
    second = Int32Array.from({ length: 25 }, (_, i) => 30 + i);
  const trained = new SoftmaxKernel(set, k, 25, W0, b0);
  trained.step(first, 0, 25, rate, momentum);
  const s2 = trained.step(second, 0, 25, rate, momentum);
  // By hand: v1 = -rate g(W0); W1 = W0 + v1; v2 = momentum v1 - rate g(W1); W2 = W1 + v2.
  const g1 = new SoftmaxKernel(set, k, 25, W0, b0).gradient(first);
  const vW1 = g1.dW.map((g) => -rate * g),
    vb1 = g1.db.map((g) => -rate * g);
  const W1 = W0.map((w, i) => w + vW1[i]),
    b1 = b0.map((w, i) => w + vb1[i]);
  const g2 = new SoftmaxKernel(set, k, 25, W1, b1).gradient(second);
  const vW2 = vW1.map((v, i) => momentum * v - rate * g2.dW[i]),
    vb2 = vb1.map((v, i) => momentum * v - rate * g2.db[i]);
  const { W, b } = trained.weights();
  assertClose(
    W,
    W1.map((w, i) => w + vW2[i]),
    1e-6,
    "W",
  );
  assertClose(
    b,
    b1.map((w, i) => w + vb2[i]),
    1e-6,
    "b",
  );
  assertClose([s2.stepNormSq], [vW2.reduce((a, v) => a + v * v, 0)], 1e-5, "squared step norm");
  assertClose([s2.cost], [g2.cost], 1e-6, "cost of the second minibatch");
  assert.equal(s2.weightsFinite, true);
});

test("a NaN or infinite weight is reported even where every pixel of the minibatch is zero", () => {
  const set = sparseSet(5, 10, 6, 3, 1);
  for (let r = 0; r < set.rows; r++) set.x[r * 6 + 5] = 0; // pixel 5 is never lit
  const rows = Int32Array.from({ length: 10 }, (_, i) => i);
  for (const bad of [Infinity, -Infinity, NaN, 0]) {
    const W0 = new Float32Array(18);
    W0[2 * 6 + 5] = bad; // class 2, pixel 5
    const s = new SoftmaxKernel(set, 3, 10, W0, new Float32Array(3)).step(rows, 0, 10, 1e-3, 0);
    assert.ok(Number.isFinite(s.cost), `the cost never sees pixel 5: ${s.cost}`);
    assert.equal(s.weightsFinite, bad === 0, `weight ${bad}`);
  }
});

test("accuracy: the argmax of z against the labels, on the training set and on other sets in turn", () => {
  const k = 10,
    d = 50;
  const train = sparseSet(21, 90, d, k, 0.3);
  const rng = new Random(22);
  const W = rng.normalArray(k * d, 0, 0.5),
    b = rng.normalArray(k, 0, 0.5);
  const kernel = new SoftmaxKernel(train, k, 10, W, b);
  const want = (set: typeof train) => {
    let correct = 0;
    for (let j = 0; j < set.rows; j++) {
      const z = Array.from({ length: k }, (_, c) => {
        let s = b[c];
        for (let p = 0; p < d; p++) s += W[c * d + p] * set.x[j * d + p];
        return s;
      });
      if (z.indexOf(Math.max(...z)) === set.labels[j]) correct++;
    }
    return correct / set.rows;
  };
  // Another set, a larger one (its index needs a bigger region), then the first again.
  const small = sparseSet(23, 40, d, k, 0.3),
    large = sparseSet(24, 130, d, k, 0.5);
  for (const [name, set] of [
    ["train", train],
    ["small", small],
    ["large", large],
    ["small", small],
    ["train", train],
  ] as const) {
    assert.equal(kernel.accuracy(set), want(set), name);
  }
  assert.ok(want(large) > 0 && want(large) < 1, "a test where some rows are right and some wrong");
  assert.throws(() => kernel.accuracy(sparseSet(25, 5, d + 1, k, 0.5)), /rows of 51 inputs, the network takes 50/);
});

test("bad input is named: labels, sizes, rows, and a missing or corrupt kernel file", () => {
  const set = sparseSet(6, 8, 4, 3, 0.5);
  const W0 = new Float32Array(12),
    b0 = new Float32Array(3);
  set.labels[5] = 7;
  assert.throws(() => new SoftmaxKernel(set, 3, 4, W0, b0), /label 7 of row 5 is not a class 0..2/);
  set.labels[5] = 1;
  assert.throws(
    () => new SoftmaxKernel(set, 17, 4, new Float32Array(68), new Float32Array(17)),
    /17 classes \(the kernel takes 1..16\)/,
  );
  assert.throws(() => new SoftmaxKernel(set, 3, 4, new Float32Array(11), b0), /W0 has 11 values, expected 3 x 4/);
  const kernel = new SoftmaxKernel(set, 3, 4, W0, b0);
  assert.throws(() => kernel.gradient([0, 1, 9]), /row 9 is outside the set \(0..7\)/);
  assert.throws(() => kernel.gradient([0, 1, 2, 3, 4]), /5 rows do not fit a batch of 4/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kernel-"));
  try {
    const missing = path.join(dir, "softmax-kernel.wasm");
    assert.throws(
      () => new SoftmaxKernel(set, 3, 4, W0, b0, { file: missing }),
      (e: Error) => e.message.includes(`${missing} is missing`) && /apt-get install clang lld/.test(e.message),
    );
    fs.writeFileSync(missing, "not wasm");
    assert.throws(
      () => new SoftmaxKernel(set, 3, 4, W0, b0, { file: missing }),
      (e: Error) => e.message.includes(`${missing} is not a valid WebAssembly module`),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(fs.existsSync(kernelPath()), `the tests run on the built kernel ${kernelPath()}`);
});

test("two threads give bit-identical gradients, steps, accuracies and weights to one thread", () => {
  const k = 10,
    d = 60;
  const set = sparseSet(11, 300, d, k, 0.25),
    other = sparseSet(12, 77, d, k, 0.3);
  const rng = new Random(12);
  const W0 = rng.normalArray(k * d, 0, 0.1),
    b0 = rng.normalArray(k, 0, 0.1);
  const order = new Random(13).permutation(set.rows);
  const one = new SoftmaxKernel(set, k, 101, W0, b0, { threads: 1 });
  const two = new SoftmaxKernel(set, k, 101, W0, b0, { threads: 2 });
  try {
    assert.equal(one.threads, 1);
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
      assert.equal(two.accuracy(other), one.accuracy(other));
    }
    assert.equal(two.accuracy(set), one.accuracy(set));
    assert.deepEqual(two.weights(), one.weights());
    // A row outside the set is named, whichever half it is in.
    assert.throws(
      () => two.gradient([0, 1, 2, 3, 4, 5, 6, 7, 8, 999]),
      /SoftmaxKernel: row 999 is outside the set \(0..299\)/,
    );
  } finally {
    two.dispose();
  }
});

test("trainSoftmax: the same weights on one and two threads", () => {
  const k = 10,
    d = 60;
  const rng = new Random(12);
  const o = {
    train: sparseSet(11, 300, d, k, 0.25),
    W0: rng.normalArray(k * d, 0, 0.1),
    b0: rng.normalArray(k, 0, 0.1),
    learningRate: 0.01,
    momentum: 0.9,
    batchSize: 50,
    maxIter: 20,
    epsilon: 0,
    seed: 3,
    recordEvery: 5,
    engine: "kernel" as const,
  };
  const a = trainSoftmax({ ...o, threads: 1 }),
    b = trainSoftmax({ ...o, threads: 2 });
  assert.deepEqual(a.W, b.W);
  assert.deepEqual(a.b, b.b);
  assert.deepEqual(a.history, b.history);
});
