/**
 * `npm run notebooks [-- [--profile quick|full] [--keep-going] [name ...]]`
 *
 * Executes notebooks headless, each in its own Node process (cells share a process's
 * globals, as in a kernel), in section order. The full profile writes outputs back into
 * notebooks/*.ipynb; the quick profile writes to build/quick/notebooks/ so a quick run
 * never overwrites the committed, fully executed notebooks.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseProfile, Profile, PROFILE_ENV, projectRoot } from "@csc411/lib/runtime";

export interface RunOptions {
  profile: Profile;
  names: string[];
  keepGoing: boolean;
}

export function parseArgs(argv: string[], env = process.env): RunOptions {
  const opts: RunOptions = { profile: parseProfile(env[PROFILE_ENV]), names: [], keepGoing: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--profile") opts.profile = parseProfile(argv[++i]);
    else if (a.startsWith("--profile=")) opts.profile = parseProfile(a.slice("--profile=".length));
    else if (a === "--quick") opts.profile = "quick";
    else if (a === "--keep-going") opts.keepGoing = true;
    else if (a.startsWith("-")) throw new Error(`unknown option ${a}`);
    else opts.names.push(a);
  }
  return opts;
}

/** Notebooks in section order; names match a file exactly, by number prefix ("04") or by stem. */
export function selectNotebooks(dir: string, names: string[]): string[] {
  const all = fs
    .readdirSync(dir)
    .filter((f) => /^\d\d-.*\.ipynb$/.test(f) && !f.endsWith(".failed.ipynb"))
    .sort();
  if (names.length === 0) return all.map((f) => path.join(dir, f));
  return names.map((n) => {
    const stem = path.basename(n).replace(/\.ipynb$/, "");
    const hits = all.filter(
      (f) => f === `${stem}.ipynb` || f.startsWith(`${stem}-`) || f.replace(/\.ipynb$/, "").endsWith(stem),
    );
    if (hits.length !== 1) {
      throw new Error(
        `notebook "${n}" ${hits.length === 0 ? "matches no notebook" : `is ambiguous (${hits.join(", ")})`} in ${dir}; have: ${all.join(", ")}`,
      );
    }
    return path.join(dir, hits[0]);
  });
}

export function outputPath(root: string, notebook: string, profile: Profile): string {
  return profile === "full" ? notebook : path.join(root, "build", profile, "notebooks", path.basename(notebook));
}

export function runNotebooks(opts: RunOptions, root = projectRoot()): number {
  const notebooks = selectNotebooks(path.join(root, "notebooks"), opts.names);
  const child = path.join(__dirname, "execute-notebook.js");
  const failed: string[] = [];
  const started = Date.now();
  for (const [i, nb] of notebooks.entries()) {
    const out = outputPath(root, nb, opts.profile);
    process.stderr.write(
      `\n== [${i + 1}/${notebooks.length}] ${path.basename(nb)} (profile ${opts.profile}) -> ${path.relative(root, out)}\n`,
    );
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [child, nb, out], {
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, [PROFILE_ENV]: opts.profile },
    });
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if (r.status === 0) {
      process.stderr.write(`== ${path.basename(nb)} done in ${secs}s\n`);
    } else {
      const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit code ${r.status}`;
      process.stderr.write(`== ${path.basename(nb)} FAILED after ${secs}s (${why})\n`);
      failed.push(path.basename(nb));
      if (!opts.keepGoing) break;
    }
  }
  const total = ((Date.now() - started) / 1000).toFixed(1);
  if (failed.length) {
    process.stderr.write(`\nnotebooks: ${failed.length} failed (${failed.join(", ")}) in ${total}s\n`);
    return 1;
  }
  process.stderr.write(`\nnotebooks: ${notebooks.length} executed in ${total}s (profile ${opts.profile})\n`);
  return 0;
}

if (require.main === module) {
  try {
    process.exit(runNotebooks(parseArgs(process.argv.slice(2))));
  } catch (e) {
    process.stderr.write(`notebooks: ${e instanceof Error ? e.message : e}\n`);
    process.exit(2);
  }
}
