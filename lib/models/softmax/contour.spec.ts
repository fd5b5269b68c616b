import { oneHot } from "../../data/labelled";
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  costSlice,
  descentPath,
  eigenvalues2,
  linspace,
  costGrid,
  narrowestSlice,
  pairCurvatures,
  sliceMinimum,
  valleyPoint,
} from "./contour";
import { crossEntropy64, gradient64, Problem } from "./gradient-check";
import { separableSet } from "./test-problems";
import { Random } from "../../runtime/random";

const k = 4,
  d = 12;
const set = separableSet(21, 150, d, k);
// Some images have pixel 5 at zero, so the slice's constant part is exercised too.
for (let r = 0; r < set.rows; r += 3) set.x[r * d + 5] = 0;
const rng = new Random(22);
const W = rng.normalArray(k * d, 0, 0.3);
const b = rng.normalArray(k, 0, 0.3);
const problem = (w1: number, w2: number): Problem => {
  const Wm = Float32Array.from(W);
  Wm[1 * d + 5] = w1;
  Wm[3 * d + 5] = w2;
  return { n: set.rows, d, k, W: Wm, b, X: set.x, Y: oneHot(set, k) };
};
const slice = costSlice(W, b, set, { pixel: 5, outputs: [1, 3] });

test("the slice's cost equals the full cost with the two weights moved", () => {
  assert.deepEqual(slice.center, [W[1 * d + 5], W[3 * d + 5]]);
  assert.equal(slice.activeImages, set.rows - 50);
  for (const [w1, w2] of [slice.center, [0, 0], [2.5, -1], [-3, 4]]) {
    const want = crossEntropy64(problem(w1, w2));
    assert.ok(
      Math.abs(slice.cost([w1, w2]) - want) < 1e-6 * want,
      `(${w1}, ${w2}): ${slice.cost([w1, w2])} vs ${want}`,
    );
  }
});

test("the slice's gradient and Hessian equal the full gradient and its differences", () => {
  for (const [w1, w2] of [
    [0.3, -0.2],
    [2, 1],
  ]) {
    const g = gradient64(problem(Math.fround(w1), Math.fround(w2))).dW;
    const got = slice.gradient([Math.fround(w1), Math.fround(w2)]);
    assert.ok(
      Math.abs(got[0] - g[1 * d + 5]) < 1e-6 && Math.abs(got[1] - g[3 * d + 5]) < 1e-6,
      `${got} vs ${g[1 * d + 5]}, ${g[3 * d + 5]}`,
    );
    const h = 1e-5;
    const [h11, h12, h22] = slice.hessian([w1, w2]);
    const d1 = (slice.gradient([w1 + h, w2])[0] - slice.gradient([w1 - h, w2])[0]) / (2 * h);
    const d12 = (slice.gradient([w1, w2 + h])[0] - slice.gradient([w1, w2 - h])[0]) / (2 * h);
    const d2 = (slice.gradient([w1, w2 + h])[1] - slice.gradient([w1, w2 - h])[1]) / (2 * h);
    for (const [a, e] of [
      [h11, d1],
      [h12, d12],
      [h22, d2],
    ])
      assert.ok(Math.abs(a - e) < 1e-5 * Math.max(1, Math.abs(e)), `${a} vs ${e}`);
  }
});

test("descentPath follows the report's update on a quadratic computed by hand", () => {
  // C = (w1^2 + 10 w2^2) / 2, gradient (w1, 10 w2); rate 0.1, momentum 0.5 from (1, 1):
  // v1 = -0.1 (1, 10) = (-0.1, -1) -> w1 = (0.9, 0)
  // v2 = 0.5 v1 - 0.1 (0.9, 0) = (-0.14, -0.5) -> w2 = (0.76, -0.5)
  const quad = { gradient: ([a, c]: [number, number]): [number, number] => [a, 10 * c] };
  const p = descentPath(quad, [1, 1], { learningRate: 0.1, momentum: 0.5, steps: 2 });
  const want = [
    [1, 1],
    [0.9, 0],
    [0.76, -0.5],
  ];
  p.forEach((pt, i) => pt.forEach((v, j) => assert.ok(Math.abs(v - want[i][j]) < 1e-12, `point ${i}: ${pt}`)));
  assert.throws(
    () => descentPath(quad, [1, 1], { learningRate: 1e200, momentum: 0, steps: 10 }),
    /diverged at step \d+ with learning rate 1e\+200/,
  );
});

