// `npm test`: type-checks, lints and format-checks everything, then runs every *.spec.ts beside lib modules and every
// test/*.test.ts (which include each notebook executed in the quick profile and one notebook
// through `jupyter nbconvert --execute`) in node's test runner.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;

function find(dir, pattern, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, pattern, out);
    else if (pattern.test(name)) out.push(relative(root, p));
  }
  return out;
}

function run(cmd, args, env = process.env) {
  console.log(`\n$ ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env });
  if (r.status !== 0) {
    console.error(`test: "${cmd} ${args.join(" ")}" failed (${r.error?.message ?? `exit ${r.status}`})`);
    process.exit(r.status || 1);
  }
}

const only = process.argv.slice(2);
run("npx", ["tsc", "-b", "lib", "tools"]);
run(process.execPath, ["scripts/build-wasm.mjs", "--required"]);
run("npx", ["tsc", "-p", "tsconfig.json"]);
run("npx", ["eslint", "."]);
run("npx", ["prettier", "--check", "--log-level", "warn", "."]);
// Two files run at a time (one per core), longest first: the JupyterLab browser test (about
// five minutes, much of it waiting on the kernel and the browser) takes one lane while the
// rest share the other. The files of 5 s or more follow in that order (durations from a
// clean-clone test run on 2 December 2026, the small ones run alone), so that the last files
// to start are short and both lanes end together. Tests
// that write shared caches under data/ do so atomically (files renamed into place, the grid's
// results appended whole and keyed by configuration), so two notebooks computing the same
// cache at once agree.
const LONGEST_FIRST = [
  "test/jupyterlab-browser.test.ts", // 290 s
  "test/notebooks.test.ts", // 250 s
  "test/pdf-export.test.ts", // 47 s
  "test/alexnet-weights.test.ts", // 18 s
  "test/runner.test.ts", // 15 s
  "lib/models/mlp/kernel/mlp-kernel.spec.ts", // 12 s
  "test/jupyter-start.test.ts", // 11 s
  "test/faults.test.ts", // 11 s
  "test/export.test.ts", // 10 s
  "test/alexnet-torch-parity.test.ts", // 7 s
  "lib/models/backbones/fold.spec.ts", // 7 s
  "lib/plots/figures.spec.ts", // 6 s
  "lib/models/backbones/backbone.spec.ts", // 6 s
  "lib/models/backbones/parallel.spec.ts", // 5 s
];
const rank = (f) => (LONGEST_FIRST.includes(f) ? LONGEST_FIRST.indexOf(f) : LONGEST_FIRST.length);
const files = [
  ...find(join(root, "lib"), /\.spec\.ts$/),
  ...find(join(root, "tools"), /\.spec\.ts$/),
  ...find(join(root, "test"), /\.test\.ts$/),
]
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort()
  .sort((a, b) => rank(a) - rank(b));
console.log(`test: ${files.length} test files`);
// The FaceScrub crops are read by notebooks 08-10 in both lanes and by test/faces-mirror.test.ts.
// On a clean clone each of them would otherwise run the whole pipeline (about 300 CPU-seconds
// of JPEG decoding) at the same time, each doing all of the work; filled once here, alone on
// both cores, every later reader finds the cache (the same files the first reader would write).
if (files.some((f) => /notebooks|jupyterlab-browser|faces-mirror/.test(f)))
  run(process.execPath, ["--import", "tsx", "scripts/faces.ts"]);
// Each lane gets one core (REPORT_CORES=1, lib/runtime/cores.ts): a notebook that splits every
// training step over two threads would otherwise wait at each step for the thread that the
// other lane keeps off the CPU. Results are the same with one thread or two.
// Every temporary file of the run (the tests' scratch directories, Chromium's profiles, the
// exports' LaTeX) goes under one directory, removed when the run ends, pass or fail: a test
// that dies half-way, or a browser killed at its time limit, leaves nothing behind in /tmp.
const scratch = mkdtempSync(join(tmpdir(), "csc411-tests-"));
const env = { ...process.env, TMPDIR: scratch, REPORT_PROFILE: "quick", REPORT_CORES: process.env.REPORT_CORES ?? "1" };
const args = ["--import", "tsx", "--test", "--test-concurrency=2", "--test-reporter=spec", ...files];
console.log(`\n$ ${process.execPath} ${args.join(" ")}   (TMPDIR=${scratch})`);
const r = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit", env });
rmSync(scratch, { recursive: true, force: true });
if (r.status !== 0) {
  console.error(`test: the tests failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
  process.exit(r.status || 1);
}
