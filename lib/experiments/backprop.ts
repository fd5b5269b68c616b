/**
 * The Part 7 experiment as data: which sweeps each profile runs, the fitted slopes beside
 * the exponents the derivation predicts, and the figures. The notebook only calls these.
 *
 * Used by: notebooks/07-backprop-cost.ipynb; scripts/bench-backprop.ts. Models: models/fcnet.
 */
import { Profile } from "../runtime/profile";
import { Dash, Figure, lineChart } from "../plots/figures";
import { Random } from "../runtime/random";
import { countLine, progressLine } from "../runtime/progress";
import {
  CostRow,
  Fit,
  METHODS,
  Sweep,
  TimingOptions,
  fitExponential,
  fitPowerLaw,
  median,
  runSweep,
  timeCalls,
} from "../models/fcnet/backprop-cost";
import { GradientMethod, backpropCount, naiveCount, perWeightCount, totalOps } from "../models/fcnet/op-count";
import { forward, gradientWorkspace, randomExample, randomFcNet } from "../models/fcnet/fc-net";
import { relativeError, tfGradient } from "../models/fcnet/fc-net-tf";
import { naiveGradient } from "../models/fcnet/naive-gradient";
import { backprop, perWeightBackprop } from "../models/fcnet/backprop";

export interface StudyConfig {
  kSweeps: Sweep[];
  nSweeps: Sweep[];
  timing: TimingOptions;
}

const pow2 = (from: number, to: number) => {
  const out: number[] = [];
  for (let v = from; v <= to; v *= 2) out.push(v);
  return out;
};
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => from + k);

/**
 * The naive method's cost explodes (2 K^(N+1)), so its grids stop where one gradient takes
 * about 0.1 s (full) or 10 ms (quick); the cached methods run to much wider nets.
 */
export function studyConfig(p: Profile): StudyConfig {
  if (p === "quick") {
    return {
      kSweeps: [
        { method: "naive", vary: "K", fixed: 3, values: [2, 3, 4, 6, 8, 12, 16, 24] },
        { method: "naive", vary: "K", fixed: 4, values: [2, 3, 4, 6, 8, 12, 16] },
        { method: "naive", vary: "K", fixed: 5, values: [2, 3, 4, 6, 8, 10] },
        { method: "perWeight", vary: "K", fixed: 4, values: pow2(2, 256) },
        { method: "backprop", vary: "K", fixed: 4, values: pow2(2, 256) },
      ],
      nSweeps: [
        { method: "naive", vary: "N", fixed: 3, values: range(2, 10) },
        { method: "naive", vary: "N", fixed: 5, values: range(2, 8) },
        { method: "perWeight", vary: "N", fixed: 16, values: pow2(2, 64) },
        { method: "backprop", vary: "N", fixed: 16, values: pow2(2, 64) },
      ],
      timing: { reps: 15, minBatchMs: 1, maxSecondsPerSize: 0.3 },
    };
  }
  return {
    kSweeps: [
      { method: "naive", vary: "K", fixed: 3, values: [2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64] },
      { method: "naive", vary: "K", fixed: 4, values: [2, 3, 4, 6, 8, 12, 16, 24, 32] },
      { method: "naive", vary: "K", fixed: 5, values: [2, 3, 4, 6, 8, 12, 16] },
      { method: "perWeight", vary: "K", fixed: 4, values: pow2(2, 512) },
      { method: "backprop", vary: "K", fixed: 4, values: pow2(2, 512) },
    ],
    nSweeps: [
      { method: "naive", vary: "N", fixed: 3, values: range(2, 13) },
      { method: "naive", vary: "N", fixed: 5, values: range(2, 10) },
      { method: "perWeight", vary: "N", fixed: 16, values: pow2(2, 256) },
      { method: "backprop", vary: "N", fixed: 16, values: pow2(2, 256) },
    ],
    timing: { reps: 41, minBatchMs: 2, maxSecondsPerSize: 3 },
  };
}

export interface SweepResult {
  sweep: Sweep;
  rows: CostRow[];
}

