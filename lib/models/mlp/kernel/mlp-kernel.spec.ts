import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { initBackend } from "../../../runtime/backend";
import { Random } from "../../../runtime/random";
import { projectRoot } from "../../../runtime/paths";
import type { LabelledMatrix } from "../../../data/labelled";
import { ADAM, Activation, activationSlope, chooseMlpEngine, initWeights, MlpWeights, trainMlp } from "../mlp";
import { MlpKernel, mlpKernelAvailable } from "./mlp-kernel";
import { trainVariants } from "./train-variants";

before(async () => {
  await initBackend();
  if (!mlpKernelAvailable()) throw new Error("the mlp kernel is not built: run `npm run build` (clang and lld)");
});

/** Classes as Gaussian blobs around different means, so a network learns them. */
function blobs(n: number, dim: number, classes: number, seed: number): LabelledMatrix {
  const rng = new Random(seed);
  const x = new Float32Array(n * dim);
  const labels = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    labels[r] = r % classes;
    for (let i = 0; i < dim; i++) x[r * dim + i] = rng.normal(i % classes === labels[r] ? 1 : 0, 0.8);
  }
  return { rows: n, dim, x, labels };
}

/** trainMlp's algorithm in float64 plain JS: the batches, in order, with Adam as mlp.ts writes it. */
function referenceTrain(w0: MlpWeights, set: LabelledMatrix, batches: number[][], lr: number) {
  const { inputSize: D, hidden: H, outputs: K } = w0;
  const slope = activationSlope(w0.activation);
  const P = {
    W1: Float64Array.from(w0.W1),
    b1: Float64Array.from(w0.b1),
    W2: Float64Array.from(w0.W2),
    b2: Float64Array.from(w0.b2),
  };
  const names = ["W1", "b1", "W2", "b2"] as const;
  const m = Object.fromEntries(names.map((k) => [k, new Float64Array(P[k].length)])) as typeof P;
  const v = Object.fromEntries(names.map((k) => [k, new Float64Array(P[k].length)])) as typeof P;
  let t = 0;
  for (const rows of batches) {
    const B = rows.length;
    const g = Object.fromEntries(names.map((k) => [k, new Float64Array(P[k].length)])) as typeof P;
    for (const r of rows) {
      const x = set.x.subarray(r * D, (r + 1) * D);
      const z1 = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        z1[j] = P.b1[j];
        for (let i = 0; i < D; i++) z1[j] += x[i] * P.W1[i * H + j];
      }
      const h = z1.map((z) => (z > 0 ? z : slope * z));
      const z2 = new Float64Array(K);
      for (let c = 0; c < K; c++) {
        z2[c] = P.b2[c];
        for (let j = 0; j < H; j++) z2[c] += h[j] * P.W2[j * K + c];
      }
      const top = Math.max(...z2);
      const e = z2.map((z) => Math.exp(z - top));
      const s = e.reduce((a, b) => a + b, 0);
      const dz2 = e.map((ec, c) => (ec / s - (c === set.labels[r] ? 1 : 0)) / B);
      for (let c = 0; c < K; c++) g.b2[c] += dz2[c];
      for (let j = 0; j < H; j++) {
        let dh = 0;
        for (let c = 0; c < K; c++) {
          g.W2[j * K + c] += h[j] * dz2[c];
          dh += dz2[c] * P.W2[j * K + c];
        }
        const dz1 = z1[j] > 0 ? dh : slope * dh;
        g.b1[j] += dz1;
        for (let i = 0; i < D; i++) g.W1[i * H + j] += x[i] * dz1;
      }
    }
    t++;
    for (const k of names)
      for (let i = 0; i < P[k].length; i++) {
        m[k][i] = ADAM.beta1 * m[k][i] + (1 - ADAM.beta1) * g[k][i];
        v[k][i] = ADAM.beta2 * v[k][i] + (1 - ADAM.beta2) * g[k][i] ** 2;
        const denom = Math.sqrt(v[k][i]) / Math.sqrt(1 - ADAM.beta2 ** t) + ADAM.epsilon;
        P[k][i] -= (m[k][i] / denom) * (lr / (1 - ADAM.beta1 ** t));
      }
  }
  return P;
}

