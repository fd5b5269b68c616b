import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend } from "../../runtime/backend";
import { Random } from "../../runtime/random";
import {
  chooseMlpEngine,
  mlpAccuracy,
  MlpDivergenceError,
  Activation,
  initWeights,
  lossAndGradients,
  MlpWeights,
  trainMlp,
  weightsFromJson,
  weightsToJson,
} from "./mlp";

before(async () => {
  await initBackend();
});

/** The loss in float64 plain JS: the reference the hand-written tf backward is checked against. */
function referenceLoss(w: MlpWeights, x: Float64Array | Float32Array, y: Uint8Array): number {
  const B = y.length;
  let total = 0;
  for (let r = 0; r < B; r++) {
    const h = new Float64Array(w.hidden);
    for (let j = 0; j < w.hidden; j++) {
      let z = w.b1[j];
      for (let i = 0; i < w.inputSize; i++) z += x[r * w.inputSize + i] * w.W1[i * w.hidden + j];
      h[j] = z > 0 ? z : w.activation === "relu" ? 0 : 0.01 * z;
    }
    const o = new Float64Array(w.outputs);
    for (let k = 0; k < w.outputs; k++) {
      o[k] = w.b2[k];
      for (let j = 0; j < w.hidden; j++) o[k] += h[j] * w.W2[j * w.outputs + k];
    }
    const max = Math.max(...o);
    const lse = max + Math.log(o.reduce((s, v) => s + Math.exp(v - max), 0));
    total += lse - o[y[r]];
  }
  return total / B;
}

for (const activation of ["relu", "leaky_relu"] as Activation[]) {
  test(`hand-written gradients match central differences of a float64 loss (${activation})`, () => {
    const rng = new Random(3);
    const w = initWeights(5, 4, 3, activation, 11);
    w.b1.set([0.1, -0.2, 0.05, 0.3]);
    const x = rng.normalArray(6 * 5);
    const y = Uint8Array.from([0, 1, 2, 0, 1, 2]);
    const g = lossAndGradients(w, x, y);
    assert.ok(Math.abs(g.loss - referenceLoss(w, x, y)) < 1e-5);
    for (const name of ["W1", "b1", "W2", "b2"] as const) {
      for (let i = 0; i < w[name].length; i++) {
        const eps = 1e-3;
        const plus = { ...w, [name]: Float64Array.from(w[name]) } as unknown as MlpWeights;
        (plus[name] as unknown as Float64Array)[i] += eps;
        const minus = { ...w, [name]: Float64Array.from(w[name]) } as unknown as MlpWeights;
        (minus[name] as unknown as Float64Array)[i] -= eps;
        const numeric = (referenceLoss(plus, x, y) - referenceLoss(minus, x, y)) / (2 * eps);
        assert.ok(
          Math.abs(numeric - g[name][i]) < 2e-4,
          `${name}[${i}]: numeric ${numeric}, hand-written ${g[name][i]}`,
        );
      }
    }
  });
}

function blobs(n: number, seed: number) {
  const rng = new Random(seed);
  const dim = 10;
  const x = new Float32Array(n * dim);
  const y = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    y[r] = r % 3;
    for (let i = 0; i < dim; i++) x[r * dim + i] = rng.normal(i === y[r] ? 2 : 0, 0.7);
  }
  return { rows: x.length / dim, dim, x, labels: y };
}

