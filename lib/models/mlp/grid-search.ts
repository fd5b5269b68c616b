/**
 * The report's grid search over the Part 8 network's hyper-parameters. Configurations
 * run on a pool of worker threads (one per core, each with its own tfjs backend); each
 * finished configuration is appended as one JSON line to a results file, and a rerun
 * skips every configuration already in it, so an interrupted search resumes where it
 * stopped. A half-written last line (a run killed mid-write) is ignored and redone.
 */
import { Activation, CurvePoint } from "./mlp";
import type { LabelledMatrix } from "../../data/labelled";
import { startModuleWorker } from "../../runtime/workers";
import { defaultWorkers } from "../../runtime/cores";
import { appendGridLine, GridDivergence, readGridFile } from "./grid-results";
import { displayPath } from "../../runtime/paths";
import { countLine, progressLine } from "../../runtime/progress";
import { chooseMlpEngine, MlpEngine } from "./mlp";
import { gridJobs } from "./grid-groups";

export interface GridConfig {
  size: 32 | 64;
  hidden: number;
  epochs: number;
  batchSize: number;
  activation: Activation;
  learningRate: number;
}

export interface GridSpace {
  size: (32 | 64)[];
  hidden: number[];
  epochs: number[];
  batchSize: number[];
  activation: Activation[];
  learningRate: number[];
}

/** The report's grid: 2 x 3 x 3 x 3 x 2 x 2 = 216 configurations. */
export const REPORT_GRID: GridSpace = {
  size: [32, 64],
  hidden: [10, 20, 50],
  epochs: [200, 300, 500],
  batchSize: [20, 50, 100],
  activation: ["relu", "leaky_relu"],
  learningRate: [5e-4, 1e-3],
};

export function gridConfigs(space: GridSpace): GridConfig[] {
  const out: GridConfig[] = [];
  for (const size of space.size)
    for (const hidden of space.hidden)
      for (const epochs of space.epochs)
        for (const batchSize of space.batchSize)
          for (const activation of space.activation)
            for (const learningRate of space.learningRate)
              out.push({ size, hidden, epochs, batchSize, activation, learningRate });
  return out;
}

export function configKey(c: GridConfig): string {
  return `s${c.size}-h${c.hidden}-e${c.epochs}-b${c.batchSize}-${c.activation}-lr${c.learningRate}`;
}

export interface GridResult {
  key: string;
  config: GridConfig;
  seed: number;
  trainAccuracy: number;
  /** What the selection looks at. There is no test accuracy: the search never sees the test set. */
  validationAccuracy: number;
  seconds: number;
  curve: CurvePoint[];
}

/** What the search trains and selects on. A caller's test set, if its object carries one, is not sent to the workers. */
export interface GridData {
  train: LabelledMatrix;
  validation: LabelledMatrix;
}

/** Finished results in the file, by key: only lines valid in full (see grid-results.ts); the rest run again. */
export function readResults(file: string): Map<string, GridResult> {
  return readGridFile(file).results;
}

/** Rough relative cost, to start the longest configurations first and keep both workers busy to the end. */
export function estimatedCost(c: GridConfig, trainRows: number): number {
  const steps = c.epochs * Math.ceil(trainRows / c.batchSize);
  return steps * 1 + (c.epochs * trainRows * c.size * c.size * c.hidden) / 2e5;
}

export interface GridOptions {
  resultsFile: string;
  workers?: number;
  seed?: number;
  /** Record accuracies every this many epochs (and at the end); default: about 20 points per run. */
  curveEvery?: number;
  /**
   * trainMlp's engine (default "auto"). On the kernel, configurations that differ only in
   * activation, learning rate and epochs train together as one job (grid-groups.ts).
   */
  engine?: MlpEngine;
  /** Start and end lines; with it (and no onProgress), also one line per finished configuration. */
  log?: (line: string) => void;
  /** Called as each configuration finishes. Without it or `log`: one line updated in place (lib/runtime/progress). */
  onProgress?: (p: GridProgress) => void;
}

export interface GridProgress {
  /** Configurations finished, counting those read back from the results file. */
  done: number;
  total: number;
  /** Read back from the results file, not run now. */
  skipped: number;
  /** Seconds since this run started training. */
  elapsedSeconds: number;
  /** The configuration that just finished. */
  last: GridResult;
}

/** "grid search [####......] 54/212 run, 2 min 10 s, about 6 min left: s32-h20-...: validation 0.8534". */
export function gridProgressText(p: GridProgress): string {
  const detail = `${p.last.key}: validation ${p.last.validationAccuracy.toFixed(4)}`;
  return countLine("grid search", p.done - p.skipped, p.total - p.skipped, p.elapsedSeconds, detail);
}

/**
 * Runs every configuration not yet in the results file; returns the results of every
 * configuration of `configs` that trained (a diverged one is recorded in the file and logged,
 * never returned or ranked).
 */
