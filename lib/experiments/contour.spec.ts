import { test } from "node:test";
import assert from "node:assert/strict";
import type { Point } from "../models/softmax/contour";
import { descentPaths, distancesTo, gridAround, stableRate, stepsToStayWithin } from "./contour";

test("stableRate keeps the report's rate only where plain descent is stable", () => {
  const cases: [number, number, number][] = [
    [6e-3, 100, 6e-3], // 0.6 < 2
    [6e-3, 333, 6e-3], // 1.998 < 2
    [6e-3, 259.2, 6e-3],
    [6e-3, 400, 0.0037], // 2.4: 1.5 / 400 = 0.00375 in binary is just below, so two digits give 0.0037
    [6e-3, 256.3 * 10, 0.00059],
  ];
  for (const [rate, lMax, want] of cases) assert.equal(stableRate(rate, lMax), want, `${rate} at ${lMax}`);
});

test("stepsToStayWithin: the first step from which every later distance is below tol", () => {
  const cases: [number[], number, number][] = [
    [[3, 2, 1, 0.5, 0.1], 1, 3],
    [[3, 0.5, 2, 0.5, 0.1], 1, 3],
    [[0.5, 0.4], 1, 0],
    [[3, 2, 1.5], 1, -1],
    [[3, 0.9, 1.0], 1, -1],
  ];
  for (const [d, tol, want] of cases) assert.equal(stepsToStayWithin(d, tol), want, JSON.stringify(d));
});

// C(w) = 0.5 (a w1^2 + c w2^2): gradient (a w1, c w2), minimum at the origin.
const quadratic = (a: number, c: number) => ({
  gradient: ([x, y]: Point): Point => [a * x, c * y],
  cost: ([x, y]: Point) => 0.5 * (a * x * x + c * y * y),
});

test("descentPaths: no momentum, 0.25 and 0.8 from one start; distances to the minimum", () => {
  const s = quadratic(1, 10);
  const paths = descentPaths(s, [1, 1], 0.1, 3);
  // Plain descent: w <- w - 0.1 g, so (1, 1) -> (0.9, 0) -> (0.81, 0) -> (0.729, 0).
  assert.deepEqual(
    paths.plain.map((p) => p.map((v) => Number(v.toFixed(6)))),
    [
      [1, 1],
      [0.9, 0],
      [0.81, 0],
      [0.729, 0],
    ],
  );
  assert.equal(paths.m25.length, 4);
  assert.equal(paths.m80.length, 4);
  assert.notDeepEqual(paths.m80[2], paths.plain[2]);
  const d = distancesTo(paths, [0, 0]);
  assert.deepEqual(
    d.plain.map((v) => Number(v.toFixed(6))),
    [Number(Math.SQRT2.toFixed(6)), 0.9, 0.81, 0.729],
  );
});

test("gridAround covers every point with a 15% margin", () => {
  const g = gridAround(
    quadratic(1, 1),
    [
      [0, 0],
      [2, 1],
    ],
    3,
  );
  assert.deepEqual(
    g.xs.map((v) => Number(v.toFixed(10))),
    [-0.3, 1, 2.3],
  );
  assert.deepEqual(
    g.ys.map((v) => Number(v.toFixed(10))),
    [-0.15, 0.5, 1.15],
  );
  assert.equal(g.z.length, 3);
  assert.ok(Math.abs(g.z[1][1] - 0.5 * (1 + 0.25)) < 1e-12, `cost at the centre ${g.z[1][1]}`);
});
