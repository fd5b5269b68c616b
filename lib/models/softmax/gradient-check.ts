/**
 * Part 3(b) checks of the hand-written gradient: a double-precision reference written
 * out in plain loops (so the float32 tensor code has something exact to be compared
 * with), central finite differences in float32 and float64, and tf.grad.
 */
import * as tf from "@tensorflow/tfjs";
import { crossEntropy } from "./softmax";

/** A softmax-regression problem held in plain arrays: W is k x d, X is n x d, Y is n x k. */
export interface Problem {
  n: number;
  d: number;
  k: number;
  W: Float32Array;
  b: Float32Array;
  X: Float32Array;
  Y: Float32Array;
}

export function checkProblem(p: Problem): void {
  const sizes: [string, ArrayLike<number>, number][] = [
    ["W", p.W, p.k * p.d],
    ["b", p.b, p.k],
    ["X", p.X, p.n * p.d],
    ["Y", p.Y, p.n * p.k],
  ];
  for (const [name, a, want] of sizes) {
    if (a.length !== want)
      throw new Error(`Problem.${name} has ${a.length} values, expected ${want} (n=${p.n}, d=${p.d}, k=${p.k})`);
  }
}

/** Per-example probabilities in float64. */
function probabilities64(p: Problem, W: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const P = new Float64Array(p.n * p.k);
  for (let r = 0; r < p.n; r++) {
    let max = -Infinity;
    for (let i = 0; i < p.k; i++) {
      let o = b[i];
      for (let j = 0; j < p.d; j++) o += W[i * p.d + j] * p.X[r * p.d + j];
      P[r * p.k + i] = o;
      if (o > max) max = o;
    }
    let s = 0;
    for (let i = 0; i < p.k; i++) s += P[r * p.k + i] = Math.exp(P[r * p.k + i] - max);
    for (let i = 0; i < p.k; i++) P[r * p.k + i] /= s;
  }
  return P;
}

/** Summed cross-entropy in float64 (W and b may be overridden, e.g. perturbed). */
export function crossEntropy64(p: Problem, W: ArrayLike<number> = p.W, b: ArrayLike<number> = p.b): number {
  checkProblem(p);
  const P = probabilities64(p, W, b);
  let c = 0;
  for (let r = 0; r < p.n * p.k; r++) if (p.Y[r] !== 0) c -= p.Y[r] * Math.log(P[r]);
  return c;
}

/** Eq. (6) in float64: dC/dw_ij = sum_k (p_i - y_i) x_j, and dC/db_i = sum_k (p_i - y_i). */
export function gradient64(p: Problem): { dW: Float64Array; db: Float64Array } {
  checkProblem(p);
  const P = probabilities64(p, p.W, p.b);
  const dW = new Float64Array(p.k * p.d);
  const db = new Float64Array(p.k);
  for (let r = 0; r < p.n; r++) {
    for (let i = 0; i < p.k; i++) {
      const e = P[r * p.k + i] - p.Y[r * p.k + i];
      db[i] += e;
      for (let j = 0; j < p.d; j++) dW[i * p.d + j] += e * p.X[r * p.d + j];
    }
  }
  return { dW, db };
}

/** The problem's arrays as tensors (caller disposes). */
export function problemTensors(p: Problem): { W: tf.Tensor2D; b: tf.Tensor1D; X: tf.Tensor2D; Y: tf.Tensor2D } {
  checkProblem(p);
  return {
    W: tf.tensor2d(p.W, [p.k, p.d]),
    b: tf.tensor1d(p.b),
    X: tf.tensor2d(p.X, [p.n, p.d]),
    Y: tf.tensor2d(p.Y, [p.n, p.k]),
  };
}

export type Precision = "float32" | "float64";

/**
 * Central difference (C(w + h) - C(w - h)) / 2h for weight (i, j). In float32 the cost
 * is computed by the same tensor code as training, with W held in float32, so both the
 * rounding of w +- h and of C show up; in float64 the plain-loop reference is used.
 */
export function centralDifference(p: Problem, i: number, j: number, h: number, precision: Precision): number {
  if (!(i >= 0 && i < p.k && j >= 0 && j < p.d))
    throw new Error(`centralDifference: weight (${i}, ${j}) is outside W (${p.k} x ${p.d})`);
  if (!(h > 0)) throw new Error(`centralDifference: step h must be positive, got ${h}`);
  const at = i * p.d + j;
  if (precision === "float64") {
    const W = Float64Array.from(p.W);
    W[at] = p.W[at] + h;
    const up = crossEntropy64(p, W);
    W[at] = p.W[at] - h;
    return (up - crossEntropy64(p, W)) / (2 * h);
  }
  const cost = (w: number) =>
    tf.tidy(() => {
      const W = Float32Array.from(p.W);
      W[at] = w;
      const t = problemTensors({ ...p, W });
      return crossEntropy(t.W, t.X, t.b, t.Y).dataSync()[0];
    });
  return (cost(p.W[at] + h) - cost(p.W[at] - h)) / (2 * h);
}

export interface DifferenceRow {
  h: number;
  /** Largest |finite difference - exact gradient| / max(|exact|, 1e-3) over the checked weights. */
  relError32: number;
  relError64: number;
}

/**
 * The error of central differences against the float64 hand-written gradient, for each
 * step size, worst case over `coords`. With h large the O(h^2) truncation error wins;
 * with h small the rounding of C (about eps * |C| / h) wins, and float32's eps (1.2e-7)
 * makes that happen about 10^9 times sooner than float64's (2.2e-16).
 */
export function finiteDifferenceTable(p: Problem, coords: [number, number][], steps: number[]): DifferenceRow[] {
  const exact = gradient64(p).dW;
  return steps.map((h) => {
    let e32 = 0;
    let e64 = 0;
    for (const [i, j] of coords) {
      const g = exact[i * p.d + j];
      const scale = Math.max(Math.abs(g), 1e-3);
      e32 = Math.max(e32, Math.abs(centralDifference(p, i, j, h, "float32") - g) / scale);
      e64 = Math.max(e64, Math.abs(centralDifference(p, i, j, h, "float64") - g) / scale);
    }
    return { h, relError32: e32, relError64: e64 };
  });
}

/** Largest |a - b| / max(|b|, floor) over two gradients (both flattened). */
export function maxRelativeDifference(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-3): number {
  if (a.length !== b.length) throw new Error(`maxRelativeDifference: lengths differ (${a.length} vs ${b.length})`);
  let m = 0;
  for (let q = 0; q < a.length; q++) m = Math.max(m, Math.abs(a[q] - b[q]) / Math.max(Math.abs(b[q]), floor));
  return m;
}
