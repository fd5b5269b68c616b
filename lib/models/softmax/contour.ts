/**
 * Part 6: the cost as a function of two weights with every other weight held fixed, and
 * gradient-descent paths on that 2-D slice.
 *
 * Both weights leave the same pixel p (w1 into output a, w2 into output c), so moving them
 * only changes outputs a and c, and only for images whose pixel p is not zero. The slice
 * therefore keeps, per such image, its pixel value, its two changing outputs without the
 * weights' share, and the log-sum-exp of the other outputs; the images with pixel p = 0
 * add a constant. One evaluation of C (or of its gradient) costs a few operations per
 * image instead of a 784 x 10 product. Everything here is float64.
 */
import type { LabelledMatrix } from "../../data/labelled";

export type Point = [number, number];

export interface SliceOptions {
  /** Input index of the pixel (row * 28 + column for MNIST). */
  pixel: number;
  /** The two outputs whose weights from `pixel` vary: w1 -> outputs[0], w2 -> outputs[1]. */
  outputs: [number, number];
}

export interface CostSlice {
  pixel: number;
  outputs: [number, number];
  /** The weights' values in the given W: the point the slice is centred on. */
  center: Point;
  /** How many images have a non-zero value at the pixel (the only ones whose cost varies). */
  activeImages: number;
  cost(w: Point): number;
  gradient(w: Point): Point;
  /** [d2C/dw1^2, d2C/dw1dw2, d2C/dw2^2]. */
  hessian(w: Point): [number, number, number];
}

function logSumExp(v: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < v.length; i++) if (v[i] > m) m = v[i];
  let s = 0;
  for (let i = 0; i < v.length; i++) s += Math.exp(v[i] - m);
  return m + Math.log(s);
}

/** Builds the slice of the summed cross-entropy of `set` through W (k x d) and b. */
export function costSlice(W: Float32Array, b: Float32Array, set: LabelledMatrix, o: SliceOptions): CostSlice {
  const k = b.length;
  const d = W.length / k;
  const [a, c] = o.outputs;
  if (!Number.isInteger(d) || set.x.length !== set.rows * d)
    throw new Error(`costSlice: W is ${k} x ${W.length / k} but the images have ${set.x.length / set.rows} pixels`);
  if (!(o.pixel >= 0 && o.pixel < d && Number.isInteger(o.pixel)))
    throw new Error(`costSlice: pixel ${o.pixel} is outside 0..${d - 1}`);
  for (const out of o.outputs)
    if (!(out >= 0 && out < k && Number.isInteger(out)))
      throw new Error(`costSlice: output ${out} is outside 0..${k - 1}`);
  if (a === c) throw new Error(`costSlice: the two weights must go to different outputs, got ${a} twice`);
  const center: Point = [W[a * d + o.pixel], W[c * d + o.pixel]];

  // W transposed (d x k) in float64, so the inner loop over outputs reads contiguously.
  const WT = new Float64Array(d * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < d; j++) WT[j * k + i] = W[i * d + j];
  const xsL: number[] = [],
    zaL: number[] = [],
    zcL: number[] = [],
    restL: number[] = [],
    targetL: number[] = [];
  const z = new Float64Array(k);
  const others = new Float64Array(k - 2);
  const images = set.x;
  let constant = 0;
  for (let r = 0; r < set.rows; r++) {
    const base = r * d;
    for (let i = 0; i < k; i++) z[i] = b[i];
    for (let j = 0; j < d; j++) {
      const v = images[base + j];
      if (v !== 0) for (let i = 0, q = j * k; i < k; i++, q++) z[i] += WT[q] * v;
    }
    const y = set.labels[r];
    const xp = images[base + o.pixel];
    if (xp === 0) {
      constant += logSumExp(z) - z[y];
      continue;
    }
    let q = 0;
    for (let i = 0; i < k; i++) if (i !== a && i !== c) others[q++] = z[i];
    xsL.push(xp);
    zaL.push(z[a] - center[0] * xp);
    zcL.push(z[c] - center[1] * xp);
    restL.push(logSumExp(others));
    // The label's output: a (0), c (1), or a fixed one (2; its value is then part of `constant`).
    if (y === a) targetL.push(0);
    else if (y === c) targetL.push(1);
    else {
      targetL.push(2);
      constant -= z[y];
    }
  }
  const n = xsL.length;
  const xs = Float64Array.from(xsL),
    za = Float64Array.from(zaL),
    zc = Float64Array.from(zcL),
    rest = Float64Array.from(restL);
  const target = Uint8Array.from(targetL);

  // Plain loops (no per-image callbacks): a contour grid calls cost() thousands of times.
  const p = new Float64Array(2); // scratch for softmaxPair, reused to avoid allocation per image
  return {
    pixel: o.pixel,
    outputs: [a, c],
    center,
    activeImages: n,
    cost(w) {
      let C = constant;
      for (let r = 0; r < n; r++) {
        const x = xs[r];
        const oa = za[r] + w[0] * x,
          oc = zc[r] + w[1] * x,
          re = rest[r];
        const m = Math.max(oa, oc, re);
        C += m + Math.log(Math.exp(oa - m) + Math.exp(oc - m) + Math.exp(re - m));
        const t = target[r];
        if (t === 0) C -= oa;
        else if (t === 1) C -= oc;
      }
      return C;
    },
    gradient(w) {
      let g1 = 0,
        g2 = 0;
      for (let r = 0; r < n; r++) {
        const x = xs[r];
        softmaxPair(za[r] + w[0] * x, zc[r] + w[1] * x, rest[r], p);
        const t = target[r];
        g1 += (p[0] - (t === 0 ? 1 : 0)) * x;
        g2 += (p[1] - (t === 1 ? 1 : 0)) * x;
      }
      return [g1, g2];
    },
    hessian(w) {
      let h11 = 0,
        h12 = 0,
        h22 = 0;
      for (let r = 0; r < n; r++) {
        const x = xs[r];
        softmaxPair(za[r] + w[0] * x, zc[r] + w[1] * x, rest[r], p);
        const pa = p[0],
          pc = p[1],
          x2 = x * x;
        h11 += pa * (1 - pa) * x2;
        h12 -= pa * pc * x2;
        h22 += pc * (1 - pc) * x2;
      }
      return [h11, h12, h22];
    },
  };
}