export function runStudy(
  cfg: StudyConfig,
  onSweep?: (s: SweepResult, index: number, total: number) => void,
): SweepResult[] {
  const all = [...cfg.kSweeps, ...cfg.nSweeps];
  return all.map((sweep, k) => {
    const result = { sweep, rows: runSweep(sweep, cfg.timing) };
    onSweep?.(result, k, all.length);
    return result;
  });
}

/**
 * runStudy for notebooks: one progress line updated in place ("sweeps [####....] 4/9, ...").
 * The kernel hands each update to ZeroMQ's own thread at once, so the line moves in
 * JupyterLab while the synchronous sweeps run.
 */
export function runStudyWithProgress(cfg: StudyConfig): SweepResult[] {
  const all = [...cfg.kSweeps, ...cfg.nSweeps];
  const line = progressLine();
  const t0 = performance.now();
  const results: SweepResult[] = [];
  for (const [k, sweep] of all.entries()) {
    line.update(countLine("sweeps", k, all.length, (performance.now() - t0) / 1000, `running ${sweepText(sweep)}`));
    results.push({ sweep, rows: runSweep(sweep, cfg.timing) });
  }
  line.done(countLine("sweeps", all.length, all.length, (performance.now() - t0) / 1000));
  return results;
}

function sweepText(s: Sweep): string {
  return `${s.method}, ${s.vary} = ${s.values.join(", ")}`;
}

export const SHORT_NAMES: Record<GradientMethod, string> = {
  naive: "naive",
  perWeight: "report's backprop",
  backprop: "backprop",
};

export function sweepLabel(s: Sweep): string {
  return `${SHORT_NAMES[s.method]}, ${s.vary === "K" ? "N" : "K"} = ${s.fixed}`;
}

/** One colour per method in every figure of Part 7 (colour-blind safe: Okabe-Ito blue, orange, green). */
export const METHOD_COLOURS: Record<GradientMethod, string> = {
  naive: "#0072B2",
  perWeight: "#E69F00",
  backprop: "#009E73",
};
const SWEEP_DASHES: Dash[] = ["solid", "dash", "dot", "dashdot"];
const SWEEP_SYMBOLS = ["circle", "square", "diamond", "triangle-up"];

/**
 * What the derivation predicts for large sizes. Against K: the exponent of K. Against N:
 * for the naive method the cost is exponential, ~ K^N, so the prediction is ln K per layer
 * (the slope of ln(ops) against N); for the cached methods the exponent of N, 1.
 */
export function predictedSlope(s: Sweep): number {
  if (s.vary === "K") return s.method === "naive" ? s.fixed + 1 : s.method === "perWeight" ? 3 : 2;
  return s.method === "naive" ? Math.log(s.fixed) : 1;
}

export function fitKind(s: Sweep): "power" | "exponential" {
  return s.vary === "N" && s.method === "naive" ? "exponential" : "power";
}

export function fitSweep(s: Sweep, rows: CostRow[], y: (r: CostRow) => number, lastPoints?: number): Fit {
  const use = lastPoints ? rows.slice(-lastPoints) : rows;
  const x = use.map((r) => (s.vary === "K" ? r.K : r.N));
  const ys = use.map(y);
  return fitKind(s) === "exponential" ? fitExponential(x, ys) : fitPowerLaw(x, ys);
}

export interface SlopeRow {
  sweep: string;
  fit: string;
  predicted: number;
  opsAll: number;
  opsLast: number;
  timeAll: number;
  timeLast: number;
  /** Slope of the fastest repetitions' times over the largest sizes. */
  minTimeLast: number;
  timeR2: number;
}