test("training learns separable classes, and the same seed gives the same network", () => {
  const train = blobs(150, 1);
  const validation = blobs(60, 2);
  const cfg = { hidden: 8, activation: "leaky_relu" as const, learningRate: 1e-2, batchSize: 20, epochs: 30, seed: 5 };
  const a = trainMlp(train, validation, cfg, { outputs: 3, curveEvery: 10 });
  const b = trainMlp(train, validation, cfg, { outputs: 3 });
  const c = trainMlp(train, validation, { ...cfg, seed: 6 }, { outputs: 3 });
  assert.ok(a.validationAccuracy > 0.9, `validation accuracy ${a.validationAccuracy}`);
  assert.equal(mlpAccuracy(a.weights, validation), a.validationAccuracy);
  assert.deepEqual(a.weights.W1, b.weights.W1);
  assert.notDeepEqual(a.weights.W1, c.weights.W1);
  assert.deepEqual(
    a.curve.map((p) => p.epoch),
    [10, 20, 30],
  );
  assert.equal(a.steps, 30 * Math.ceil(150 / 20));
});

test("bad inputs are named", () => {
  const d = blobs(9, 1);
  const cfg = { hidden: 4, activation: "relu" as const, learningRate: 1e-3, batchSize: 3, epochs: 1, seed: 0 };
  assert.throws(
    () => trainMlp(d, { ...d, dim: 7 }, cfg),
    /validation set: rows have 7 values but the network takes 10/,
  );
  assert.throws(() => trainMlp(d, d, { ...cfg, batchSize: 0 }), /batchSize must be a positive integer, got 0/);
  assert.throws(
    () => trainMlp(d, d, { ...cfg, activation: "tanh" as Activation }),
    /activation must be relu or leaky_relu, got tanh/,
  );
  assert.throws(() => trainMlp(d, d, cfg, { outputs: 2 }), /label 2 at row 2 is not below 2/);
  const w = initWeights(3, 2, 2, "relu", 0);
  assert.deepEqual(weightsFromJson(weightsToJson(w)).W1, w.W1);
  assert.throws(
    () => weightsFromJson(JSON.stringify({ ...JSON.parse(weightsToJson(w)), W2: [1] }), "m.json"),
    /m.json: W2 has 1 values, expected 4/,
  );
});

test("a diverging configuration stops with MlpDivergenceError naming configuration, epoch and rate, on both engines", () => {
  const train = blobs(60, 3);
  const cfg = { hidden: 6, activation: "relu" as const, learningRate: 1e30, batchSize: 10, epochs: 20, seed: 1 };
  for (const engine of ["tfjs", "kernel"] as const) {
    if (engine === "kernel" && chooseMlpEngine("auto", 3).engine !== "kernel") continue; // kernel not built here
    assert.throws(
      () => trainMlp(train, train, cfg, { outputs: 3, engine }),
      (e: unknown) =>
        e instanceof MlpDivergenceError &&
        e.epoch >= 1 &&
        e.epoch < 20 &&
        /6 hidden relu, batch 10, learning rate 1e\+30 diverged at epoch \d+: .*(loss|weight).*Lower the learning rate/.test(
          e.message,
        ),
      engine,
    );
  }
  for (const learningRate of [0, -1e-3, NaN, Infinity])
    assert.throws(
      () => trainMlp(train, train, { ...cfg, learningRate }, { outputs: 3 }),
      /learningRate must be a positive finite number/,
    );
});

test("non-finite weights are never serialised, and damaged files are named", () => {
  const w = initWeights(3, 2, 2, "relu", 0);
  const nan = { ...w, W2: Float32Array.of(1, NaN, 3, 4) };
  assert.throws(() => weightsToJson(nan, "m.json"), /m.json: not saved, W2\[1\] is NaN/);
  const text = weightsToJson(w);
  const cases: [string, RegExp][] = [
    [text.slice(0, text.length - 5), /m.json: not valid JSON \(.*\); the file is damaged or was cut short/],
    [JSON.stringify({ ...JSON.parse(text), b1: [0, null] }), /m.json: b1\[1\] is null, not a finite number/],
    [JSON.stringify({ ...JSON.parse(text), W1: [1, 2, 3, 4, 5, "x"] }), /m.json: W1\[5\] is "x", not a finite number/],
  ];
  for (const [damaged, message] of cases) assert.throws(() => weightsFromJson(damaged, "m.json"), message);
});