/** Newton's method on the slice: the point where its gradient vanishes (the slice's own minimum). */
export function sliceMinimum(slice: Pick<CostSlice, "gradient" | "hessian" | "center">, steps = 20): Point {
  let w: Point = [slice.center[0], slice.center[1]];
  for (let s = 0; s < steps; s++) {
    const [g1, g2] = slice.gradient(w);
    const [h11, h12, h22] = slice.hessian(w);
    const det = h11 * h22 - h12 * h12;
    if (!(det > 0)) throw new Error(`sliceMinimum: the Hessian at (${w}) is not positive definite (det ${det})`);
    w = [w[0] - (h22 * g1 - h12 * g2) / det, w[1] - (h11 * g2 - h12 * g1) / det];
  }
  return w;
}

/** Eigenvalues of a symmetric 2 x 2 matrix [h11 h12; h12 h22], largest first. */
export function eigenvalues2([h11, h12, h22]: [number, number, number]): [number, number] {
  const mean = (h11 + h22) / 2;
  const r = Math.hypot((h11 - h22) / 2, h12);
  return [mean + r, mean - r];
}

export interface PathOptions {
  learningRate: number;
  momentum: number;
  steps: number;
}

/** The report's update on the slice: v <- momentum v - rate grad; w <- w + v. Returns steps + 1 points. */
export function descentPath(slice: Pick<CostSlice, "gradient">, start: Point, o: PathOptions): Point[] {
  if (!(o.learningRate > 0)) throw new Error(`descentPath: learningRate must be positive, got ${o.learningRate}`);
  if (!(o.momentum >= 0 && o.momentum < 1))
    throw new Error(`descentPath: momentum must be in [0, 1), got ${o.momentum}`);
  const path: Point[] = [start];
  let w: Point = [start[0], start[1]];
  let v: Point = [0, 0];
  for (let s = 0; s < o.steps; s++) {
    const g = slice.gradient(w);
    v = [o.momentum * v[0] - o.learningRate * g[0], o.momentum * v[1] - o.learningRate * g[1]];
    w = [w[0] + v[0], w[1] + v[1]];
    if (!Number.isFinite(w[0]) || !Number.isFinite(w[1])) {
      throw new Error(
        `descentPath diverged at step ${s + 1} with learning rate ${o.learningRate} (momentum ${o.momentum})`,
      );
    }
    path.push(w);
  }
  return path;
}

/** n evenly spaced values from lo to hi inclusive. */
export function linspace(lo: number, hi: number, n: number): number[] {
  if (!(n >= 2 && Number.isInteger(n))) throw new Error(`linspace: need an integer n >= 2, got ${n}`);
  return Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

/** z[j][i] = cost at (xs[i], ys[j]), the layout plotly's contour (and contourPaths) expects. */
export function costGrid(slice: Pick<CostSlice, "cost">, xs: number[], ys: number[]): number[][] {
  return ys.map((y) => xs.map((x) => slice.cost([x, y])));
}

/** Softmax probabilities of the two free outputs (a, c) against the log-sum-exp `rest` of the others. */
function softmaxPair(oa: number, oc: number, rest: number, out: Float64Array): void {
  const m = Math.max(oa, oc, rest);
  const ea = Math.exp(oa - m),
    ec = Math.exp(oc - m);
  const s = ea + ec + Math.exp(rest - m);
  out[0] = ea / s;
  out[1] = ec / s;
}
