import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend } from "../../runtime/backend";
import { centralDifference, finiteDifferenceTable, gradient64, crossEntropy64, checkProblem } from "./gradient-check";
import { randomProblem } from "./test-problems";

before(async () => {
  await initBackend();
});

test("central differences agree with the hand-written gradient at several weights", () => {
  const p = randomProblem(11, 30, 8, 5);
  const g = gradient64(p).dW;
  for (const [i, j] of [
    [0, 0],
    [2, 5],
    [4, 7],
    [1, 3],
  ]) {
    const want = g[i * p.d + j];
    const fd64 = centralDifference(p, i, j, 1e-5, "float64");
    const fd32 = centralDifference(p, i, j, 1e-2, "float32");
    assert.ok(Math.abs(fd64 - want) < 1e-7 * Math.max(1, Math.abs(want)), `float64 (${i},${j}): ${fd64} vs ${want}`);
    assert.ok(Math.abs(fd32 - want) < 2e-3 * Math.max(1, Math.abs(want)), `float32 (${i},${j}): ${fd32} vs ${want}`);
  }
});

test("the error table shows truncation at large h and float32 rounding at small h", () => {
  const p = randomProblem(12, 40, 8, 5);
  const rows = finiteDifferenceTable(
    p,
    [
      [0, 1],
      [3, 4],
    ],
    [1, 1e-2, 1e-7],
  );
  assert.deepEqual(
    rows.map((r) => r.h),
    [1, 1e-2, 1e-7],
  );
  // Truncation error O(h^2): 100x smaller h -> much smaller float64 error.
  assert.ok(rows[1].relError64 < rows[0].relError64 / 100, JSON.stringify(rows));
  // At h = 1e-7 float32 rounding of C (~1e-7 * C) swamps the difference; float64 does not.
  assert.ok(rows[2].relError32 > 10 * rows[1].relError32, JSON.stringify(rows));
  assert.ok(rows[2].relError64 < 1e-6, JSON.stringify(rows));
});

test("bad inputs are named", () => {
  const p = randomProblem(13, 4, 3, 2);
  assert.throws(() => centralDifference(p, 2, 0, 1e-3, "float64"), /weight \(2, 0\) is outside W \(2 x 3\)/);
  assert.throws(() => centralDifference(p, 0, 0, 0, "float64"), /step h must be positive/);
  assert.throws(() => checkProblem({ ...p, b: new Float32Array(3) }), /Problem.b has 3 values, expected 2/);
  assert.ok(crossEntropy64(p) > 0);
});
