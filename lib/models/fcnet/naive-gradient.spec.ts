import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Random } from "../../runtime/random";
import { cost, forward, randomExample, randomFcNet } from "./fc-net";
import { relativeError, tfGradient } from "./fc-net-tf";
import { naiveGradient } from "./naive-gradient";
import { naiveCount } from "./op-count";

const SHAPES: [number, number][] = [
  [1, 2],
  [2, 2],
  [2, 3],
  [3, 4],
  [4, 3],
  [5, 5],
  [3, 6],
];

test("naive gradient agrees with tf.grad to 1e-4 on random small nets", async () => {
  await tf.setBackend("cpu");
  for (const [K, N] of SHAPES) {
    for (const seed of [1, 2, 3]) {
      const rng = new Random(seed * 100 + K * 10 + N);
      const net = randomFcNet(rng, K, N);
      const ex = randomExample(rng, K);
      const err = relativeError(naiveGradient(net, ex).grads, tfGradient(net, ex));
      assert.ok(err < 1e-4, `K=${K} N=${N} seed=${seed}: relative error ${err}`);
    }
  }
});

test("naive gradient matches central finite differences of the cost", () => {
  const rng = new Random(11);
  const net = randomFcNet(rng, 3, 4);
  const ex = randomExample(rng, 3);
  const { grads } = naiveGradient(net, ex);
  const h = 1e-6;
  for (let l = 0; l < net.weights.length; l++) {
    for (let k = 0; k < 9; k++) {
      const w = net.weights[l];
      const w0 = w[k];
      w[k] = w0 + h;
      const up = cost(forward(net, ex.x)[3], ex.target);
      w[k] = w0 - h;
      const down = cost(forward(net, ex.x)[3], ex.target);
      w[k] = w0;
      assert.ok(Math.abs((up - down) / (2 * h) - grads[l][k]) < 1e-8, `layer ${l} weight ${k}`);
    }
  }
});

test("the counter returns the closed-form count (K = 2, N = 3 by hand; then a grid)", () => {
  const rng = new Random(5);
  const small = randomFcNet(rng, 2, 3);
  assert.deepEqual(naiveGradient(small, randomExample(rng, 2)).ops, { mul: 72, add: 16, act: 24, cost: 16 });
  for (const K of [1, 2, 3, 5]) {
    for (const N of [2, 3, 4, 5]) {
      const net = randomFcNet(rng, K, N);
      assert.deepEqual(naiveGradient(net, randomExample(rng, K)).ops, naiveCount(K, N), `K=${K} N=${N}`);
    }
  }
});

test("cached activations of the wrong shape are rejected", () => {
  const rng = new Random(2);
  const net = randomFcNet(rng, 3, 3);
  const ex = randomExample(rng, 3);
  assert.throws(
    () => naiveGradient(net, ex, forward(net, ex.x).slice(1)),
    /cached activations must be 3 layers of 3 values/,
  );
});
