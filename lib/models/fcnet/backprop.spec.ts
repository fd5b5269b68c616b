import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Random } from "../../runtime/random";
import { gradientWorkspace, randomExample, randomFcNet } from "./fc-net";
import { relativeError, tfGradient } from "./fc-net-tf";
import { backprop, perWeightBackprop } from "./backprop";
import { naiveGradient } from "./naive-gradient";
import { backpropCount, perWeightCount } from "./op-count";

const SHAPES: [number, number][] = [
  [1, 2],
  [2, 2],
  [2, 3],
  [3, 4],
  [4, 3],
  [8, 5],
  [16, 3],
  [3, 9],
];

test("both cached methods agree with tf.grad to 1e-4 on random small nets", async () => {
  await tf.setBackend("cpu");
  for (const [K, N] of SHAPES) {
    for (const seed of [1, 2, 3]) {
      const rng = new Random(seed * 100 + K * 10 + N);
      const net = randomFcNet(rng, K, N);
      const ex = randomExample(rng, K);
      const ref = tfGradient(net, ex);
      for (const [name, fn] of [
        ["backprop", backprop],
        ["perWeight", perWeightBackprop],
      ] as const) {
        const err = relativeError(fn(net, ex).grads, ref);
        assert.ok(err < 1e-4, `${name} K=${K} N=${N} seed=${seed}: relative error ${err}`);
      }
    }
  }
});

test("in float64 the three methods agree to rounding (1e-12)", () => {
  const rng = new Random(9);
  for (const [K, N] of [
    [3, 4],
    [4, 5],
    [2, 7],
  ]) {
    const net = randomFcNet(rng, K, N);
    const ex = randomExample(rng, K);
    const ref = naiveGradient(net, ex).grads;
    assert.ok(relativeError(backprop(net, ex).grads, ref) < 1e-12);
    assert.ok(relativeError(perWeightBackprop(net, ex).grads, ref) < 1e-12);
  }
});

test("the counters return the closed-form counts (K = 2, N = 3 by hand; then a grid)", () => {
  const rng = new Random(4);
  const net = randomFcNet(rng, 2, 3);
  const ex = randomExample(rng, 2);
  assert.deepEqual(backprop(net, ex).ops, { mul: 16, add: 2, act: 4, cost: 2 });
  assert.deepEqual(perWeightBackprop(net, ex).ops, { mul: 24, add: 4, act: 8, cost: 4 });
  for (const K of [1, 2, 3, 7]) {
    for (const N of [2, 3, 4, 8]) {
      const n = randomFcNet(rng, K, N);
      const e = randomExample(rng, K);
      assert.deepEqual(backprop(n, e).ops, backpropCount(K, N), `backprop K=${K} N=${N}`);
      assert.deepEqual(perWeightBackprop(n, e).ops, perWeightCount(K, N), `perWeight K=${K} N=${N}`);
    }
  }
});

test("a target of the wrong length is rejected", () => {
  const rng = new Random(1);
  const net = randomFcNet(rng, 3, 3);
  assert.throws(
    () => backprop(net, { x: new Float64Array(3), target: new Float64Array(2) }),
    /target has 2 entries, expected K = 3/,
  );
});

test("a reused workspace gives the same gradient as fresh arrays, call after call; a mismatched one is refused", () => {
  const rng = new Random(5);
  const net = randomFcNet(rng, 4, 5);
  const ws = gradientWorkspace(4, 5);
  for (let call = 0; call < 3; call++) {
    const ex = randomExample(rng, 4);
    for (const fn of [backprop, perWeightBackprop, naiveGradient]) {
      const fresh = fn(net, ex).grads;
      const reused = fn(net, ex, undefined, ws).grads;
      assert.deepEqual(
        reused.map((g) => [...g]),
        fresh.map((g) => [...g]),
        `${fn.name}, call ${call}`,
      );
      assert.equal(reused, ws.grads);
    }
  }
  assert.throws(
    () => backprop(net, randomExample(rng, 4), undefined, gradientWorkspace(4, 4)),
    /workspace is for K = 4, N = 4 but the net has K = 4, N = 5/,
  );
});
