/**
 * Part 10's candidate scores, kept so that running notebook 10 again does not train its
 * classifiers again (Part 8's grid search keeps its results the same way). A score is keyed
 * by everything that determines it: the exact training and validation matrices (SHA-256 of
 * their values and labels), the classifier's configuration and the training engine (the
 * kernel and TensorFlow.js agree only to float32 rounding; one thread or two give the same
 * bits). So a changed crop, backbone, layer or setting is a new key and trains anew.
 *
 * One JSON line per candidate, appended whole as each finishes. A line is trusted only when
 * it is valid in full; any other (cut short by a kill, damaged, edited) is named in
 * `problems` and its candidate trains again.
 *
 * Used by experiments/transfer.ts (evaluateCandidates), for notebooks/10-transfer-learning.ipynb.
 */
import * as fs from "fs";
import { appendFileWhole, displayPath } from "../runtime/paths";
import { bytesOf, sha256Hex } from "../runtime/integrity";
import type { LabelledMatrix } from "../data/labelled";
import type { MlpConfig } from "../models/mlp/mlp";

/** What a finished candidate's training gave. */
export interface CandidateScore {
  train: number;
  validation: number;
  /** Seconds its training took when it ran. */
  seconds: number;
}

/** The key of a candidate: its data, its classifier and the engine that trains it. */
export function candidateKey(
  train: LabelledMatrix,
  validation: LabelledMatrix,
  classifier: MlpConfig,
  engine: string,
): string {
  const shape = (s: LabelledMatrix) => `${s.rows}x${s.dim}`;
  return sha256Hex(
    JSON.stringify({ classifier, engine, train: shape(train), validation: shape(validation) }),
    bytesOf(train.x),
    bytesOf(train.labels),
    bytesOf(validation.x),
    bytesOf(validation.labels),
  );
}

/** A value as a message shows it: numbers as they print (NaN stays NaN), anything else as JSON. */
const show = (v: unknown) => (typeof v === "number" ? String(v) : JSON.stringify(v));
const fraction = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= 1;

/** Why a parsed line is not a trusted record ("" when it is). */
function lineProblem(o: unknown): string {
  if (typeof o !== "object" || o === null || Array.isArray(o)) return "not a JSON object";
  const r = o as Record<string, unknown>;
  if (typeof r.key !== "string" || !/^[0-9a-f]{64}$/.test(r.key)) return "key is not a SHA-256";
  if (!fraction(r.train)) return `train ${show(r.train)} is not an accuracy in [0, 1]`;
  if (!fraction(r.validation)) return `validation ${show(r.validation)} is not an accuracy in [0, 1]`;
  if (!(typeof r.seconds === "number" && Number.isFinite(r.seconds) && r.seconds >= 0))
    return `seconds ${show(r.seconds)} is not a duration`;
  return "";
}

/** The scores file, read once; `add` appends to it. */
export class CandidateScores {
  private readonly scores = new Map<string, CandidateScore>();
  /** One entry per untrusted line: "file:line: why". */
  readonly problems: string[] = [];

  constructor(readonly file: string) {
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
      const why = lineProblem(o);
      if (why) {
        this.problems.push(`${displayPath(file)}:${i + 1}: ${why}`);
        continue;
      }
      const { key, train, validation, seconds } = o as CandidateScore & { key: string };
      this.scores.set(key, { train, validation, seconds });
    }
  }

  get(key: string): CandidateScore | undefined {
    return this.scores.get(key);
  }

  /** Records a score (in memory and as one line appended to the file). */
  add(key: string, score: CandidateScore): void {
    if (lineProblem({ key, ...score })) throw new Error(`CandidateScores.add: ${lineProblem({ key, ...score })}`);
    appendFileWhole(this.file, JSON.stringify({ key, ...score }) + "\n");
    this.scores.set(key, score);
  }
}
