/**
 * Glue between the face data and the Part 8 / Part 9 models, so the notebooks stay short:
 * the split images as matrices per image size, and where the chosen network is saved.
 *
 * Used by: notebooks/08-faces-network, 09-hidden-units and 10-transfer-learning (the raw-pixel
 * row); scripts/faces-grid.ts and scripts/bench-faces.ts. Models: models/mlp.
 */
import * as fs from "fs";
import * as path from "path";
import { dataDir, writeFileAtomic } from "../runtime/paths";
import { faceMatrix, FaceSplits } from "../data/faces";
import {
  bestResult,
  gridConfigs,
  GridData,
  GridResult,
  GridSpace,
  REPORT_GRID,
  runGridSearch,
} from "../models/mlp/grid-search";
import {
  mlpAccuracy,
  hiddenActivations,
  MlpWeights,
  trainMlp,
  MlpTrainResult,
  weightsFromJson,
  weightsToJson,
} from "../models/mlp/mlp";

export async function gridData(splits: FaceSplits, size: 32 | 64): Promise<GridData> {
  const kind = size === 32 ? "grey32" : "grey64";
  const m = (set: keyof Pick<FaceSplits, "train" | "validation" | "test">) => faceMatrix(splits[set], kind);
  return { train: await m("train"), validation: await m("validation"), test: await m("test") };
}

export async function gridDataBySize(splits: FaceSplits): Promise<Record<32 | 64, GridData>> {
  return { 32: await gridData(splits, 32), 64: await gridData(splits, 64) };
}

/** A short fingerprint of the split (which images, in which set), so results of another split are never reused. */
export function splitFingerprint(splits: FaceSplits): string {
  const h = require("crypto").createHash("sha256");
  for (const set of ["train", "validation", "test"] as const) {
    h.update(set);
    for (const img of splits[set]) h.update(img.sha256);
  }
  return (h.digest("hex") as string).slice(0, 12);
}

export function modelFile(name: string): string {
  return path.join(dataDir("faces", "models"), `${name}.json`);
}

export function saveWeights(name: string, w: MlpWeights, extra: Record<string, unknown> = {}): string {
  const file = modelFile(name);
  writeFileAtomic(file, JSON.stringify({ ...extra, weights: JSON.parse(weightsToJson(w)) }));
  return file;
}

export function loadWeights(name: string): { weights: MlpWeights; extra: Record<string, unknown> } | null {
  const file = modelFile(name);
  if (!fs.existsSync(file)) return null;
  const o = JSON.parse(fs.readFileSync(file, "utf8"));
  const { weights, ...extra } = o;
  return { weights: weightsFromJson(JSON.stringify(weights), file), extra };
}

/** The grid per profile: the report's 216 configurations, or four short ones for quick runs. */
export function part8Space(p: "full" | "quick"): GridSpace {
  if (p === "full") return REPORT_GRID;
  return {
    size: [32, 64],
    hidden: [20],
    epochs: [30],
    batchSize: [50],
    activation: ["relu", "leaky_relu"],
    learningRate: [1e-3],
  };
}

export function gridResultsFile(splits: FaceSplits, seed: number, p: "full" | "quick"): string {
  return path.join(dataDir("faces", "grid"), `results-${p}-split${splitFingerprint(splits)}-seed${seed}.jsonl`);
}

/** The grid's results as a danfojs DataFrame, best validation accuracy first. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- danfojs ships no usable types for DataFrame in Node
export function resultsFrame(results: GridResult[]): any {
  // danfojs is loaded only here: it is heavy, and only the notebook table needs it.
  const dfd = require("danfojs-node");
  const rows = results.map((r) => ({
    size: `${r.config.size}x${r.config.size}`,
    hidden: r.config.hidden,
    epochs: r.config.epochs,
    batch: r.config.batchSize,
    activation: r.config.activation === "relu" ? "ReLU" : "LeakyReLU(0.01)",
    lr: r.config.learningRate,
    train: r.trainAccuracy,
    validation: r.validationAccuracy,
    test: r.testAccuracy,
    seconds: Number(r.seconds.toFixed(1)),
  }));
  return new dfd.DataFrame(rows).sortValues("validation", { ascending: false });
}

/**
 * Retrains one configuration with the accuracies of every epoch recorded (Figure 8); the
 * same seed gives the same network the grid search trained.
 */
