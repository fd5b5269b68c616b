/**
 * Runs (or resumes) the Part 8 grid search outside the notebook, e.g. ahead of a full
 * notebook run; the notebook then finds every configuration done. Profile from REPORT_PROFILE.
 */
import { loadFaceSplits } from "../lib/data/faces";
import { gridDataBySize, gridResultsFile, part8Space } from "../lib/models/face-experiment";
import { bestResult, gridConfigs, runGridSearch } from "../lib/models/grid-search";
import { profile } from "../lib/runtime/profile";

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
  console.log(`wall ${((performance.now() - t0) / 1000).toFixed(1)} s; best ${best.key}: validation ${best.validationAccuracy.toFixed(4)}, test ${best.testAccuracy.toFixed(4)}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