/** One row per sweep: fitted slopes of op counts and times, on all points and on the largest `last`. */
export function slopeRows(results: SweepResult[], last = 4): SlopeRow[] {
  return results.map(({ sweep, rows }) => {
    const time = fitSweep(sweep, rows, (r) => r.seconds);
    return {
      sweep: `${sweepLabel(sweep)}, ${sweep.vary} = ${rows[0][sweep.vary]}..${rows[rows.length - 1][sweep.vary]}`,
      fit: fitKind(sweep) === "exponential" ? `ln(y) vs ${sweep.vary}` : `ln(y) vs ln(${sweep.vary})`,
      predicted: predictedSlope(sweep),
      opsAll: fitSweep(sweep, rows, (r) => r.ops).slope,
      opsLast: fitSweep(sweep, rows, (r) => r.ops, last).slope,
      timeAll: time.slope,
      timeLast: fitSweep(sweep, rows, (r) => r.seconds, last).slope,
      minTimeLast: fitSweep(sweep, rows, (r) => r.minSeconds, last).slope,
      timeR2: time.r2,
    };
  });
}

/** Rows whose counted operations differ from the closed form (the notebook expects none). */
export function countMismatches(results: SweepResult[]): CostRow[] {
  return results.flatMap((r) => r.rows.filter((row) => row.ops !== row.predictedOps));
}

function chart(
  results: SweepResult[],
  vary: "K" | "N",
  y: (r: CostRow) => number,
  title: string,
  yTitle: string,
): Figure {
  return lineChart({
    title,
    xTitle: vary === "K" ? "units per layer K" : "layers N",
    yTitle,
    xLog: true,
    yLog: true,
    series: results
      .filter((r) => r.sweep.vary === vary)
      .map(({ sweep, rows }, k, shown) => {
        // Sweeps of one method (the naive method at several depths) share its colour and differ in line style.
        const nth = shown.slice(0, k).filter((r) => r.sweep.method === sweep.method).length;
        return {
          name: sweepLabel(sweep),
          x: rows.map((r) => r[vary]),
          y: rows.map(y),
          color: METHOD_COLOURS[sweep.method],
          dash: SWEEP_DASHES[nth % SWEEP_DASHES.length],
          symbol: SWEEP_SYMBOLS[nth % SWEEP_SYMBOLS.length],
        };
      }),
  });
}

export function studyFigures(results: SweepResult[]): Record<"timeK" | "opsK" | "timeN" | "opsN" | "perOp", Figure> {
  return {
    timeK: chart(results, "K", (r) => r.seconds, "Time for one gradient against layer width K", "seconds per gradient"),
    opsK: chart(
      results,
      "K",
      (r) => r.ops,
      "Counted operations against layer width K",
      "operations (mul + add + a' + dC/dy)",
    ),
    timeN: chart(results, "N", (r) => r.seconds, "Time for one gradient against depth N", "seconds per gradient"),
    opsN: chart(
      results,
      "N",
      (r) => r.ops,
      "Counted operations against depth N",
      "operations (mul + add + a' + dC/dy)",
    ),
    perOp: lineChart({
      title: "Time per counted operation (all sweeps)",
      xTitle: "operations per gradient",
      yTitle: "nanoseconds per operation",
      xLog: true,
      yLog: true,
      series: (["naive", "perWeight", "backprop"] as GradientMethod[])
        .map((m) => results.filter((r) => r.sweep.method === m).flatMap((r) => r.rows))
        .filter((rows) => rows.length > 0)
        .map((rows) => ({
          name: SHORT_NAMES[rows[0].method],
          x: rows.map((row) => row.ops),
          y: rows.map((row) => (row.seconds / row.ops) * 1e9),
          mode: "markers" as const,
          color: METHOD_COLOURS[rows[0].method],
          symbol: SWEEP_SYMBOLS[(["naive", "perWeight", "backprop"] as GradientMethod[]).indexOf(rows[0].method)],
        })),
    }),
  };
}

export type AllocationRow = {
  method: string;
  K: number;
  N: number;
  operations: number;
  "ns per op, reused arrays": number;
  "ns per op, fresh arrays": number;
};

/**
 * What allocating the gradient and scratch arrays in every call costs: the cached methods
 * timed both ways at each (K, N), in alternating rounds so that a busy spell of the machine
 * hits both alike; each figure is the median over the rounds. The study itself reuses one
 * workspace per size.
 */
