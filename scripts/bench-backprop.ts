/**
 * Benchmark for Part 7 (`npm run bench:backprop`, REPORT_PROFILE=quick for a short run):
 * runs the notebook's sweeps and prints, per sweep, fitted slopes of op counts and times
 * next to the predicted exponents; then, for a few sizes measured in this same run, the
 * time ratio naive / backprop beside the operation-count ratio (a machine-independent
 * reference for what the time ratio should be if every counted operation cost the same).
 */
import { profile } from "@csc411/lib/runtime";
import { measure } from "@csc411/lib/models/fcnet";
import { runStudy, slopeRows, studyConfig, countMismatches } from "@csc411/lib/experiments/backprop";

const p = profile();
const cfg = studyConfig(p);
const t0 = performance.now();
const results = runStudy(cfg, (s, k, n) =>
  console.error(`sweep ${k + 1}/${n} done (${((performance.now() - t0) / 1000).toFixed(1)} s)`),
);
console.log(
  `profile ${p}; ${((performance.now() - t0) / 1000).toFixed(1)} s for all sweeps; rows whose count differs from the closed form: ${countMismatches(results).length}`,
);
console.table(
  slopeRows(results).map((r) => ({
    sweep: r.sweep,
    predicted: +r.predicted.toFixed(3),
    "ops (all)": +r.opsAll.toFixed(3),
    "ops (last 4)": +r.opsLast.toFixed(3),
    "time (all)": +r.timeAll.toFixed(3),
    "time (last 4)": +r.timeLast.toFixed(3),
  })),
);

const sizes: [number, number][] =
  p === "quick"
    ? [
        [4, 4],
        [8, 4],
        [4, 7],
      ]
    : [
        [4, 4],
        [8, 4],
        [16, 4],
        [4, 7],
        [4, 9],
      ];
const timing = cfg.timing;
console.table(
  sizes.map(([K, N]) => {
    const naive = measure("naive", K, N, timing);
    const bp = measure("backprop", K, N, timing);
    return {
      K,
      N,
      "naive us": +(naive.seconds * 1e6).toFixed(2),
      "backprop us": +(bp.seconds * 1e6).toFixed(3),
      "time ratio": +(naive.seconds / bp.seconds).toFixed(1),
      "ops ratio": +(naive.ops / bp.ops).toFixed(1),
    };
  }),
);
