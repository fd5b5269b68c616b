/**
 * `npm run faces [-- --retry-rejected] [-- --list-rejected]`: runs the FaceScrub pipeline (or
 * confirms its cache) with progress, then prints the per-actor split sizes. Source:
 * FACESCRUB_LIST / FACESCRUB_MIRROR, or the mirror at ../shared/facescrub when neither is set.
 *
 * --retry-rejected  rechecks every cached rejection (e.g. after the mirror gained files);
 *                   failures (timeouts, missing mirror files...) are retried on every run anyway.
 * --list-rejected   prints every row not ok, with its list line and reason (the same table
 *                   is written to data/faces/rejected.tsv on each run).
 */
import * as fs from "fs";
import { ACTORS, loadFaceSplits, prepareFaces, rejectedFacesFile } from "@csc411/lib/data/faces";

const USAGE = "usage: npm run faces [-- --retry-rejected] [--list-rejected]";

async function main() {
  const args = process.argv.slice(2);
  for (const a of args)
    if (a !== "--retry-rejected" && a !== "--list-rejected") throw new Error(`unknown option ${a}; ${USAGE}`);
  await prepareFaces({ retryRejected: args.includes("--retry-rejected") });
  if (args.includes("--list-rejected")) process.stdout.write(fs.readFileSync(rejectedFacesFile(), "utf8"));
  const seed = Number(process.env.FACES_SEED ?? 0);
  const s = await loadFaceSplits({ seed });
  console.log(`splits (seed ${seed}):`);
  for (const [label, actor] of ACTORS.entries()) {
    const n = (set: { label: number }[]) => set.filter((i) => i.label === label).length;
    console.log(`  ${actor.padEnd(16)} train ${n(s.train)}  validation ${n(s.validation)}  test ${n(s.test)}`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
