import { test } from "node:test";
import assert from "node:assert/strict";
import { bestResult, configKey, GridConfig, GridResult } from "../models/mlp/grid-search";
import { configRank, gridHeatmap, marginalFrame, REPORT_CHOICE, resultsFrame, selectionOrder } from "./faces-grid";
import { countsGiving } from "./faces";

const C = (size: 32 | 64, hidden: number, activation: "relu" | "leaky_relu"): GridConfig => ({
  size,
  hidden,
  epochs: 200,
  batchSize: 100,
  activation,
  learningRate: 1e-3,
});
const R = (config: GridConfig, validationAccuracy: number): GridResult => ({
  key: configKey(config),
  config,
  seed: 0,
  trainAccuracy: 1,
  validationAccuracy,
  seconds: 2,
  curve: [],
});
// In grid order; the report's configuration is the 64x64, 20 hidden, LeakyReLU one.
const results = [
  R(C(32, 10, "relu"), 0.5),
  R(C(32, 10, "leaky_relu"), 0.75),
  R(C(32, 20, "relu"), 0.75),
  R(C(32, 20, "leaky_relu"), 0.6),
  R(C(64, 20, "relu"), 0.75),
  R(REPORT_CHOICE, 0.6),
];

test("selectionOrder: validation descending, ties to the cheaper configuration; its first is bestResult's choice", () => {
  assert.deepEqual(
    selectionOrder(results).map((r) => r.key),
    [
      "s32-h10-e200-b100-leaky_relu-lr0.001",
      "s32-h20-e200-b100-relu-lr0.001",
      "s64-h20-e200-b100-relu-lr0.001",
      "s32-h20-e200-b100-leaky_relu-lr0.001",
      "s64-h20-e200-b100-leaky_relu-lr0.001",
      "s32-h10-e200-b100-relu-lr0.001",
    ],
  );
  assert.equal(selectionOrder(results)[0], bestResult(results));
});

test("configRank: one plus the number strictly better, and how many share the accuracy", () => {
  const r = configRank(results, REPORT_CHOICE);
  assert.deepEqual([r.rank, r.tiedWith, r.of, r.result.validationAccuracy], [4, 1, 6, 0.6]);
  assert.deepEqual(
    [configRank(results, C(32, 20, "relu")).rank, configRank(results, C(32, 20, "relu")).tiedWith],
    [1, 2],
  );
  assert.throws(() => configRank(results.slice(0, 2), REPORT_CHOICE), /is not among the 2 results/);
});

test("resultsFrame: every row in selection order, no test column", () => {
  const df = resultsFrame(results);
  assert.deepEqual(df.columns, [
    "order",
    "size",
    "hidden",
    "epochs",
    "batch",
    "activation",
    "lr",
    "train",
    "validation",
    "seconds",
  ]);
  assert.equal(df.shape[0], 6);
  assert.deepEqual(df.values[0], [1, "32x32", 10, 200, 100, "LeakyReLU(0.01)", 0.001, 1, 0.75, 2]);
});

test("marginalFrame: mean, best and worst validation accuracy per hyper-parameter value (danfojs groupby)", () => {
  const df = marginalFrame(results);
  const rows = df.values as (string | number)[][];
  const find = (p: string, v: string) => rows.find((r) => r[0] === p && r[1] === v);
  assert.deepEqual(find("size", "32x32"), ["size", "32x32", 0.65, 0.75, 0.5, 4]);
  assert.deepEqual(find("size", "64x64"), ["size", "64x64", 0.675, 0.75, 0.6, 2]);
  assert.deepEqual(find("activation", "ReLU"), ["activation", "ReLU", 0.6667, 0.75, 0.5, 3]);
  assert.deepEqual(find("hidden", "10"), ["hidden", "10", 0.625, 0.75, 0.5, 2]);
});

test("gridHeatmap: rows size x hidden x epochs, columns batch x activation x rate, marks outline their cells", () => {
  const fig = gridHeatmap(results, [{ config: REPORT_CHOICE, name: "report", color: "red" }], "grid");
  const z = fig.data[0].z as (number | null)[][];
  assert.deepEqual(z, [
    [50, 75],
    [75, 60],
    [75, 60],
  ]);
  assert.deepEqual(fig.data[0].text[1], ["75.0", "60.0"]);
  // The report's cell is row 2 (64x64, 20 hidden), column 1 (LeakyReLU): a closed outline around (1, 2).
  assert.deepEqual(fig.data[1].x, [0.5, 1.5, 1.5, 0.5, 0.5]);
  assert.deepEqual(fig.data[1].y, [1.5, 1.5, 2.5, 2.5, 1.5]);
});

test("countsGiving: which counts over n images give a reported accuracy", () => {
  const table: [number, number, number[]][] = [
    [0.7759, 116, [90]],
    [0.7759, 374, []],
    [0.7759, 373, []],
    [0.5, 4, [2]],
  ];
  for (const [acc, n, counts] of table) assert.deepEqual(countsGiving(acc, n), counts, `${acc} of ${n}`);
});
