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

/**
 * Newton's method on the slice: the point where its gradient vanishes (the slice's own
 * minimum). A step that would raise the cost is halved until it does not, so the method
 * also converges from far away along a nearly flat direction, where a full Newton step
 * overshoots.
 */
export function sliceMinimum(slice: Pick<CostSlice, "cost" | "gradient" | "hessian" | "center">, steps = 30): Point {
  let w: Point = [slice.center[0], slice.center[1]];
  let c = slice.cost(w);
  for (let s = 0; s < steps; s++) {
    const [g1, g2] = slice.gradient(w);
    const [h11, h12, h22] = slice.hessian(w);
    const det = h11 * h22 - h12 * h12;
    if (!(det > 0)) throw new Error(`sliceMinimum: the Hessian at (${w}) is not positive definite (det ${det})`);
    const d: Point = [-(h22 * g1 - h12 * g2) / det, -(h11 * g2 - h12 * g1) / det];
    let t = 1;
    let next: Point = [w[0] + d[0], w[1] + d[1]];
    let cNext = slice.cost(next);
    while (cNext > c && t > 1e-6) {
      t /= 2;
      next = [w[0] + t * d[0], w[1] + t * d[1]];
      cNext = slice.cost(next);
    }
    if (cNext > c) break; // no step lowers the cost any more: w is the minimum to rounding
    w = next;
    c = cNext;
  }
  return w;
}

export interface PairCurvature {
  pixel: number;
  outputs: [number, number];
  /** Images whose pixel is not zero. */
  activeImages: number;
  /** Of those, how many are labelled outputs[0] and outputs[1]. */
  labelled: [number, number];
  /** Eigenvalues of the pair's 2 x 2 Hessian at W, largest first. */
  eigenvalues: [number, number];
  /** largest / smallest eigenvalue: the valley is sqrt(ratio) times narrower across than along. */
  ratio: number;
}

/**
 * The Hessian of the summed cross-entropy for every pair of weights that a CostSlice can
 * free (one pixel, two outputs), at the given W, in one pass over the images:
 * d2C / dW[a,p] dW[c,p] = sum over images of x_p^2 (p_a [a = c] - p_a p_c).
 * Returns the pairs sorted by eigenvalue ratio, largest first, keeping only pixels that are
 * non-zero in at least `minActive` images and pairs whose two digits each label at least
 * `minLabelled` of those images (then the cost rises in every direction of the slice, so
 * the slice has a minimum instead of sloping away for ever).
 */
export function pairCurvatures(
  W: Float32Array,
  b: Float32Array,
  set: LabelledMatrix,
  o: { minActive: number; minLabelled: number },
): PairCurvature[] {
  const k = b.length;
  const d = W.length / k;
  if (!Number.isInteger(d) || set.x.length !== set.rows * d)
    throw new Error(
      `pairCurvatures: W is ${k} x ${W.length / k} but the images have ${set.x.length / set.rows} pixels`,
    );
  const WT = new Float64Array(d * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < d; j++) WT[j * k + i] = W[i * d + j];
  const kk = k * k;
  const sums = new Float64Array(d * kk); // per pixel: sum of x^2 (diag(p) - p p^T), row-major k x k
  const active = new Int32Array(d);
  const byLabel = new Int32Array(d * k); // per pixel: active images of each label
  const z = new Float64Array(k);
  const m = new Float64Array(kk);
  const images = set.x;
  for (let r = 0; r < set.rows; r++) {
    const base = r * d;
    for (let i = 0; i < k; i++) z[i] = b[i];
    for (let j = 0; j < d; j++) {
      const v = images[base + j];
      if (v !== 0) for (let i = 0, q = j * k; i < k; i++, q++) z[i] += WT[q] * v;
    }
    let top = -Infinity;
    for (let i = 0; i < k; i++) top = Math.max(top, z[i]);
    let total = 0;
    for (let i = 0; i < k; i++) total += z[i] = Math.exp(z[i] - top);
    for (let i = 0; i < k; i++) z[i] /= total;
    for (let i = 0; i < k; i++) for (let c = i; c < k; c++) m[i * k + c] = (i === c ? z[i] : 0) - z[i] * z[c];
    const label = set.labels[r];
    for (let j = 0; j < d; j++) {
      const v = images[base + j];
      if (v === 0) continue;
      active[j]++;
      byLabel[j * k + label]++;
      const x2 = v * v;
      const at = j * kk;
      for (let i = 0; i < k; i++) for (let c = i; c < k; c++) sums[at + i * k + c] += x2 * m[i * k + c];
    }
  }
  const out: PairCurvature[] = [];
  for (let j = 0; j < d; j++) {
    if (active[j] < o.minActive) continue;
    const at = j * kk;
    for (let a = 0; a < k; a++)
      for (let c = a + 1; c < k; c++) {
        const labelled: [number, number] = [byLabel[j * k + a], byLabel[j * k + c]];
        if (labelled[0] < o.minLabelled || labelled[1] < o.minLabelled) continue;
        const eigenvalues = eigenvalues2([sums[at + a * k + a], sums[at + a * k + c], sums[at + c * k + c]]);
        out.push({
          pixel: j,
          outputs: [a, c],
          activeImages: active[j],
          labelled,
          eigenvalues,
          ratio: eigenvalues[0] / eigenvalues[1],
        });
      }
  }
  return out.sort((x, y) => y.ratio - x.ratio);
}

