/**
 * Part 10's kept results, so that running notebook 10 again neither trains its classifiers
 * again nor reads the cached activations they were trained on (Part 8's grid search keeps its
 * results the same way):
 *
 * - the candidate scores (`CandidateScores`): each candidate's training and validation accuracy;
 * - the chosen candidate's final run (`TestRuns`): its learning curve, its accuracies, its test
 *   accuracy and its number of features.
 *
 * A record is keyed by what determines it, not by the features themselves (hashing the exact
 * features meant reading every activation file, about 5 GB, to look a score up): the identity
 * of the backbone's activations at the tap (what the activation cache keys its files by), the
 * pooling, whether mirrored crops are added, each split's images in order (the hash of the very
 * pixels the activation cache hashes) with their labels, the TensorFlow.js backend that computes
 * the activations (wasm and tfjs-node differ in the last bits), the version of the code that
 * turns activations into features (`featuresVersion`), the classifier's configuration and the
 * training engine (the kernel and TensorFlow.js agree only to float32 rounding; one thread or
 * two give the same bits). A test run's key adds the test split. So a changed crop, backbone,
 * weights, layer or setting is a new key and trains anew.
 *
 * One JSON line per record, appended whole as each finishes. A line is trusted only when it is
 * valid in full; any other (cut short by a kill, damaged, edited) is named in `problems` and
 * its record is computed again. The files carry the version of their keys in their names
 * (transfer.ts): a file of other keys is never read as this one.
 *
 * Used by experiments/transfer.ts (evaluateCandidates, testCandidate), for
 * notebooks/10-transfer-learning.ipynb.
 */
import * as fs from "fs";
import { appendFileWhole, displayPath } from "../runtime/paths";
import { sha256Hex } from "../runtime/integrity";
import type { CurvePoint, MlpConfig } from "../models/mlp/mlp";

/** One split as the features see it: the activation cache's hash of each image's pixels, in order, and each label. */
export interface SplitIdentity {
  images: readonly string[];
  labels: readonly number[];
}

/** Everything that determines a candidate's features and its training (see the header). */
export interface CandidateIngredients {
  /** The backbone's name (with its weights' fingerprint where weights are user-supplied). */
  backbone: string;
  /** The identity of the backbone's activations at the tap (models/backbones, activationIdentity). */
  activations: string;
  layer: string;
  pooling: string;
  flip: boolean;
  train: SplitIdentity;
  validation: SplitIdentity;
  /** The TensorFlow.js backend computing the activations ("wasm", "tensorflow", "cpu"). */
  backend: string;
  /** The version of the code turning activations into a feature matrix (transfer.ts). */
  featuresVersion: string;
  classifier: MlpConfig;
  /** The engine training the classifier ("kernel" or "tfjs"). */
  engine: string;
}

/** JSON with every object's keys sorted, so that the order an object was built in does not change a key. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

function checkSplit(name: string, s: SplitIdentity): void {
  if (s.images.length !== s.labels.length)
    throw new Error(`candidateKey: the ${name} split has ${s.images.length} images and ${s.labels.length} labels`);
}

/** The key of a candidate's score: SHA-256 of its ingredients. */
export function candidateKey(c: CandidateIngredients): string {
  checkSplit("training", c.train);
  checkSplit("validation", c.validation);
  return sha256Hex(canonicalJson({ kind: "candidate", ...c }));
}

/** The key of the chosen candidate's final run: the candidate's ingredients and the test split. */
export function testRunKey(c: CandidateIngredients, test: SplitIdentity): string {
  checkSplit("training", c.train);
  checkSplit("validation", c.validation);
  checkSplit("test", test);
  return sha256Hex(canonicalJson({ kind: "test run", ...c, test }));
}

/** What a finished candidate's training gave. */
export interface CandidateScore {
  train: number;
  validation: number;
  /** Seconds its training took when it ran. */
  seconds: number;
}

/** The chosen candidate's final run, as the notebook shows it (the network's weights are not kept). */
export interface TestRun {
  /** Training and validation accuracy after every epoch. */
  curve: CurvePoint[];
  trainAccuracy: number;
  validationAccuracy: number;
  test: number;
  features: number;
  /** Seconds its training took when it ran. */
  seconds: number;
  steps: number;
  engine: "kernel" | "tfjs";
}

/** A value as a message shows it: numbers as they print (NaN stays NaN), anything else as JSON. */
const show = (v: unknown) => (typeof v === "number" ? String(v) : JSON.stringify(v));
const fraction = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= 1;
const count = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 0;

/** Why a parsed line is not a record with a SHA-256 `key` ("" when it is); `rest` checks the other fields. */
function recordProblem(o: unknown, rest: (r: Record<string, unknown>) => string): string {
  if (typeof o !== "object" || o === null || Array.isArray(o)) return "not a JSON object";
  const r = o as Record<string, unknown>;
  if (typeof r.key !== "string" || !/^[0-9a-f]{64}$/.test(r.key)) return "key is not a SHA-256";
  return rest(r);
}