export async function runGridSearch(
  configs: GridConfig[],
  data: Record<32 | 64, GridData>,
  opts: GridOptions,
): Promise<GridResult[]> {
  const seed = opts.seed ?? 0;
  const log = opts.log ?? ((s: string) => console.log(s));
  const file = readGridFile(opts.resultsFile);
  const done = file.results;
  // A diverged configuration is recorded as such: not trained again, and not ranked.
  const diverged = file.diverged;
  const todo = configs.filter((c) => !done.has(configKey(c)) && !diverged.has(configKey(c)));
  const trainRows = data[32].train.labels.length;
  const selectionOnly = {
    32: { train: data[32].train, validation: data[32].validation },
    64: { train: data[64].train, validation: data[64].validation },
  };
  todo.sort((a, b) => estimatedCost(b, trainRows) - estimatedCost(a, trainRows));
  const skipped = configs.length - todo.length;
  const { engine } = chooseMlpEngine(opts.engine ?? "auto", 6);
  // Longest jobs first, so both workers stay busy to the end.
  const jobs = gridJobs(todo, engine);
  const workers = opts.workers ?? defaultWorkers();
  log(
    `grid search: ${configs.length} configurations, ${skipped} already done (${displayPath(opts.resultsFile)}), ${todo.length} to run as ${jobs.length} jobs on ${workers} worker${workers === 1 ? "" : "s"} (${engine === "kernel" ? "WebAssembly kernel" : "TensorFlow.js"})`,
  );
  for (const p of file.problems) log(p);
  if (todo.length > 0) {
    const t0 = performance.now();
    let finished = 0;
    const line = opts.onProgress || opts.log ? null : progressLine();
    const inPlace = (p: GridProgress) => {
      if (p.done === p.total) line?.done(gridProgressText(p));
      else line?.update(gridProgressText(p));
    };
    const nWorkers = Math.max(1, Math.min(workers, jobs.length));
    let next = 0;
    await Promise.all(
      Array.from(
        { length: nWorkers },
        () =>
          new Promise<void>((resolve, reject) => {
            const w = startModuleWorker(__filename, "grid-worker", { workerData: { data: selectionOnly } });
            // A record that cannot be written (e.g. a full disk: the error names the file) stops the search.
            const record = (r: GridResult | GridDivergence): boolean => {
              try {
                appendGridLine(opts.resultsFile, r);
                return true;
              } catch (e) {
                next = jobs.length; // no new jobs for any worker: the search has failed
                w.terminate();
                reject(e);
                return false;
              }
            };
            const feed = () => {
              if (next >= jobs.length) {
                w.terminate().then(() => resolve(), reject);
                return;
              }
              const job = jobs[next++].configs;
              w.postMessage({
                configs: job,
                seed,
                engine,
                curveEvery: job.map((c) => opts.curveEvery ?? Math.max(1, Math.round(c.epochs / 20))),
              });
            };
            w.on(
              "message",
              (msg: { result?: GridResult; diverged?: GridDivergence; error?: string; jobDone?: boolean }) => {
                if (msg.error) {
                  w.terminate();
                  reject(new Error(`grid worker: ${msg.error}`));
                  return;
                }
                if (msg.diverged) {
                  const d = msg.diverged;
                  if (!record(d)) return;
                  diverged.set(d.key, d);
                  finished++;
                  log(
                    `[${skipped + finished}/${configs.length}] ${d.key}: diverged at epoch ${d.diverged.epoch} (${d.diverged.reason}); recorded, not ranked`,
                  );
                }
                if (msg.result) {
                  const r = msg.result;
                  if (!record(r)) return;
                  done.set(r.key, r);
                  finished++;
                  const elapsed = (performance.now() - t0) / 1000;
                  const eta = (elapsed / finished) * (todo.length - finished);
                  const p = {
                    done: skipped + finished,
                    total: configs.length,
                    skipped,
                    elapsedSeconds: elapsed,
                    last: r,
                  };
                  if (opts.onProgress) opts.onProgress(p);
                  else if (opts.log)
                    opts.log(
                      `[${skipped + finished}/${configs.length}] ${r.key}: validation ${r.validationAccuracy.toFixed(4)} train ${r.trainAccuracy.toFixed(4)} (${r.seconds.toFixed(1)} s; elapsed ${elapsed.toFixed(0)} s, about ${eta.toFixed(0)} s left)`,
                    );
                  else inPlace(p);
                }
                if (msg.jobDone) feed();
              },
            );
            w.on("error", reject);
            w.once("online", feed);
          }),
      ),
    );
    log(`grid search: ran ${todo.length} configurations in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const stopped = configs.filter((c) => diverged.has(configKey(c)));
  if (stopped.length > 0)
    log(
      `grid search: ${stopped.length} configuration(s) diverged and are not ranked: ${stopped.map(configKey).join(", ")}`,
    );
  return configs.flatMap((c) => done.get(configKey(c)) ?? []);
}

/**
 * Training cost of a configuration, in multiply-adds per training image up to a constant:
 * epochs x inputs x hidden units (the first layer dominates; batch size, activation and
 * learning rate change the number of steps or their kind, not this work).
 */
export function trainingCost(c: GridConfig): number {
  return c.epochs * c.size * c.size * c.hidden;
}

/**
 * Best by validation accuracy. Accuracies are counts over the same validation set, so
 * ties are exact and common; a tie goes to the cheaper configuration (`trainingCost`: the
 * smaller network trained for fewer epochs), then to the earlier one in `results`' order.
 */
export function bestResult(results: GridResult[]): GridResult {
  if (results.length === 0) throw new Error("bestResult: no results");
  let best = results[0];
  for (const r of results.slice(1)) {
    if (
      r.validationAccuracy > best.validationAccuracy ||
      (r.validationAccuracy === best.validationAccuracy && trainingCost(r.config) < trainingCost(best.config))
    )
      best = r;
  }
  return best;
}