export function allocationComparison(shapes: [number, number][], timing: TimingOptions, seed = 7): AllocationRow[] {
  return (["perWeight", "backprop"] as GradientMethod[]).flatMap((method) =>
    shapes.map(([K, N]) => {
      const rng = new Random(seed + 1000 * K + N);
      const net = randomFcNet(rng, K, N);
      const ex = randomExample(rng, K);
      const ys = forward(net, ex.x);
      const fn = METHODS[method];
      const ws = gradientWorkspace(K, N);
      const ops = totalOps(fn(net, ex, ys, ws).ops);
      const once = { ...timing, reps: 1, maxSecondsPerSize: undefined };
      const reused: number[] = [];
      const fresh: number[] = [];
      for (let round = 0; round < Math.max(3, timing.reps); round++) {
        reused.push(timeCalls(() => void fn(net, ex, ys, ws), once).median);
        fresh.push(timeCalls(() => void fn(net, ex, ys, gradientWorkspace(K, N)), once).median);
      }
      return {
        method: SHORT_NAMES[method],
        K,
        N,
        operations: ops,
        "ns per op, reused arrays": (median(reused) / ops) * 1e9,
        "ns per op, fresh arrays": (median(fresh) / ops) * 1e9,
      };
    }),
  );
}

export type CountRow = {
  K: number;
  N: number;
  naive: number;
  "report's backprop": number;
  backprop: number;
  /** "yes" when all three counters were run and equal their closed forms. */
  "counted = closed form": string;
  "naive / backprop": number;
  "(2/3) K^(N-1) / N": number;
  "report: K^(N-3) / N": number;
};

/**
 * Closed-form totals for each (K, N), and, where the naive method is cheap enough to run
 * (at most `maxNaiveOps` operations), whether the instrumented code counts the same.
 */
export function countComparison(shapes: [number, number][], seed: number, maxNaiveOps = 2e6): CountRow[] {
  const rng = new Random(seed);
  return shapes.map(([K, N]) => {
    const forms = { naive: naiveCount(K, N), perWeight: perWeightCount(K, N), backprop: backpropCount(K, N) };
    let checked = "not run (too slow)";
    if (totalOps(forms.naive) <= maxNaiveOps) {
      const net = randomFcNet(rng, K, N);
      const ex = randomExample(rng, K);
      const same = (Object.keys(forms) as GradientMethod[]).every((m) => {
        const ops = METHODS[m](net, ex).ops;
        const f = forms[m];
        return ops.mul === f.mul && ops.add === f.add && ops.act === f.act && ops.cost === f.cost;
      });
      checked = same ? "yes" : "NO";
    }
    const naive = totalOps(forms.naive);
    const bp = totalOps(forms.backprop);
    return {
      K,
      N,
      naive,
      "report's backprop": totalOps(forms.perWeight),
      backprop: bp,
      "counted = closed form": checked,
      "naive / backprop": naive / bp,
      "(2/3) K^(N-1) / N": ((2 / 3) * K ** (N - 1)) / N,
      "report: K^(N-3) / N": K ** (N - 3) / N,
    };
  });
}

export type CheckRow = {
  K: number;
  N: number;
  seed: number;
  naive: number;
  "report's backprop": number;
  backprop: number;
};

/** Relative error (normwise, all layers) of each method against tf.grads on seeded random nets. */
export function gradientChecks(shapes: [number, number][], seeds: number[]): CheckRow[] {
  return shapes.flatMap(([K, N]) =>
    seeds.map((seed) => {
      const rng = new Random(seed * 1000 + K * 10 + N);
      const net = randomFcNet(rng, K, N);
      const ex = randomExample(rng, K);
      const ref = tfGradient(net, ex);
      return {
        K,
        N,
        seed,
        naive: relativeError(naiveGradient(net, ex).grads, ref),
        "report's backprop": relativeError(perWeightBackprop(net, ex).grads, ref),
        backprop: relativeError(backprop(net, ex).grads, ref),
      };
    }),
  );
}
