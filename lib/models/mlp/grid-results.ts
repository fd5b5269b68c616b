/**
 * The grid search's results file: one JSON line per finished configuration, appended as each
 * finishes, read back on a rerun to skip what is done. A line is trusted only when it is valid
 * in full: every field present, the key that of its configuration, accuracies finite and in
 * [0, 1], the curve's epochs inside the run and its last point the reported accuracies. A
 * configuration whose training diverged is recorded as such (epoch and reason, no accuracies),
 * so a rerun does not train it again and nothing ranks it. Any other line (cut short by a
 * kill, damaged, from an older format) is named and its configuration runs again.
 */
import * as fs from "fs";
import { appendFileWhole } from "../../runtime/paths";
import type { GridConfig, GridResult } from "./grid-search";
import { configKey } from "./grid-search";

/** A configuration whose training stopped because the loss or a weight stopped being finite. */
export interface GridDivergence {
  key: string;
  config: GridConfig;
  seed: number;
  diverged: { epoch: number; reason: string };
}

export interface GridFile {
  results: Map<string, GridResult>;
  diverged: Map<string, GridDivergence>;
  /** One line per untrusted line: "file:line: why". */
  problems: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const positiveInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
const fraction = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= 1;

function configProblem(c: unknown): string {
  if (!isObject(c)) return "no config";
  if (c.size !== 32 && c.size !== 64) return `config.size ${JSON.stringify(c.size)} is not 32 or 64`;
  for (const k of ["hidden", "epochs", "batchSize"] as const)
    if (!positiveInt(c[k])) return `config.${k} ${JSON.stringify(c[k])} is not a positive integer`;
  if (c.activation !== "relu" && c.activation !== "leaky_relu")
    return `config.activation ${JSON.stringify(c.activation)} is not relu or leaky_relu`;
  if (!(typeof c.learningRate === "number" && Number.isFinite(c.learningRate) && c.learningRate > 0))
    return `config.learningRate ${JSON.stringify(c.learningRate)} is not a positive number`;
  return "";
}

/** Why a parsed line cannot be trusted as a result or a divergence record, or "" when it can. */
export function gridLineProblem(o: unknown): string {
  if (!isObject(o)) return "not a JSON object";
  const bad = configProblem(o.config);
  if (bad) return bad;
  const config = o.config as unknown as GridConfig;
  if (o.key !== configKey(config))
    return `key ${JSON.stringify(o.key)} is not its configuration's ${configKey(config)}`;
  if (!Number.isInteger(o.seed)) return `seed ${JSON.stringify(o.seed)} is not an integer`;
  if (o.diverged !== undefined) {
    const d = o.diverged;
    if (!isObject(d) || !positiveInt(d.epoch) || (d.epoch as number) > config.epochs)
      return `diverged.epoch is not an epoch of the run`;
    if (typeof d.reason !== "string" || d.reason === "") return "diverged.reason is missing";
    return "";
  }
  for (const k of ["trainAccuracy", "validationAccuracy"] as const)
    if (!fraction(o[k])) return `${k} ${JSON.stringify(o[k])} is not a number in [0, 1]`;
  if (!(typeof o.seconds === "number" && Number.isFinite(o.seconds) && o.seconds >= 0))
    return `seconds ${JSON.stringify(o.seconds)} is not a non-negative number`;
  if (!Array.isArray(o.curve) || o.curve.length === 0) return "curve is missing or empty";
  let previous = 0;
  for (const [i, p] of o.curve.entries()) {
    if (!isObject(p) || !positiveInt(p.epoch) || (p.epoch as number) <= previous || (p.epoch as number) > config.epochs)
      return `curve[${i}].epoch ${JSON.stringify(isObject(p) ? p.epoch : p)} is not a later epoch of the run`;
    if (!fraction(p.train) || !fraction(p.validation)) return `curve[${i}] has an accuracy outside [0, 1]`;
    previous = p.epoch as number;
  }
  const last = o.curve[o.curve.length - 1] as { epoch: number; train: number; validation: number };
  if (last.epoch !== config.epochs || last.train !== o.trainAccuracy || last.validation !== o.validationAccuracy)
    return "the curve's last point is not the reported final epoch and accuracies";
  return "";
}

/** Every trusted line of the file, by key (a later line for the same key wins), and what was not trusted. */
export function readGridFile(file: string): GridFile {
  const out: GridFile = { results: new Map(), diverged: new Map(), problems: [] };
  if (!fs.existsSync(file)) return out;
  const lines = fs.readFileSync(file, "utf8").split("\n");
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      const torn = i === lines.length - 1 ? " (cut short: an interrupted write)" : "";
      out.problems.push(`${file}:${i + 1}: not valid JSON${torn}; that configuration runs again`);
      continue;
    }
    const problem = gridLineProblem(o);
    if (problem) {
      out.problems.push(`${file}:${i + 1}: ${problem}; that configuration runs again`);
      continue;
    }
    const r = o as GridResult | GridDivergence;
    if ("diverged" in r) {
      out.diverged.set(r.key, r);
      out.results.delete(r.key);
    } else {
      out.results.set(r.key, r);
      out.diverged.delete(r.key);
    }
  }
  return out;
}

/**
 * Appends one record as one line, whole or not at all (appendFileWhole: a full disk names the
 * file and leaves no torn line). A file not ending in a newline (a write cut short) gets one first.
 */
export function appendGridLine(file: string, record: GridResult | GridDivergence): void {
  const problem = gridLineProblem(JSON.parse(JSON.stringify(record)));
  if (problem) throw new Error(`${file}: not written, the record for ${record.key} is invalid: ${problem}`);
  let endsClean = true;
  try {
    const fd = fs.openSync(file, "r");
    try {
      const size = fs.fstatSync(fd).size;
      const last = Buffer.alloc(1);
      endsClean = size === 0 || (fs.readSync(fd, last, 0, 1, size - 1) === 1 && last[0] === 0x0a);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // no file yet
  }
  appendFileWhole(file, `${endsClean ? "" : "\n"}${JSON.stringify(record)}\n`);
}
