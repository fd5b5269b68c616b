import { test } from "node:test";
import assert from "node:assert/strict";
import { Random } from "../../runtime/random";
import { FcNet, cost, forward, randomExample, randomFcNet } from "./fc-net";

test("forward pass of a hand-written 2-unit, 3-layer net", () => {
  const net: FcNet = {
    K: 2,
    N: 3,
    weights: [Float64Array.from([1, 0, 0.5, -1]), Float64Array.from([2, 0, 0, 0])],
  };
  const ys = forward(net, Float64Array.from([0.5, 0.25]));
  assert.deepEqual(Array.from(ys[0]), [0.5, 0.25]);
  assert.deepEqual(Array.from(ys[1]), [Math.tanh(0.5), Math.tanh(0)]);
  assert.deepEqual(Array.from(ys[2]), [Math.tanh(2 * Math.tanh(0.5)), 0]);
  assert.equal(cost(ys[2], Float64Array.from([0, 1])), 0.5 * Math.tanh(2 * Math.tanh(0.5)) ** 2 + 0.5);
});

test("random nets are seeded and shaped K x K per layer", () => {
  const a = randomFcNet(new Random(3), 4, 5);
  const b = randomFcNet(new Random(3), 4, 5);
  assert.equal(a.weights.length, 4);
  assert.ok(a.weights.every((w) => w.length === 16));
  assert.deepEqual(a.weights, b.weights);
  const ex = randomExample(new Random(1), 4);
  assert.ok(Array.from(ex.x).every((v) => v >= -1 && v <= 1));
});

test("malformed nets and inputs give errors naming what is wrong", () => {
  const net = randomFcNet(new Random(1), 3, 3);
  assert.throws(() => forward(net, new Float64Array(2)), /input has 2 entries, expected K = 3/);
  assert.throws(
    () => forward({ ...net, weights: net.weights.slice(1) }, new Float64Array(3)),
    /expected 2 weight matrices/,
  );
  assert.throws(
    () => forward({ ...net, weights: [net.weights[0], new Float64Array(4)] }, new Float64Array(3)),
    /weights\[1\] has 4 entries/,
  );
});
