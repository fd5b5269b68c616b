/**
 * `npm run notebooks [-- [--profile quick|full] [-p name=value ...] [--keep-going] [name ...]]`
 *
 * Executes notebooks headless, each in its own Node process (cells share a process's
 * globals, as in a kernel), in section order. The full profile writes outputs back into
 * notebooks/*.ipynb; the quick profile writes to build/quick/notebooks/ so a quick run
 * never overwrites the committed, fully executed notebooks. A profile other than full and
 * every `-p name=value` reach the notebook as an injected parameters cell (parameters.ts);
 * REPORT_PROFILE is set too, for the parameters cell's default and for any child process.
 * While a cell runs, a heartbeat line goes to the terminal whenever the notebook has been
 * silent for HEARTBEAT_SECONDS, even when the cell's work blocks the notebook's own process.
 *
 * Processes stop together: each notebook runs in its own process group, and SIGINT, SIGTERM
 * or SIGHUP to the runner ends that group (SIGTERM, then SIGKILL after STOP_GRACE_SECONDS,
 * or at once on a second signal) before the runner exits, so no orphaned notebook can finish
 * later and rewrite a committed notebook.
 */
import { ChildProcess, spawn } from "child_process";
import * as os from "os";
import * as fs from "fs";
import * as path from "path";
import { formatDuration, parseProfile, Profile, PROFILE_ENV, projectRoot } from "@csc411/lib/runtime";
import { ParameterValue, parseParameter } from "./parameters";

export interface RunOptions {
  profile: Profile;
  names: string[];
  keepGoing: boolean;
  /** Overrides of the notebooks' parameters cells (`-p name=value`). */
  params: Record<string, ParameterValue>;
}

export function parseArgs(argv: string[], env = process.env): RunOptions {
  const opts: RunOptions = { profile: parseProfile(env[PROFILE_ENV]), names: [], keepGoing: false, params: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--profile") opts.profile = parseProfile(argv[++i]);
    else if (a.startsWith("--profile=")) opts.profile = parseProfile(a.slice("--profile=".length));
    else if (a === "--quick") opts.profile = "quick";
    else if (a === "--keep-going") opts.keepGoing = true;
    else if (a === "-p" || a === "--param") {
      const [name, value] = parseParameter(argv[++i] ?? "");
      // The profile has one setting, whichever way it is given.
      if (name === "profileName") opts.profile = parseProfile(String(value), "profileName");
      else opts.params[name] = value;
    } else if (a.startsWith("-")) throw new Error(`unknown option ${a}`);
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

/** What a notebook's injected parameters cell gets: the profile unless it is the default, then every -p. */
export function notebookParameters(opts: RunOptions): Record<string, ParameterValue> {
  return { ...(opts.profile === "full" ? {} : { profileName: opts.profile }), ...opts.params };
}

export const HEARTBEAT_SECONDS = 30;
export const STOP_GRACE_SECONDS = 5;

/** The notebook process running now, if any. */
let current: ChildProcess | null = null;

/** Sends `signal` to the running notebook's whole process group (it and anything it started, e.g. Chromium). */
function signalNotebook(signal: NodeJS.Signals): void {
  const pid = current?.pid;
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    current?.kill(signal);
  }
}

/**
 * Runs one notebook in its own process; its stderr (one line per cell, progress echoes)
 * passes through, and when it has been silent for HEARTBEAT_SECONDS a heartbeat says so.
 */
function executeInChild(
  args: string[],
  env: NodeJS.ProcessEnv,
  label: string,
): Promise<{ status: number | null; signal: string | null; error?: Error }> {
  return new Promise((resolve) => {
    // detached: the notebook leads its own process group, which signalNotebook ends as a whole.
    const child = spawn(process.execPath, args, { stdio: ["ignore", "inherit", "pipe"], env, detached: true });
    current = child;
    const t0 = Date.now();
    let lastOutput = t0;
    child.stderr.on("data", (chunk: Buffer) => {
      lastOutput = Date.now();
      process.stderr.write(chunk);
    });
    const timer = setInterval(() => {
      if (Date.now() - lastOutput < HEARTBEAT_SECONDS * 1000) return;
      lastOutput = Date.now();
      process.stderr.write(`[${label}] still running (${formatDuration((Date.now() - t0) / 1000)})\n`);
    }, 1000);
    let error: Error | undefined;
    child.on("error", (e) => (error = e));
    child.on("close", (status, signal) => {
      if (current === child) current = null;
      clearInterval(timer);
      resolve({ status, signal, error });
    });
  });
}

export async function runNotebooks(opts: RunOptions, root = projectRoot()): Promise<number> {
  const notebooks = selectNotebooks(path.join(root, "notebooks"), opts.names);
  const child = path.join(__dirname, "execute-notebook.js");
  const failed: string[] = [];
  const started = Date.now();
  let stopping: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return signalNotebook("SIGKILL"); // a second Ctrl-C: no more waiting
    stopping = signal;
    process.stderr.write(`\nnotebooks: ${signal} received; stopping the running notebook\n`);
    signalNotebook("SIGTERM");
    setTimeout(() => signalNotebook("SIGKILL"), STOP_GRACE_SECONDS * 1000).unref();
  };
  const onExit = () => signalNotebook("SIGKILL");
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) process.on(s, onSignal);
  process.on("exit", onExit);
  try {
    for (const [i, nb] of notebooks.entries()) {
      if (stopping) break;
      const out = outputPath(root, nb, opts.profile);
      process.stderr.write(
        `\n== [${i + 1}/${notebooks.length}] ${path.basename(nb)} (profile ${opts.profile}) -> ${path.relative(root, out)}\n`,
      );
      const t0 = Date.now();
      const params = Object.entries(notebookParameters(opts)).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
      const r = await executeInChild(
        [child, nb, out, ...params],
        { ...process.env, [PROFILE_ENV]: opts.profile },
        path.basename(nb),
      );
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
  } finally {
    for (const s of signals) process.off(s, onSignal);
    process.off("exit", onExit);
  }
  if (stopping) {
    process.stderr.write(`notebooks: stopped by ${stopping}; the notebook that was running was ended with it\n`);
    return 128 + (os.constants.signals[stopping] ?? 0);
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
  const fail = (e: unknown) => {
    process.stderr.write(`notebooks: ${e instanceof Error ? e.message : e}\n`);
    process.exit(2);
  };
  try {
    runNotebooks(parseArgs(process.argv.slice(2))).then((code) => process.exit(code), fail);
  } catch (e) {
    fail(e);
  }
}
