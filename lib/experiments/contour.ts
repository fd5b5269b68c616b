/**
 * Part 6: gradient descent with and without momentum on a two-weight slice of the cost. The
 * paths, the grid that covers them and the distances the prose quotes, so the notebook holds
 * the figures and the words.
 *
 * Used by: notebooks/06-momentum-contour.ipynb. Models: models/softmax (contour.ts).
 */
import type { LabelledMatrix } from "../data/labelled";
import {
  costGrid,
  CostSlice,
  descentPath,
  eigenvalues2,
  linspace,
  narrowestSlice,
  NarrowSlice,
  pairCurvatures,
  Point,
  sliceMinimum,
  valleyPoint,
} from "../models/softmax/contour";

/** The three runs the report's Figures 6 and 7 compare. */
export const MOMENTA = { plain: 0, m25: 0.25, m80: 0.8 } as const;
export type Run = keyof typeof MOMENTA;
export type Paths = Record<Run, Point[]>;

/**
 * The report's rate where plain descent is stable on this slice (rate x largest curvature < 2);
 * otherwise 1.5 / largest curvature (two significant digits): the slice's cost sums over all
 * 60,000 images, so its curvature can be far larger than the report's rate allows.
 */
export function stableRate(reportRate: number, lMax: number): number {
  return reportRate * lMax < 2 ? reportRate : Number((1.5 / lMax).toPrecision(2));
}

/** The three descents from one start. */
export function descentPaths(
  slice: Pick<CostSlice, "gradient">,
  start: Point,
  learningRate: number,
  steps: number,
): Paths {
  const run = (momentum: number) => descentPath(slice, start, { learningRate, momentum, steps });
  return { plain: run(MOMENTA.plain), m25: run(MOMENTA.m25), m80: run(MOMENTA.m80) };
}

/** Each path's distance from `to`, step by step. */
export function distancesTo(paths: Paths, to: Point): Record<Run, number[]> {
  const d = (p: Point[]) => p.map((w) => Math.hypot(w[0] - to[0], w[1] - to[1]));
  return { plain: d(paths.plain), m25: d(paths.m25), m80: d(paths.m80) };
}

/** The first step from which a path stays within `tol`, or -1 if it never does. */
export function stepsToStayWithin(distances: number[], tol: number): number {
  return distances.findIndex((_, k) => distances.slice(k).every((v) => v < tol));
}

/** One n x n grid of the slice's cost covering every point given, with a 15% margin. */
export function gridAround(
  slice: Pick<CostSlice, "cost">,
  points: Point[],
  n = 41,
): { xs: number[]; ys: number[]; z: number[][] } {
  const span = (k: 0 | 1) => {
    const v = points.map((p) => p[k]);
    const lo = Math.min(...v);
    const hi = Math.max(...v);
    const m = 0.15 * (hi - lo);
    return linspace(lo - m, hi + m, n);
  };
  const xs = span(0);
  const ys = span(1);
  return { xs, ys, z: costGrid(slice, xs, ys) };
}

/** The report's pair of weights: its slice, the slice's minimum, Hessian and eigenvalues. */
export function reportSlice(slice: CostSlice): {
  minimum: Point;
  hessian: [number, number, number];
  eigenvalues: [number, number];
} {
  const minimum = sliceMinimum(slice);
  const hessian = slice.hessian(minimum);
  return { minimum, hessian, eigenvalues: eigenvalues2(hessian) };
}

export interface NarrowValleyStudy {
  /** How many pixel/output pairs were within the limits. */
  candidates: number;
  narrow: NarrowSlice;
  rate: number;
  start: Point;
  paths: Paths;
  distances: Record<Run, number[]>;
}

/**
 * Beyond the report: the pair of weights (one pixel to two outputs) whose valley is narrowest
 * by the Hessian, among pixels inked in at least `minActive` images and pairs whose digits
 * each label at least `minLabelled` of them (the best five re-measured at their own minima),
 * and the three descents on it from 1.5 along the floor and 0.3 up the wall.
 */
export function narrowValleyStudy(
  W: Float32Array,
  b: Float32Array,
  train: LabelledMatrix,
  o: { reportRate: number; steps: number; minActive: number; minLabelled: number },
): NarrowValleyStudy {
  const candidates = pairCurvatures(W, b, train, { minActive: o.minActive, minLabelled: o.minLabelled });
  const narrow = narrowestSlice(W, b, train, candidates.slice(0, 5));
  const rate = stableRate(o.reportRate, narrow.eigenvalues[0]);
  const start = valleyPoint(narrow.minimum, narrow.hessian, 1.5, 0.3);
  const paths = descentPaths(narrow.slice, start, rate, o.steps);
  return { candidates: candidates.length, narrow, rate, start, paths, distances: distancesTo(paths, narrow.minimum) };
}
