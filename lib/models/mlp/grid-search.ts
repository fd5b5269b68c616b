/**
 * The report's grid search over the Part 8 network's hyper-parameters. Configurations
 * run on a pool of worker threads (one per core, each with its own tfjs backend); each
 * finished configuration is appended as one JSON line to a results file, and a rerun
 * skips every configuration already in it, so an interrupted search resumes where it
 * stopped. A half-written last line (a run killed mid-write) is ignored and redone.
 */
import * as fs from "fs";
import { Activation, CurvePoint } from "./mlp";
import type { LabelledMatrix } from "../../data/labelled";
import { startModuleWorker } from "../../runtime/workers";
import { displayPath } from "../../runtime/paths";
import { countLine, progressLine } from "../../runtime/progress";

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
  validationAccuracy: number;
  testAccuracy: number;
  seconds: number;
  curve: CurvePoint[];
}

export interface GridData {
  train: LabelledMatrix;
  validation: LabelledMatrix;
  test: LabelledMatrix;
}

/** Finished results in the file, by key; lines that do not parse (a write cut short) are skipped. */
export function readResults(file: string): Map<string, GridResult> {
  const out = new Map<string, GridResult>();
  if (!fs.existsSync(file)) return out;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as GridResult;
      if (r.key && typeof r.validationAccuracy === "number") out.set(r.key, r);
    } catch {
      // a torn last line from an interrupted run: the configuration runs again
    }
  }
  return out;
}

/** One line per result in a single append, so a reader never sees half of two results mixed. */
function appendResult(file: string, r: GridResult): void {
  const text =
    fs.existsSync(file) && !fs.readFileSync(file, "utf8").endsWith("\n") && fs.statSync(file).size > 0
      ? `\n${JSON.stringify(r)}\n`
      : `${JSON.stringify(r)}\n`;
  fs.appendFileSync(file, text);
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

/** Runs every configuration not yet in the results file; returns all results for `configs`. */
export async function runGridSearch(
  configs: GridConfig[],
  data: Record<32 | 64, GridData>,
  opts: GridOptions,
): Promise<GridResult[]> {
  const seed = opts.seed ?? 0;
  const log = opts.log ?? ((s: string) => console.log(s));
  const done = readResults(opts.resultsFile);
  const todo = configs.filter((c) => !done.has(configKey(c)));
  const trainRows = data[32].train.labels.length;
  todo.sort((a, b) => estimatedCost(b, trainRows) - estimatedCost(a, trainRows));
  const skipped = configs.length - todo.length;
  log(
    `grid search: ${configs.length} configurations, ${skipped} already done (${displayPath(opts.resultsFile)}), ${todo.length} to run on ${opts.workers ?? 2} workers`,
  );
  if (todo.length > 0) {
    const t0 = performance.now();
    let finished = 0;
    const line = opts.onProgress || opts.log ? null : progressLine();
    const inPlace = (p: GridProgress) => {
      if (p.done === p.total) line?.done(gridProgressText(p));
      else line?.update(gridProgressText(p));
    };
    const nWorkers = Math.max(1, Math.min(opts.workers ?? 2, todo.length));
    let next = 0;
    await Promise.all(
      Array.from(
        { length: nWorkers },
        () =>
          new Promise<void>((resolve, reject) => {
            const w = startModuleWorker(__filename, "grid-worker", { workerData: { data } });
            const feed = () => {
              if (next >= todo.length) {
                w.terminate().then(() => resolve(), reject);
                return;
              }
              const config = todo[next++];
              w.postMessage({
                config,
                seed,
                curveEvery: opts.curveEvery ?? Math.max(1, Math.round(config.epochs / 20)),
              });
            };
            w.on("message", (msg: { result?: GridResult; error?: string }) => {
              if (msg.error) {
                w.terminate();
                reject(new Error(`grid worker: ${msg.error}`));
                return;
              }
              if (msg.result) {
                const r = msg.result;
                appendResult(opts.resultsFile, r);
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
              feed();
            });
            w.on("error", reject);
            w.once("online", feed);
          }),
      ),
    );
    log(`grid search: ran ${todo.length} configurations in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return configs.map((c) => done.get(configKey(c))!);
}

/** Best by validation accuracy; ties go to the cheaper configuration, then to grid order. */
export function bestResult(results: GridResult[]): GridResult {
  if (results.length === 0) throw new Error("bestResult: no results");
  let best = results[0];
  for (const r of results.slice(1)) {
    if (r.validationAccuracy > best.validationAccuracy) best = r;
  }
  return best;
}
