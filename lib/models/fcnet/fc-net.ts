/**
 * The network of the report's Part 7: N layers of K units, fully connected, no biases,
 * y^(l+1) = tanh(W^(l) y^(l)), and the cost C = 1/2 sum_i (y_i^(N) - t_i)^2.
 * Plain Float64Array code so that every multiply and add can be counted (op-count.ts).
 *
 * Indices are 0-based here: layers 0..N-1 (0 = input), weights[l] maps layer l to l+1,
 * stored row-major: weights[l][i * K + j] is the weight from node j of layer l to node i
 * of layer l + 1 (the report's w_ij^(l+1)).
 */
import { Random } from "../../runtime/random";
import { OpCounts, checkShape } from "./op-count";

export interface FcNet {
  K: number;
  N: number;
  weights: Float64Array[];
}

export interface Example {
  x: Float64Array;
  target: Float64Array;
}

/**
 * a'(z) written through the cached output y = tanh(z): 1 - y^2. This is what the
 * cost model calls one activation-derivative evaluation (t_a).
 */
export function activationDerivative(y: number): number {
  return 1 - y * y;
}

/** dC/dy_i for the squared-error cost: one cost-derivative evaluation (t_C). */
export function costDerivative(y: number, target: number): number {
  return y - target;
}

export function cost(output: Float64Array, target: Float64Array): number {
  let c = 0;
  for (let i = 0; i < output.length; i++) c += 0.5 * (output[i] - target[i]) ** 2;
  return c;
}

/**
 * A random net whose weights are N(0, scale^2 / K): with the default scale the
 * pre-activations stay O(1), tanh is not saturated, and the gradients are well
 * conditioned enough to compare with float32 TensorFlow.js.
 */
export function randomFcNet(rng: Random, K: number, N: number, scale = 1): FcNet {
  checkShape(K, N);
  const std = scale / Math.sqrt(K);
  const weights: Float64Array[] = [];
  for (let l = 0; l < N - 1; l++) {
    const w = new Float64Array(K * K);
    for (let k = 0; k < w.length; k++) w[k] = rng.normal(0, std);
    weights.push(w);
  }
  return { K, N, weights };
}

/** An input in [-1, 1]^K and a target in [-0.5, 0.5]^K. */
export function randomExample(rng: Random, K: number): Example {
  const x = new Float64Array(K);
  const target = new Float64Array(K);
  for (let i = 0; i < K; i++) x[i] = 2 * rng.uniform() - 1;
  for (let i = 0; i < K; i++) target[i] = rng.uniform() - 0.5;
  return { x, target };
}

export function checkNet(net: FcNet, ex?: Example): void {
  checkShape(net.K, net.N);
  const { K, N } = net;
  if (net.weights.length !== N - 1) {
    throw new Error(`FcNet: expected ${N - 1} weight matrices for N = ${N} layers, got ${net.weights.length}`);
  }
  net.weights.forEach((w, l) => {
    if (w.length !== K * K) throw new Error(`FcNet: weights[${l}] has ${w.length} entries, expected K*K = ${K * K}`);
  });
  if (ex) {
    if (ex.x.length !== K) throw new Error(`FcNet: input has ${ex.x.length} entries, expected K = ${K}`);
    if (ex.target.length !== K) throw new Error(`FcNet: target has ${ex.target.length} entries, expected K = ${K}`);
  }
}

/**
 * Forward propagation; returns every layer's output y^(l) (layer 0 is the input itself).
 * The report assumes these are cached before any gradient is taken, so forward work is
 * not part of the gradient's operation count.
 */
export function forward(net: FcNet, x: Float64Array): Float64Array[] {
  checkNet(net, { x, target: x });
  const { K, N, weights } = net;
  const ys: Float64Array[] = [Float64Array.from(x)];
  for (let l = 0; l < N - 1; l++) {
    const w = weights[l];
    const prev = ys[l];
    const next = new Float64Array(K);
    for (let i = 0; i < K; i++) {
      let z = 0;
      for (let j = 0; j < K; j++) z += w[i * K + j] * prev[j];
      next[i] = Math.tanh(z);
    }
    ys.push(next);
  }
  return ys;
}

/** A gradient with the same layout as `FcNet.weights`, and what it cost to compute. */
export interface GradientResult {
  grads: Float64Array[];
  ops: OpCounts;
}

/**
 * The arrays a gradient method writes: the gradient (N - 1 matrices of K x K) and three
 * K-vectors of scratch. Every method takes one, so timing loops can reuse a single workspace
 * and measure arithmetic alone: allocating fresh typed arrays costs far more than the
 * arithmetic of a small net, and it made backpropagation, which does the least arithmetic,
 * look slower per operation than the other methods. A result's `grads` ARE the workspace's
 * arrays: the next call with the same workspace overwrites them.
 */
export interface GradientWorkspace {
  K: number;
  N: number;
  grads: Float64Array[];
  vectors: [Float64Array, Float64Array, Float64Array];
}

export function gradientWorkspace(K: number, N: number): GradientWorkspace {
  checkShape(K, N);
  return {
    K,
    N,
    grads: Array.from({ length: N - 1 }, () => new Float64Array(K * K)),
    vectors: [new Float64Array(K), new Float64Array(K), new Float64Array(K)],
  };
}

export function checkWorkspace(net: FcNet, ws: GradientWorkspace): void {
  if (ws.K !== net.K || ws.N !== net.N)
    throw new Error(`gradient workspace is for K = ${ws.K}, N = ${ws.N} but the net has K = ${net.K}, N = ${net.N}`);
}

/** The gradient functions accept cached activations (so timings exclude the forward pass). */
export function checkActivations(net: FcNet, ys: Float64Array[]): void {
  if (ys.length !== net.N || ys.some((y) => y.length !== net.K)) {
    throw new Error(`cached activations must be ${net.N} layers of ${net.K} values (from forward(net, x))`);
  }
}

/** What every per-example gradient method checks first: the net and example, the forward pass's activations and the workspace. */
export function checkGradientInputs(net: FcNet, ex: Example, ys: Float64Array[], ws: GradientWorkspace): void {
  checkNet(net, ex);
  checkActivations(net, ys);
  checkWorkspace(net, ws);
}
