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
  log?: (line: string) => void;
}

export interface GridProgress {
  done: number;
  total: number;
  skipped: number;
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
  const selectionOnly = {
    32: { train: data[32].train, validation: data[32].validation },
    64: { train: data[64].train, validation: data[64].validation },
  };
  todo.sort((a, b) => estimatedCost(b, trainRows) - estimatedCost(a, trainRows));
  const skipped = configs.length - todo.length;
  log(
    `grid search: ${configs.length} configurations, ${skipped} already done (${opts.resultsFile}), ${todo.length} to run on ${opts.workers ?? 2} workers`,
  );
  if (todo.length > 0) {
    const t0 = performance.now();
    let finished = 0;
    const nWorkers = Math.max(1, Math.min(opts.workers ?? 2, todo.length));
    let next = 0;
    await Promise.all(
      Array.from(
        { length: nWorkers },
        () =>
          new Promise<void>((resolve, reject) => {
            const w = startModuleWorker(__filename, "grid-worker", { workerData: { data: selectionOnly } });
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
                log(
                  `[${skipped + finished}/${configs.length}] ${r.key}: validation ${r.validationAccuracy.toFixed(4)} train ${r.trainAccuracy.toFixed(4)} (${r.seconds.toFixed(1)} s; elapsed ${elapsed.toFixed(0)} s, about ${eta.toFixed(0)} s left)`,
                );
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