export function trainWithCurve(data: GridData, r: GridResult): MlpTrainResult & { testAccuracy: number } {
  const t = trainMlp(data.train, data.validation, { ...r.config, seed: r.seed }, { curveEvery: 1 });
  return { ...t, testAccuracy: mlpAccuracy(t.weights, data.test) };
}

/** Mean of each hidden unit's activation over the rows of one actor. */
export function meanHidden(w: MlpWeights, x: Float32Array, rows: number): Float64Array {
  const h = hiddenActivations(w, x, rows);
  const mean = new Float64Array(w.hidden);
  for (let r = 0; r < rows; r++) for (let j = 0; j < w.hidden; j++) mean[j] += h[r * w.hidden + j] / rows;
  return mean;
}

export interface UnitContribution {
  unit: number;
  /** mean activation over actor A's images times the unit's weight into A's output; likewise B. */
  contributionA: number;
  contributionB: number;
  /** |cA - cB| / mean(|cA|, |cB|) in percent (0 when both are 0). */
  percentDifference: number;
  /** The actor a larger activation of this unit speaks for: the one whose output weight is larger. */
  favours: "A" | "B";
}

/**
 * The report's Part 9 selection: each hidden unit's contribution to "A" on A's images and
 * to "B" on B's images, ranked by their percentage difference (ties by the absolute gap).
 */
export function unitContributions(
  w: MlpWeights,
  meanA: Float64Array,
  meanB: Float64Array,
  labelA: number,
  labelB: number,
): UnitContribution[] {
  const out: UnitContribution[] = [];
  for (let j = 0; j < w.hidden; j++) {
    const wA = w.W2[j * w.outputs + labelA];
    const wB = w.W2[j * w.outputs + labelB];
    const cA = meanA[j] * wA;
    const cB = meanB[j] * wB;
    const scale = (Math.abs(cA) + Math.abs(cB)) / 2;
    out.push({
      unit: j,
      contributionA: cA,
      contributionB: cB,
      percentDifference: scale === 0 ? 0 : (100 * Math.abs(cA - cB)) / scale,
      favours: wA >= wB ? "A" : "B",
    });
  }
  // Opposite signs all give 200%, so among equal percentages the larger absolute gap ranks first.
  const gap = (u: UnitContribution) => Math.abs(u.contributionA - u.contributionB);
  return out.sort((a, b) =>
    Math.abs(b.percentDifference - a.percentDifference) > 1e-9
      ? b.percentDifference - a.percentDifference
      : gap(b) - gap(a) || a.unit - b.unit,
  );
}

/** Column j of W1 (the unit's input weights), as an image. */
export function unitInputWeights(w: MlpWeights, unit: number): Float32Array {
  const img = new Float32Array(w.inputSize);
  for (let i = 0; i < w.inputSize; i++) img[i] = w.W1[i * w.hidden + unit];
  return img;
}

export function chosenModelName(p: "full" | "quick", seed: number): string {
  return `part8-${p}-seed${seed}`;
}

/**
 * Part 8's chosen network for Part 9: the saved weights when they were trained on this
 * split, otherwise the grid search (resumed from its results file, so normally instant)
 * and a deterministic retrain of its best configuration, saved for next time.
 */
export async function chosenNetwork(
  splits: FaceSplits,
  p: "full" | "quick",
  seed: number,
): Promise<{ weights: MlpWeights; result: GridResult; retrained: boolean }> {
  const name = chosenModelName(p, seed);
  const saved = loadWeights(name);
  if (saved && saved.extra.split === splitFingerprint(splits))
    return { weights: saved.weights, result: saved.extra.result as GridResult, retrained: false };
  const data = await gridDataBySize(splits);
  const results = await runGridSearch(gridConfigs(part8Space(p)), data, {
    resultsFile: gridResultsFile(splits, seed, p),
    seed,
  });
  const best = bestResult(results);
  const t = trainWithCurve(data[best.config.size], best);
  saveWeights(name, t.weights, { split: splitFingerprint(splits), result: best });
  return { weights: t.weights, result: best, retrained: true };
}
