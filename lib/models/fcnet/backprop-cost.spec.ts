import { test } from "node:test";
import assert from "node:assert/strict";
import {
  fitExponential,
  fitLine,
  fitPowerLaw,
  measure,
  median,
  runSweep,
  timeCalls,
  timePerCall,
} from "./backprop-cost";
import { naiveCount, totalOps } from "./op-count";

test("fitLine recovers an exact line and reports r2 = 1", () => {
  const f = fitLine([1, 2, 3, 4], [5, 7, 9, 11]);
  assert.ok(Math.abs(f.slope - 2) < 1e-12 && Math.abs(f.intercept - 3) < 1e-12);
  assert.equal(f.r2, 1);
});

test("fitPowerLaw and fitExponential recover exponents of exact data", () => {
  const xs = [2, 4, 8, 16, 32];
  const table: [number, number][] = [
    [1, 3],
    [2.5, 0.1],
    [5, 7],
  ];
  for (const [p, c] of table) {
    const f = fitPowerLaw(
      xs,
      xs.map((x) => c * x ** p),
    );
    assert.ok(Math.abs(f.slope - p) < 1e-12, `power ${p}: got ${f.slope}`);
  }
  const e = fitExponential(
    [2, 3, 4, 5],
    [2, 3, 4, 5].map((n) => 4 ** n),
  );
  assert.ok(Math.abs(e.slope - Math.log(4)) < 1e-12);
});

test("fits reject data they cannot fit", () => {
  assert.throws(() => fitLine([1], [1]), /at least 2 points/);
  assert.throws(() => fitLine([1, 2], [1]), /2 x values but 1 y values/);
  assert.throws(() => fitLine([3, 3], [1, 2]), /all x values are equal/);
  assert.throws(() => fitPowerLaw([1, 2], [0, 1]), /must be positive/);
  assert.throws(() => fitLine([1, NaN], [1, 2]), /non-finite/);
});

test("median of odd and even lists", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), /no values/);
});

test("timePerCall batches calls and returns a positive per-call time", () => {
  let calls = 0;
  const s = timePerCall(() => void calls++, { reps: 3, minBatchMs: 1 });
  assert.ok(s > 0 && s < 1e-3, `${s}`);
  assert.ok(calls > 3);
});

test("a sweep records counts equal to the closed form for every size", () => {
  const rows = runSweep({ method: "naive", vary: "K", values: [2, 3], fixed: 3 }, { reps: 1, minBatchMs: 0 });
  assert.deepEqual(
    rows.map((r) => [r.K, r.N]),
    [
      [2, 3],
      [3, 3],
    ],
  );
  for (const r of rows) {
    assert.equal(r.ops, totalOps(naiveCount(r.K, r.N)));
    assert.equal(r.ops, r.predictedOps);
  }
  assert.equal(measure("backprop", 4, 5, { reps: 1, minBatchMs: 0 }).N, 5);
});

test("timePerCall caps repetitions by the time budget but never runs fewer than 3", () => {
  let calls = 0;
  const slow = () => {
    calls++;
    const t0 = performance.now();
    while (performance.now() - t0 < 2);
  };
  const t = timeCalls(slow, { reps: 1000, minBatchMs: 1, maxSecondsPerSize: 0.001 });
  // one warm-up, one calibration batch of one call, then exactly 3 repetitions
  assert.equal(calls, 5);
  assert.equal(t.reps, 3);
  assert.ok(t.min <= t.median && t.min >= 0.002, `${t.min} ${t.median}`);
});
