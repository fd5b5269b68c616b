/**
 * Runs (or resumes) the Part 8 grid search outside the notebook, e.g. ahead of a full
 * notebook run, through the notebooks' own sequence (search -> best -> retrain -> save):
 * notebook 08 then finds every configuration done and notebook 09 the saved network.
 * Profile from REPORT_PROFILE. Prints the choice by validation accuracy only: the test set
 * is for the notebook's single look at the chosen network.
 */
import { loadFaceSplits } from "@csc411/lib/data/faces";
import { chosenFaceNetwork, configRank, REPORT_CHOICE, sameConfig } from "@csc411/lib/experiments/faces";
import { displayPath, profile } from "@csc411/lib/runtime";

async function main() {
  const seed = Number(process.env.FACES_SEED ?? 0);
  const splits = await loadFaceSplits({ seed });
  const p = profile();
  const t0 = performance.now();
  const chosen = await chosenFaceNetwork(splits, p, seed, { workers: Number(process.env.GRID_WORKERS ?? 2) });
  const { best } = chosen;
  console.log(
    `wall ${((performance.now() - t0) / 1000).toFixed(1)} s; best of ${chosen.results.length}: ${best.key}, validation ${best.validationAccuracy.toFixed(4)} (retrained: ${chosen.validationAccuracy.toFixed(4)}, saved to ${displayPath(chosen.file)})`,
  );
  if (chosen.results.some((r) => sameConfig(r.config, REPORT_CHOICE))) {
    const rank = configRank(chosen.results, REPORT_CHOICE);
    console.log(
      `the report's configuration: validation ${rank.result.validationAccuracy.toFixed(4)}, rank ${rank.rank} of ${rank.of} (tied with ${rank.tiedWith})`,
    );
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
