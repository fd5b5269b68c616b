import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { CostRow } from "../models/fcnet/backprop-cost";
import {
  countComparison,
  METHOD_COLOURS,
  allocationComparison,
  countMismatches,
  gradientChecks,
  predictedSlope,
  slopeRows,
  studyConfig,
  studyFigures,
} from "./backprop";

function row(method: CostRow["method"], K: number, N: number, ops: number, seconds: number): CostRow {
  const counts = { mul: ops, add: 0, act: 0, cost: 0 };
  return { method, K, N, counts, ops, predictedOps: ops, seconds, minSeconds: seconds / 2 };
}

test("predicted slopes: N + 1, 3, 2 against K; ln K and 1 against N", () => {
  assert.equal(predictedSlope({ method: "naive", vary: "K", fixed: 4, values: [] }), 5);
  assert.equal(predictedSlope({ method: "perWeight", vary: "K", fixed: 4, values: [] }), 3);
  assert.equal(predictedSlope({ method: "backprop", vary: "K", fixed: 4, values: [] }), 2);
  assert.equal(predictedSlope({ method: "naive", vary: "N", fixed: 3, values: [] }), Math.log(3));
  assert.equal(predictedSlope({ method: "backprop", vary: "N", fixed: 16, values: [] }), 1);
});

test("slopeRows fits power laws against K and an exponential against N for the naive method", () => {
  const ks = [2, 4, 8, 16, 32];
  const ns = [2, 3, 4, 5, 6];
  const rows = slopeRows([
    {
      sweep: { method: "backprop", vary: "K", fixed: 4, values: ks },
      rows: ks.map((K) => row("backprop", K, 4, 3 * K * K, 1e-9 * K ** 3)),
    },
    {
      sweep: { method: "naive", vary: "N", fixed: 3, values: ns },
      rows: ns.map((N) => row("naive", 3, N, 3 ** N, 2 ** N)),
    },
  ]);
  assert.ok(Math.abs(rows[0].opsAll - 2) < 1e-12 && Math.abs(rows[0].timeAll - 3) < 1e-12);
  assert.ok(Math.abs(rows[0].minTimeLast - 3) < 1e-12);
  assert.ok(Math.abs(rows[1].opsLast - Math.log(3)) < 1e-12 && Math.abs(rows[1].timeAll - Math.log(2)) < 1e-12);
  assert.equal(rows[1].fit, "ln(y) vs N");
  assert.equal(rows[0].sweep, "backprop, N = 4, K = 2..32");
});

test("countMismatches finds rows whose count differs from the closed form", () => {
  const good = row("naive", 2, 3, 128, 1);
  const bad = { ...row("naive", 2, 4, 100, 1), predictedOps: 101 };
  assert.deepEqual(
    countMismatches([{ sweep: { method: "naive", vary: "K", fixed: 3, values: [] }, rows: [good, bad] }]),
    [bad],
  );
});

test("countComparison: counters run and agree on small nets, large ones are closed form only", () => {
  const [small, large] = countComparison(
    [
      [2, 3],
      [16, 8],
    ],
    1,
  );
  assert.equal(small.naive, 128); // 16 + 24 + 72 + 16, counted by hand in op-count.spec.ts
  assert.equal(small.backprop, 24);
  assert.equal(small["counted = closed form"], "yes");
  assert.equal(large["counted = closed form"], "not run (too slow)");
});

test("gradientChecks: every method within 1e-4 of tf.grads", async () => {
  await tf.setBackend("cpu");
  for (const r of gradientChecks(
    [
      [3, 4],
      [5, 3],
    ],
    [1, 2],
  )) {
    for (const m of ["naive", "report's backprop", "backprop"] as const)
      assert.ok(r[m] < 1e-4, `${m} K=${r.K} N=${r.N}: ${r[m]}`);
  }
});

test("both profiles define K and N sweeps, and the figures build from results", () => {
  for (const p of ["quick", "full"] as const) {
    const cfg = studyConfig(p);
    assert.ok(cfg.kSweeps.every((s) => s.vary === "K" && s.values.length >= 4));
    assert.ok(cfg.nSweeps.every((s) => s.vary === "N" && s.values.length >= 4));
  }
  const ks = [2, 4, 8, 16];
  const figs = studyFigures([
    {
      sweep: { method: "backprop", vary: "K", fixed: 4, values: ks },
      rows: ks.map((K) => row("backprop", K, 4, K * K, K * 1e-9)),
    },
    {
      sweep: { method: "naive", vary: "K", fixed: 3, values: ks },
      rows: ks.map((K) => row("naive", K, 3, K ** 4, K * 1e-8)),
    },
    {
      sweep: { method: "backprop", vary: "N", fixed: 16, values: ks },
      rows: ks.map((N) => row("backprop", 16, N, N * 700, N * 1e-7)),
    },
  ]);
  assert.deepEqual(
    figs.timeK.data.map((d) => d.name),
    ["backprop, N = 4", "naive, N = 3"],
  );
  assert.deepEqual(figs.opsN.data[0].y, [1400, 2800, 5600, 11200]);
  assert.equal(figs.timeK.layout.xaxis.type, "log");
  assert.deepEqual(
    figs.perOp.data.map((d) => d.name),
    ["naive", "backprop"],
  );
  // One colour per method in every figure; sweeps of one method differ by line style.
  for (const fig of Object.values(figs))
    for (const t of fig.data) {
      const method = t.name.startsWith("naive") ? "naive" : "backprop";
      assert.equal(t.marker.color, METHOD_COLOURS[method], `${fig.layout.title.text}: ${t.name}`);
    }
  assert.throws(
    () =>
      studyFigures([
        {
          sweep: { method: "naive", vary: "K", fixed: 3, values: ks },
          rows: ks.map((K) => row("naive", K, 3, K ** 4, 0)),
        },
      ]),
    /logarithmic/,
  );
});

test("allocationComparison times both cached methods with reused and fresh arrays", () => {
  const rows = allocationComparison([[4, 3]], { reps: 3, minBatchMs: 0.2 });
  assert.deepEqual(
    rows.map((r) => [r.method, r.K, r.N, r.operations]),
    [
      ["report's backprop", 4, 3, 224],
      ["backprop", 4, 3, 80],
    ],
  );
  for (const r of rows) assert.ok(r["ns per op, reused arrays"] > 0 && r["ns per op, fresh arrays"] > 0);
});