/** Eigenvalues of a symmetric 2 x 2 matrix [h11 h12; h12 h22], largest first. */
export function eigenvalues2([h11, h12, h22]: [number, number, number]): [number, number] {
  const mean = (h11 + h22) / 2;
  const r = Math.hypot((h11 - h22) / 2, h12);
  return [mean + r, mean - r];
}

export interface NarrowSlice {
  candidate: PairCurvature;
  slice: CostSlice;
  minimum: Point;
  /** [h11, h12, h22] at the slice's minimum. */
  hessian: [number, number, number];
  /** Eigenvalues at the minimum, largest first. */
  eigenvalues: [number, number];
  ratio: number;
}

/**
 * Of the given candidate pairs (from pairCurvatures), the one whose valley is narrowest at
 * its own minimum: the Hessian at W, where the search is cheap, only ranks the candidates,
 * and the curvature changes between W and the slice's minimum.
 */
export function narrowestSlice(
  W: Float32Array,
  b: Float32Array,
  set: LabelledMatrix,
  candidates: PairCurvature[],
): NarrowSlice {
  if (candidates.length === 0) throw new Error("narrowestSlice: no candidate pairs (loosen pairCurvatures' limits)");
  let best: NarrowSlice | null = null;
  for (const candidate of candidates) {
    const slice = costSlice(W, b, set, { pixel: candidate.pixel, outputs: candidate.outputs });
    const minimum = sliceMinimum(slice);
    const hessian = slice.hessian(minimum);
    const eigenvalues = eigenvalues2(hessian);
    const ratio = eigenvalues[0] / eigenvalues[1];
    if (!best || ratio > best.ratio) best = { candidate, slice, minimum, hessian, eigenvalues, ratio };
  }
  return best!;
}

/**
 * A point `along` away from `center` in the direction of the Hessian's smallest curvature
 * (the valley floor) and `across` away in the direction of its largest (up a wall).
 */
export function valleyPoint(
  center: Point,
  [h11, h12, h22]: [number, number, number],
  along: number,
  across: number,
): Point {
  const [lMax, lMin] = eigenvalues2([h11, h12, h22]);
  const unit = (v: Point): Point => {
    const n = Math.hypot(v[0], v[1]);
    return [v[0] / n, v[1] / n];
  };
  // Eigenvector of the largest eigenvalue; the other is perpendicular to it.
  const steep =
    Math.abs(h12) < 1e-12 * (Math.abs(h11) + Math.abs(h22)) ? (h11 >= h22 ? [1, 0] : [0, 1]) : [h12, lMax - h11];
  const vSteep = unit(steep as Point);
  const vFlat: Point = [-vSteep[1], vSteep[0]];
  if (!(lMax >= lMin)) throw new Error(`valleyPoint: eigenvalues ${lMax}, ${lMin} are not ordered`);
  return [center[0] + along * vFlat[0] + across * vSteep[0], center[1] + along * vFlat[1] + across * vSteep[1]];
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
