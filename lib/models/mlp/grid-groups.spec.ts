import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend } from "../../runtime/backend";
import { Random } from "../../runtime/random";
import { trainMlp } from "./mlp";
import { gridConfigs, GridSpace } from "./grid-search";
import { gridJobs, trainGridGroup } from "./grid-groups";

before(async () => {
  await initBackend();
});

function blobs(n: number, dim: number, seed: number) {
  const rng = new Random(seed);
  const x = new Float32Array(n * dim);
  const labels = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    labels[r] = r % 6;
    for (let i = 0; i < dim; i++) x[r * dim + i] = rng.normal(i % 6 === labels[r] ? 1 : 0, 0.8);
  }
  return { rows: n, dim, x, labels };
}

const SPACE: GridSpace = {
  size: [32],
  hidden: [5, 9],
  epochs: [4, 6],
  batchSize: [7, 16],
  activation: ["relu", "leaky_relu"],
  learningRate: [5e-3, 1e-2],
};

test("jobs: on the kernel one per size, hidden and batch size, the dearest first; on tfjs one per configuration", () => {
  const configs = gridConfigs(SPACE);
  const kernel = gridJobs(configs, "kernel");
  assert.equal(kernel.length, 4);
  assert.deepEqual(
    kernel.map((j) => [j.configs[0].hidden, j.configs[0].batchSize, j.configs.length]),
    [
      [9, 7, 8],
      [9, 16, 8],
      [5, 7, 8],
      [5, 16, 8],
    ],
  );
  const tfjs = gridJobs(configs, "tfjs");
  assert.equal(tfjs.length, configs.length);
  assert.ok(tfjs.every((j, i) => j.configs.length === 1 && (i === 0 || tfjs[i - 1].cost >= j.cost)));
});

test("a job's configurations trained together give exactly what trainMlp gives each on the kernel", () => {
  const d = { train: blobs(40, 12, 1), validation: blobs(15, 12, 2) };
  const job = gridJobs(gridConfigs(SPACE), "kernel")[2].configs;
  const curveEvery = job.map((c) => (c.epochs === 4 ? 2 : 3));
  const runs = trainGridGroup(d, job, 3, curveEvery);
  for (const [i, r] of runs.entries()) {
    const alone = trainMlp(
      d.train,
      d.validation,
      { ...job[i], seed: 3 },
      { curveEvery: curveEvery[i], engine: "kernel" },
    );
    assert.deepEqual(r.config, job[i]);
    assert.deepEqual(r.curve, alone.curve, JSON.stringify(job[i]));
    assert.equal(r.validationAccuracy, alone.validationAccuracy);
    assert.equal(r.trainAccuracy, alone.trainAccuracy);
  }
  assert.throws(
    () => trainGridGroup(d, [job[0], { ...job[0], hidden: 3 }], 3, [2, 2]),
    /differ in size, hidden or batch size/,
  );
});
