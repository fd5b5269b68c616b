/**
 * `npm run faces`: runs the FaceScrub pipeline (or confirms its cache) with progress,
 * then prints the per-actor split sizes. Source: FACESCRUB_LIST / FACESCRUB_MIRROR, or
 * the mirror at ../shared/facescrub when neither is set.
 */
import { ACTORS, loadFaceSplits, prepareFaces } from "@csc411/lib/data/faces";

async function main() {
  await prepareFaces();
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