/** The batches trainMlp draws: one permutation per epoch from Random(seed + 1). */
function batchesOf(n: number, batchSize: number, epochs: number, seed: number): number[][] {
  const rng = new Random(seed + 1);
  const out: number[][] = [];
  for (let e = 0; e < epochs; e++) {
    const order = Array.from(rng.permutation(n));
    for (let s = 0; s < n; s += batchSize) out.push(order.slice(s, s + batchSize));
  }
  return out;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const W = ["W1", "b1", "W2", "b2"] as const;

// 11 inputs: an odd number of input blocks; hidden 5 pads to 8 columns; 7 classes; a last
// batch of 2. 300 inputs: the forward pass in three chunks of inputs (128, 128, 44), 18 hidden
// (a block of two vectors and one of one), a batch of 5 rows (a block of four and one of one).
// 131 inputs: the gradient's panels of 64 inputs end in a tile of 3, and batches of 7 rows
// leave a padding lane in every panel row.
const REFERENCE_CASES = [
  { d: 11, hidden: 5, k: 7, rows: 14, batchSize: 4, tolerance: 2e-6 },
  { d: 300, hidden: 18, k: 6, rows: 12, batchSize: 5, tolerance: 2e-6 },
  { d: 131, hidden: 6, k: 4, rows: 16, batchSize: 7, tolerance: 2e-6 },
];
for (const { d, hidden, k, rows, batchSize, tolerance } of REFERENCE_CASES)
  for (const activation of ["relu", "leaky_relu"] as Activation[]) {
    test(`kernel matches a float64 reference over 3 epochs (${activation}, ${d} -> ${hidden} -> ${k}, batch ${batchSize} of ${rows})`, () => {
      const set = blobs(rows, d, k, 1);
      const cfg = { hidden, activation, learningRate: 1e-2, batchSize, epochs: 3, seed: 3 };
      const r = trainMlp(set, set, cfg, { outputs: k, engine: "kernel" });
      assert.equal(r.engine, "kernel");
      const w0 = initWeights(d, hidden, k, activation, 3);
      const ref = referenceTrain(w0, set, batchesOf(rows, batchSize, 3, 3), cfg.learningRate);
      for (const n of W) assert.ok(maxDiff(r.weights[n], ref[n]) < tolerance, `${n}: ${maxDiff(r.weights[n], ref[n])}`);
    });
  }

test("kernel and TensorFlow.js engines give the same curve and weights to float32 rounding", () => {
  const train = blobs(120, 40, 6, 2),
    validation = blobs(50, 40, 6, 3);
  for (const activation of ["relu", "leaky_relu"] as Activation[]) {
    const cfg = { hidden: 10, activation, learningRate: 3e-3, batchSize: 25, epochs: 12, seed: 7 };
    const k = trainMlp(train, validation, cfg, { engine: "kernel", curveEvery: 4 });
    const t = trainMlp(train, validation, cfg, { engine: "tfjs", curveEvery: 4 });
    assert.deepEqual(k.curve, t.curve);
    assert.equal(k.steps, t.steps);
    for (const n of W)
      assert.ok(
        maxDiff(k.weights[n], t.weights[n]) < 1e-5,
        `${activation} ${n}: ${maxDiff(k.weights[n], t.weights[n])}`,
      );
  }
});

test("variants trained together are bit-identical to each trained alone; an epoch's snapshot equals a shorter run", () => {
  const train = blobs(60, 30, 6, 4),
    validation = blobs(20, 30, 6, 5);
  const variants = [
    { activation: "relu" as const, learningRate: 1e-3 },
    { activation: "leaky_relu" as const, learningRate: 1e-3 },
    { activation: "relu" as const, learningRate: 5e-4 },
  ].map((v) => ({
    init: initWeights(30, 10, 6, v.activation, 9),
    slope: activationSlope(v.activation),
    learningRate: v.learningRate,
  }));
  const common = { batchSize: 16, seed: 9, adam: ADAM };
  const together = trainVariants(train, validation, variants, {
    ...common,
    epochs: 5,
    recordAt: new Set([3, 5]),
    snapshotAt: new Set([3, 5]),
  });
  for (const [i, v] of variants.entries()) {
    const alone = trainVariants(train, validation, [v], {
      ...common,
      epochs: 3,
      recordAt: new Set([3]),
      snapshotAt: new Set([3]),
    });
    assert.deepEqual(together.outcomes[i].snapshots.get(3), alone.outcomes[0].snapshots.get(3), `variant ${i}`);
    assert.deepEqual(together.outcomes[i].curve[0], alone.outcomes[0].curve[0]);
  }
  assert.notDeepEqual(together.outcomes[0].snapshots.get(3), together.outcomes[0].snapshots.get(5));
  assert.equal(together.steps, 5 * Math.ceil(60 / 16));
});

const VENV_PYTHON = path.join(projectRoot(), ".venv", "bin", "python");

test("kernel matches torch.optim.Adam on the same initial weights and batches", (t) => {
  let torchOk = false;
  try {
    execFileSync(VENV_PYTHON, ["-c", "import torch"], { stdio: "ignore" });
    torchOk = true;
  } catch {
    // reported below
  }
  if (!torchOk) {
    t.skip(`${VENV_PYTHON} with torch is missing (bash scripts/install.sh makes it)`);
    return;
  }
  const set = blobs(30, 20, 6, 6);
  for (const activation of ["relu", "leaky_relu"] as Activation[]) {
    const cfg = { hidden: 9, activation, learningRate: 2e-3, batchSize: 8, epochs: 3, seed: 11 };
    const r = trainMlp(set, set, cfg, { engine: "kernel" });
    const w0 = initWeights(20, 9, 6, activation, 11);
    const input = {
      dim: 20,
      hidden: 9,
      outputs: 6,
      activation,
      lr: cfg.learningRate,
      x: Array.from(set.x),
      labels: Array.from(set.labels),
      ...Object.fromEntries(W.map((k) => [k, Array.from(w0[k])])),
      batches: batchesOf(30, 8, 3, 11),
    };
    const script = path.join(projectRoot(), "scripts", "mlp_torch_reference.py");
    const out = JSON.parse(execFileSync(VENV_PYTHON, [script], { input: JSON.stringify(input), encoding: "utf8" }));
    for (const k of W)
      assert.ok(
        maxDiff(r.weights[k], out[k]) < 1e-5,
        `${activation} ${k} vs torch ${out.torch}: ${maxDiff(r.weights[k], out[k])}`,
      );
  }
});

test("engine choice and the errors name what is wrong", () => {
  const missing = path.join(projectRoot(), "no-such-dir", "mlp-kernel.wasm");
  assert.deepEqual(chooseMlpEngine("auto", 6, missing), {
    engine: "tfjs",
    note: `${missing} is not built (npm run build; needs clang and lld)`,
  });
  assert.deepEqual(chooseMlpEngine("auto", 9), { engine: "tfjs", note: "9 classes (the kernel takes at most 8)" });
  assert.deepEqual(chooseMlpEngine("auto", 6), { engine: "kernel" });
  assert.deepEqual(chooseMlpEngine("tfjs", 6), { engine: "tfjs" });
  const set = blobs(6, 4, 3, 0);
  const v = { init: initWeights(4, 3, 3, "relu", 0), slope: 0, learningRate: 1e-3 };
  assert.throws(
    () => new MlpKernel(set, [], [v], 2, ADAM, { file: missing }),
    new RegExp(`mlp kernel: ${missing} is missing`),
  );
  assert.throws(
    () => new MlpKernel({ ...set, labels: Uint8Array.from([0, 1, 2, 3, 0, 1]) }, [], [v], 2, ADAM),
    /label 3 of row 3 of set 0 is not below 3/,
  );
  assert.throws(() => new MlpKernel(set, [blobs(2, 5, 3, 0)], [v], 2, ADAM), /set 1 has rows of 5 values/);
  assert.throws(
    () => new MlpKernel(set, [], [{ ...v, learningRate: NaN }], 2, ADAM),
    /variant 0 has learning rate NaN/,
  );
  const k = new MlpKernel(set, [], [v], 2, ADAM);
  assert.throws(() => k.step([0, 1, 2], 0, 3), /3 rows do not fit a batch of 2/);
  assert.throws(() => k.step([0, 9], 0, 2), /row 9 is outside the training set/);
  assert.ok(fs.existsSync(path.join(projectRoot(), "lib", "dist", "models", "mlp", "kernel", "mlp-kernel.wasm")));
});

test("a diverging rate stops trainMlp with the configuration, epoch and rate named", () => {
  const set = blobs(20, 10, 6, 8);
  const big = { ...set, x: set.x.map((x) => x * 1e30) };
  assert.throws(
    () =>
      trainMlp(
        big,
        big,
        { hidden: 4, activation: "relu", learningRate: 1e30, batchSize: 5, epochs: 5, seed: 0 },
        { engine: "kernel" },
      ),
    /4 hidden relu, batch 5, learning rate 1e\+30 diverged at epoch \d: /,
  );
});

test("two threads give the same weights, curve and loss as one, bit for bit", () => {
  // Inputs that are not a multiple of 8 and batches of odd size exercise the uneven splits.
  const cases = [
    { d: 30, hidden: 10, batchSize: 16, rows: 60 },
    { d: 101, hidden: 7, batchSize: 9, rows: 50 },
    { d: 6, hidden: 5, batchSize: 1, rows: 7 },
    { d: 131, hidden: 6, batchSize: 7, rows: 30 },
  ];
  for (const c of cases) {
    const train = blobs(c.rows, c.d, 4, 11),
      validation = blobs(20, c.d, 4, 12);
    const variants = (["relu", "leaky_relu"] as const).map((a) => ({
      init: initWeights(c.d, c.hidden, 4, a, 3),
      slope: activationSlope(a),
      learningRate: 2e-3,
    }));
    const run = (threads: 1 | 2) =>
      trainVariants(train, validation, variants, {
        batchSize: c.batchSize,
        epochs: 4,
        seed: 5,
        recordAt: new Set([2, 4]),
        snapshotAt: new Set([4]),
        adam: ADAM,
        threads,
      });
    const one = run(1),
      two = run(2);
    for (const v of [0, 1]) {
      assert.deepEqual(
        two.outcomes[v].snapshots.get(4),
        one.outcomes[v].snapshots.get(4),
        `${JSON.stringify(c)} v${v}`,
      );
      assert.deepEqual(two.outcomes[v].curve, one.outcomes[v].curve);
      assert.deepEqual(two.outcomes[v].losses, one.outcomes[v].losses);
    }
  }
});