test("helpers: eigenvalues, linspace, grid layout, bad arguments", () => {
  assert.deepEqual(eigenvalues2([3, 0, 1]), [3, 1]);
  const [l1, l2] = eigenvalues2([2, 1, 2]);
  assert.ok(Math.abs(l1 - 3) < 1e-12 && Math.abs(l2 - 1) < 1e-12);
  assert.deepEqual(linspace(0, 1, 5), [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(costGrid({ cost: ([x, y]) => 10 * y + x }, [0, 1, 2], [0, 1]), [
    [0, 1, 2],
    [10, 11, 12],
  ]);
  assert.throws(() => costSlice(W, b, set, { pixel: 12, outputs: [0, 1] }), /pixel 12 is outside 0..11/);
  assert.throws(() => costSlice(W, b, set, { pixel: 1, outputs: [2, 2] }), /different outputs/);
  assert.throws(() => costSlice(W, b, set, { pixel: 1, outputs: [0, 4] }), /output 4 is outside 0..3/);
});

test("pairCurvatures: each pair's Hessian is the slice's Hessian at W; limits and order", () => {
  const all = pairCurvatures(W, b, set, { minActive: 1, minLabelled: 0 });
  assert.equal(all.length, (d * k * (k - 1)) / 2, "every pixel is inked somewhere: all pairs");
  for (let i = 1; i < all.length; i++) assert.ok(all[i - 1].ratio >= all[i].ratio, "sorted by ratio");
  const pair = all.find((r) => r.pixel === 5 && r.outputs[0] === 1 && r.outputs[1] === 3)!;
  const want = eigenvalues2(slice.hessian(slice.center));
  assert.ok(Math.abs(pair.eigenvalues[0] - want[0]) < 1e-9 * want[0]);
  assert.ok(Math.abs(pair.eigenvalues[1] - want[1]) < 1e-9 * want[0]);
  assert.equal(pair.activeImages, slice.activeImages);
  let ones = 0;
  for (let r = 0; r < set.rows; r++) if (set.x[r * d + 5] !== 0 && set.labels[r] === 1) ones++;
  assert.equal(pair.labelled[0], ones);
  // Pixel 5 is blank in 50 of 150 images: a limit of 101 active images drops it.
  assert.ok(pairCurvatures(W, b, set, { minActive: 101, minLabelled: 0 }).every((r) => r.pixel !== 5));
  assert.deepEqual(pairCurvatures(W, b, set, { minActive: 1, minLabelled: set.rows }), []);
});

test("narrowestSlice picks the candidate with the largest ratio at its own minimum, where the gradient vanishes", () => {
  const candidates = pairCurvatures(W, b, set, { minActive: 1, minLabelled: 1 }).slice(0, 4);
  const best = narrowestSlice(W, b, set, candidates);
  for (const c of candidates) {
    const s = costSlice(W, b, set, { pixel: c.pixel, outputs: c.outputs });
    const [l1, l2] = eigenvalues2(s.hessian(sliceMinimum(s)));
    assert.ok(l1 / l2 <= best.ratio * (1 + 1e-12));
  }
  const g = best.slice.gradient(best.minimum);
  assert.ok(Math.hypot(g[0], g[1]) < 1e-6, `gradient ${g} at the minimum`);
  assert.throws(() => narrowestSlice(W, b, set, []), /no candidate pairs/);
});

test("valleyPoint steps along the flattest and across the steepest direction", () => {
  // Steep along w1 (curvature 4), flat along w2 (1).
  assert.deepEqual(valleyPoint([0, 0], [4, 0, 1], 2, 1), [1, 2]);
  // Rotated 45 degrees: eigenvalues 3 (along (1, 1)) and 1 (along (1, -1)).
  const [x, y] = valleyPoint([1, 1], [2, 1, 2], Math.SQRT2, 0);
  assert.ok(Math.abs(Math.abs(x - 1) - 1) < 1e-12 && Math.abs(x - 1 + (y - 1)) < 1e-12, `(${x}, ${y})`);
});
