import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Random } from "../../runtime/random";
import {
  bestResult,
  configKey,
  GridConfig,
  gridConfigs,
  GridResult,
  readResults,
  REPORT_GRID,
  runGridSearch,
  trainingCost,
} from "./grid-search";

test("the report's grid has 216 distinct configurations", () => {
  const all = gridConfigs(REPORT_GRID);
  assert.equal(all.length, 216);
  assert.equal(new Set(all.map(configKey)).size, 216);
  assert.equal(configKey(all[0]), "s32-h10-e200-b20-relu-lr0.0005");
});

function tiny(n: number, seed: number, dim: number) {
  const rng = new Random(seed);
  const x = new Float32Array(n * dim);
  const y = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    y[r] = r % 6;
    for (let i = 0; i < dim; i++) x[r * dim + i] = rng.normal(i % 6 === y[r] ? 1.5 : 0, 0.5);
  }
  return { rows: x.length / dim, dim, x, labels: y };
}

test("the search resumes: finished configurations are skipped, a torn last line is redone", async () => {
  const data = {
    32: { train: tiny(60, 1, 32 * 32), validation: tiny(30, 2, 32 * 32), test: tiny(30, 3, 32 * 32) },
    64: { train: tiny(60, 1, 64 * 64), validation: tiny(30, 2, 64 * 64), test: tiny(30, 3, 64 * 64) },
  };
  const base: GridConfig = { size: 32, hidden: 5, epochs: 3, batchSize: 20, activation: "relu", learningRate: 1e-3 };
  const c = [base, { ...base, activation: "leaky_relu" as const }, { ...base, size: 64 as const }];
  const resultsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "grid-")), "results.jsonl");
  const logs: string[] = [];
  const log = (s: string) => logs.push(s);
  const first = await runGridSearch(c.slice(0, 2), data, { resultsFile, log, workers: 2 });
  assert.deepEqual(
    first.map((r) => r.key),
    c.slice(0, 2).map(configKey),
  );
  assert.match(logs[0], /2 configurations, 0 already done/);
  // The search reports no test accuracy: it never sees the test set (the data above carries one).
  assert.ok(first.every((r) => !("testAccuracy" in r)));
  fs.appendFileSync(resultsFile, '{"key":"s64-h5-e3-b20-relu-lr0.001","validationAcc'); // a write cut short
  assert.equal(readResults(resultsFile).size, 2);
  logs.length = 0;
  const second = await runGridSearch(c, data, { resultsFile, log, workers: 2 });
  assert.match(logs[0], /3 configurations, 2 already done/);
  assert.equal(logs.filter((l) => /^\[\d+\/3\]/.test(l)).length, 1);
  assert.deepEqual(second.slice(0, 2), first);
  assert.equal(readResults(resultsFile).size, 3);
  const best = bestResult(second);
  assert.ok(second.every((r) => r.validationAccuracy <= best.validationAccuracy));
});

// The tie rule as a table: configurations (in grid order) with their validation accuracies -> the chosen key.
const C = (
  size: 32 | 64,
  hidden: number,
  epochs: number,
  batchSize = 50,
  activation: "relu" | "leaky_relu" = "relu",
): GridConfig => ({
  size,
  hidden,
  epochs,
  batchSize,
  activation,
  learningRate: 1e-3,
});
const R = (config: GridConfig, validationAccuracy: number): GridResult => ({
  key: configKey(config),
  config,
  seed: 0,
  trainAccuracy: 1,
  validationAccuracy,
  seconds: 1,
  curve: [],
});
const TIE_TABLE: { name: string; results: GridResult[]; chosen: string }[] = [
  {
    name: "the highest validation accuracy wins, however expensive",
    results: [R(C(32, 10, 200), 0.8), R(C(64, 50, 500), 0.81)],
    chosen: "s64-h50-e500-b50-relu-lr0.001",
  },
  {
    name: "a tie goes to the cheaper configuration even when it comes later (64x64x20x200 > 32x32x20x500)",
    results: [R(C(64, 20, 200), 90 / 116), R(C(32, 20, 500), 90 / 116), R(C(32, 10, 200), 89 / 116)],
    chosen: "s32-h20-e500-b50-relu-lr0.001",
  },
  {
    name: "hidden units and epochs multiply: 10 x 500 is cheaper than 20 x 300 and 50 x 200",
    results: [R(C(32, 50, 200), 0.5), R(C(32, 20, 300), 0.5), R(C(32, 10, 500), 0.5)],
    chosen: "s32-h10-e500-b50-relu-lr0.001",
  },
  {
    name: "equal cost (batch size and activation do not count): the first in grid order",
    results: [R(C(32, 20, 200, 100, "leaky_relu"), 0.7), R(C(32, 20, 200, 20, "relu"), 0.7)],
    chosen: "s32-h20-e200-b100-leaky_relu-lr0.001",
  },
];

for (const row of TIE_TABLE)
  test(`bestResult: ${row.name}`, () => {
    assert.equal(bestResult(row.results).key, row.chosen);
  });

test("trainingCost: epochs x pixels x hidden units", () => {
  assert.equal(trainingCost(C(64, 20, 200)), 200 * 64 * 64 * 20);
  assert.equal(trainingCost(C(32, 20, 500, 20, "leaky_relu")), 500 * 32 * 32 * 20);
});
