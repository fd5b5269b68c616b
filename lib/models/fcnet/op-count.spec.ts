import { test } from "node:test";
import assert from "node:assert/strict";
import { backpropCount, geometric, naiveCount, perWeightCount, totalOps } from "./op-count";

// K = 2, N = 3 (two 2x2 weight matrices), counted by hand from the recurrences:
// naive, output weights (depth 0): per weight K(t_C + t_a + 3t_m) + (K-1)t_+ = 2C 2A 6M 1P; x4.
//        first weights (depth 1): eq. 9 once = t_a + 3t_m + t_+, so per weight
//        2(C + A + 3M + A + 3M + P) + P = 2C 4A 12M 3P; x4.   Total 16C 24A 72M 16P.
// report's backprop: output 4 x (C + A + 2M); hidden 4 x (A + 4M + P).  Total 4C 8A 24M 4P.
// backprop: 2C; e^(3): 2A 2M; grads 4M; W^T e: 4M 2P; e^(2): 2A 2M; grads 4M.  Total 2C 4A 16M 2P.
test("closed forms reproduce the hand count for K = 2, N = 3", () => {
  assert.deepEqual(naiveCount(2, 3), { cost: 16, act: 24, mul: 72, add: 16 });
  assert.deepEqual(perWeightCount(2, 3), { cost: 4, act: 8, mul: 24, add: 4 });
  assert.deepEqual(backpropCount(2, 3), { cost: 2, act: 4, mul: 16, add: 2 });
});

// K = 3, N = 2 (one 3x3 matrix): naive per weight 3(C + A + 3M) + 2P, x9 = 27C 27A 81M 18P;
// report's backprop 9(C + A + 2M); backprop 3C + 3A 3M + 9M.
test("closed forms reproduce the hand count for a single layer of weights (K = 3, N = 2)", () => {
  assert.deepEqual(naiveCount(3, 2), { cost: 27, act: 27, mul: 81, add: 18 });
  assert.deepEqual(perWeightCount(3, 2), { cost: 9, act: 9, mul: 18, add: 0 });
  assert.deepEqual(backpropCount(3, 2), { cost: 3, act: 3, mul: 12, add: 0 });
});

test("geometric sum S(d) = (K^d - 1)/(K - 1), and d for K = 1", () => {
  const table: [number, number, number][] = [
    [3, 0, 0],
    [3, 1, 1],
    [3, 4, 40],
    [2, 10, 1023],
    [1, 5, 5],
  ];
  for (const [K, d, s] of table) assert.equal(geometric(K, d), s, `S(${d}) for K = ${K}`);
});

test("asymptotics: naive ~ 2 K^(N+1), report's backprop ~ 2 N K^3, backprop ~ 3 N K^2", () => {
  const K = 1000;
  const N = 6;
  assert.ok(Math.abs(totalOps(naiveCount(K, N)) / (2 * K ** (N + 1)) - 1) < 0.01);
  const big = 10_000;
  assert.ok(Math.abs(totalOps(perWeightCount(K, big)) / (2 * big * K ** 3) - 1) < 0.01);
  assert.ok(Math.abs(totalOps(backpropCount(K, big)) / (3 * big * K ** 2) - 1) < 0.01);
});

test("bad sizes are rejected with the value named", () => {
  assert.throws(() => naiveCount(0, 3), /layer width K must be a positive integer, got 0/);
  assert.throws(() => backpropCount(2.5, 3), /got 2.5/);
  assert.throws(() => perWeightCount(2, 1), /layer count N must be an integer >= 2.*got 1/);
});
