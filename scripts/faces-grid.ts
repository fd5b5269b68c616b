/**
 * Runs (or resumes) the Part 8 grid search outside the notebook, e.g. ahead of a full
 * notebook run; the notebook then finds every configuration done. Profile from REPORT_PROFILE.
 */
import { loadFaceSplits } from "@csc411/lib/data/faces";
import { gridDataBySize, gridResultsFile, part8Space } from "@csc411/lib/experiments/faces";
import { bestResult, gridConfigs, runGridSearch } from "@csc411/lib/models/mlp";
import { profile } from "@csc411/lib/runtime";

async function main() {
  const seed = Number(process.env.FACES_SEED ?? 0);
  const splits = await loadFaceSplits({ seed });
  const p = profile();
  const t0 = performance.now();
  const results = await runGridSearch(gridConfigs(part8Space(p)), await gridDataBySize(splits), {
    resultsFile: gridResultsFile(splits, seed, p),
    workers: Number(process.env.GRID_WORKERS ?? 2),
    seed,
  });
  const best = bestResult(results);
  console.log(
    `wall ${((performance.now() - t0) / 1000).toFixed(1)} s; best ${best.key}: validation ${best.validationAccuracy.toFixed(4)}, test ${best.testAccuracy.toFixed(4)}`,
  );
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