function scoreProblem(r: Record<string, unknown>): string {
  if (!fraction(r.train)) return `train ${show(r.train)} is not an accuracy in [0, 1]`;
  if (!fraction(r.validation)) return `validation ${show(r.validation)} is not an accuracy in [0, 1]`;
  if (!(typeof r.seconds === "number" && Number.isFinite(r.seconds) && r.seconds >= 0))
    return `seconds ${show(r.seconds)} is not a duration`;
  return "";
}

function curveProblem(curve: unknown): string {
  if (!Array.isArray(curve) || curve.length === 0) return "curve is not a list of epochs";
  for (const [i, p] of curve.entries()) {
    if (typeof p !== "object" || p === null || Array.isArray(p)) return `curve[${i}] is not an object`;
    const q = p as Record<string, unknown>;
    if (!count(q.epoch)) return `curve[${i}].epoch ${show(q.epoch)} is not an epoch`;
    if (i > 0 && (q.epoch as number) <= (curve[i - 1] as CurvePoint).epoch)
      return `curve[${i}].epoch ${show(q.epoch)} does not follow ${(curve[i - 1] as CurvePoint).epoch}`;
    for (const k of ["train", "validation"] as const)
      if (!fraction(q[k])) return `curve[${i}].${k} ${show(q[k])} is not an accuracy in [0, 1]`;
  }
  return "";
}

function testRunProblem(r: Record<string, unknown>): string {
  for (const k of ["trainAccuracy", "validationAccuracy", "test"] as const)
    if (!fraction(r[k])) return `${k} ${show(r[k])} is not an accuracy in [0, 1]`;
  if (!(count(r.features) && (r.features as number) > 0))
    return `features ${show(r.features)} is not a positive integer`;
  if (!(typeof r.seconds === "number" && Number.isFinite(r.seconds) && r.seconds >= 0))
    return `seconds ${show(r.seconds)} is not a duration`;
  if (!count(r.steps)) return `steps ${show(r.steps)} is not a count`;
  if (r.engine !== "kernel" && r.engine !== "tfjs") return `engine ${show(r.engine)} is not kernel or tfjs`;
  return curveProblem(r.curve);
}

/** A JSON-lines file of records keyed by SHA-256, read once; `add` appends to it. */
class KeyedLines<T extends object> {
  private readonly records = new Map<string, T>();
  /** One entry per untrusted line: "file:line: why". */
  readonly problems: string[] = [];

  constructor(
    readonly file: string,
    private readonly what: string,
    private readonly problem: (r: Record<string, unknown>) => string,
    private readonly pick: (r: Record<string, unknown>) => T,
  ) {
    if (!fs.existsSync(file)) return;
    const lines = fs.readFileSync(file, "utf8").split("\n");
    for (const [i, line] of lines.entries()) {
      if (line.trim() === "") continue;
      let o: unknown;
      try {
        o = JSON.parse(line);
      } catch {
        this.problems.push(`${displayPath(file)}:${i + 1}: not valid JSON (cut short or damaged)`);
        continue;
      }
      const why = recordProblem(o, problem);
      if (why) {
        this.problems.push(`${displayPath(file)}:${i + 1}: ${why}`);
        continue;
      }
      const r = o as Record<string, unknown>;
      this.records.set(r.key as string, pick(r));
    }
  }

  get(key: string): T | undefined {
    return this.records.get(key);
  }

  /** Records a value (in memory and as one line appended to the file). */
  add(key: string, value: T): void {
    const why = recordProblem({ key, ...value }, this.problem);
    if (why) throw new Error(`${this.what}.add: ${why}`);
    const kept = this.pick(value as Record<string, unknown>);
    appendFileWhole(this.file, JSON.stringify({ key, ...kept }) + "\n");
    this.records.set(key, kept);
  }
}

/** The candidate scores file, read once; `add` appends to it. */
export class CandidateScores extends KeyedLines<CandidateScore> {
  constructor(file: string) {
    super(file, "CandidateScores", scoreProblem, (r) => ({
      train: r.train as number,
      validation: r.validation as number,
      seconds: r.seconds as number,
    }));
  }
}

/** The chosen candidates' final runs, read once; `add` appends to it. */
export class TestRuns extends KeyedLines<TestRun> {
  constructor(file: string) {
    super(file, "TestRuns", testRunProblem, (r) => ({
      curve: (r.curve as CurvePoint[]).map((p) => ({ epoch: p.epoch, train: p.train, validation: p.validation })),
      trainAccuracy: r.trainAccuracy as number,
      validationAccuracy: r.validationAccuracy as number,
      test: r.test as number,
      features: r.features as number,
      seconds: r.seconds as number,
      steps: r.steps as number,
      engine: r.engine as TestRun["engine"],
    }));
  }
}
