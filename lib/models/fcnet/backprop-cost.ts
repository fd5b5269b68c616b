/**
 * The measurement side of Part 7: run the three gradient methods over a grid of layer
 * widths K and depths N, record exact operation counts (which do not depend on the
 * machine) and median wall-clock times (which do), and fit power laws / exponentials
 * by least squares on log scales.
 */
import { Random } from "../../runtime/random";
import {
  Example,
  FcNet,
  GradientResult,
  GradientWorkspace,
  forward,
  gradientWorkspace,
  randomExample,
  randomFcNet,
} from "./fc-net";
import { naiveGradient } from "./naive-gradient";
import { backprop, perWeightBackprop } from "./backprop";
import { CLOSED_FORMS, GradientMethod, OpCounts, totalOps } from "./op-count";

export const METHODS: Record<
  GradientMethod,
  (net: FcNet, ex: Example, ys?: Float64Array[], ws?: GradientWorkspace) => GradientResult
> = {
  naive: naiveGradient,
  perWeight: perWeightBackprop,
  backprop,
};

export interface Fit {
  slope: number;
  intercept: number;
  /** Coefficient of determination of the straight-line fit. */
  r2: number;
  points: number;
}

/** Ordinary least squares y = intercept + slope * x. */
export function fitLine(x: number[], y: number[]): Fit {
  if (x.length !== y.length) throw new Error(`fitLine: ${x.length} x values but ${y.length} y values`);
  if (x.length < 2) throw new Error(`fitLine: need at least 2 points, got ${x.length}`);
  if ([...x, ...y].some((v) => !Number.isFinite(v))) throw new Error("fitLine: non-finite value in the data");
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let k = 0; k < n; k++) {
    sxx += (x[k] - mx) ** 2;
    sxy += (x[k] - mx) * (y[k] - my);
    syy += (y[k] - my) ** 2;
  }
  if (sxx === 0) throw new Error("fitLine: all x values are equal");
  const slope = sxy / sxx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { slope, intercept: my - slope * mx, r2, points: n };
}

/** Slope of log(y) against log(x): the exponent of a power law y ~ x^slope. */
export function fitPowerLaw(x: number[], y: number[]): Fit {
  if ([...x, ...y].some((v) => !(v > 0))) throw new Error("fitPowerLaw: values must be positive for a log-log fit");
  return fitLine(x.map(Math.log), y.map(Math.log));
}

/** Slope of ln(y) against x: y ~ exp(slope * x), i.e. y ~ base^x with ln(base) = slope. */
export function fitExponential(x: number[], y: number[]): Fit {
  if (y.some((v) => !(v > 0))) throw new Error("fitExponential: y values must be positive for a log fit");
  return fitLine(x, y.map(Math.log));
}

export function median(values: number[]): number {
  if (values.length === 0) throw new Error("median of no values");
  const s = [...values].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

export interface TimingOptions {
  /** Repetitions whose median is reported (fewer when a call is slow, see `maxSecondsPerSize`). */
  reps: number;
  /**
   * Each repetition calls the function enough times to last at least this long. Keeping it
   * below the scheduler's time slice (a few ms) means that on a busy machine most
   * repetitions run uninterrupted, and the median then ignores the interrupted ones.
   */
  minBatchMs: number;
  /** Time budget per measured size; never fewer than 3 repetitions. */
  maxSecondsPerSize?: number;
}

export interface CallTime {
  /** Median over repetitions of seconds per call. */
  median: number;
  /** Fastest repetition: the least disturbed by other processes on a busy machine. */
  min: number;
  reps: number;
}

/** Seconds per call: calls are batched so each timed batch outlasts the clock's resolution. */
export function timeCalls(fn: () => void, opts: TimingOptions): CallTime {
  fn(); // warm-up: let the JIT compile before anything is timed
  let calls = 1;
  let ms: number;
  for (;;) {
    const t0 = performance.now();
    for (let c = 0; c < calls; c++) fn();
    ms = performance.now() - t0;
    if (ms >= opts.minBatchMs || calls >= 1 << 24) break;
    calls *= ms > 0 ? Math.min(100, Math.max(2, Math.ceil((1.2 * opts.minBatchMs) / ms))) : 100;
  }
  let reps = opts.reps;
  if (opts.maxSecondsPerSize !== undefined && ms > 0) {
    reps = Math.max(3, Math.min(reps, Math.floor((opts.maxSecondsPerSize * 1000) / ms)));
  }
  const perCall: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let c = 0; c < calls; c++) fn();
    perCall.push((performance.now() - t0) / 1000 / calls);
  }
  return { median: median(perCall), min: Math.min(...perCall), reps };
}

/** Median seconds per call (see `timeCalls`). */
export function timePerCall(fn: () => void, opts: TimingOptions): number {
  return timeCalls(fn, opts).median;
}

export interface CostRow {
  method: GradientMethod;
  K: number;
  N: number;
  counts: OpCounts;
  ops: number;
  /** The closed-form total for the same (K, N); equal to `ops` when the algebra is right. */
  predictedOps: number;
  /** Median seconds per gradient. */
  seconds: number;
  /** Fastest repetition's seconds per gradient. */
  minSeconds: number;
}

/**
 * One method at one size: count the operations once, then time gradient calls on cached
 * activations. Every call writes into one reused workspace, so all three methods are timed
 * doing arithmetic only (allocating typed arrays would cost more than a small net's arithmetic).
 */
export function measure(method: GradientMethod, K: number, N: number, timing: TimingOptions, seed = 7): CostRow {
  const rng = new Random(seed + 1000 * K + N);
  const net = randomFcNet(rng, K, N);
  const ex = randomExample(rng, K);
  const ys = forward(net, ex.x);
  const fn = METHODS[method];
  const ws = gradientWorkspace(K, N);
  const { ops: counts } = fn(net, ex, ys, ws);
  const t = timeCalls(() => void fn(net, ex, ys, ws), timing);
  return {
    method,
    K,
    N,
    counts,
    ops: totalOps(counts),
    predictedOps: totalOps(CLOSED_FORMS[method](K, N)),
    seconds: t.median,
    minSeconds: t.min,
  };
}

export interface Sweep {
  method: GradientMethod;
  /** Which size varies; the other is held at `fixed`. */
  vary: "K" | "N";
  values: number[];
  fixed: number;
}

export function runSweep(s: Sweep, timing: TimingOptions): CostRow[] {
  return s.values.map((v) =>
    s.vary === "K" ? measure(s.method, v, s.fixed, timing) : measure(s.method, s.fixed, v, timing),
  );
}
