/**
 * Parts 8-9 (notebooks 08-faces-network and 09-hidden-units; notebook 10 and
 * scripts/faces-grid.ts reuse the chosen network): the face splits as matrices, the one
 * sequence grid search -> best by validation -> retrain -> save (`chosenFaceNetwork`), the
 * single look at the test set (`chosenTestAccuracy`), and where the data came from
 * (`actorAccounting`). The grid's table and figure are in ./faces-grid, Part 9's unit
 * ranking in ./hidden-units; both are re-exported here, the notebooks' one import.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { dataDir, displayPath, writeFileAtomic } from "../runtime/paths";
import { sha256Hex } from "../runtime/integrity";
import { defaultWorkers } from "../runtime/cores";
import { ACTORS, faceMatrix, FaceSplits, LabelledMatrix, PreparedFaces } from "../data/faces";
import { dedupeImages } from "../data/face-splits";
import {
  bestResult,
  gridConfigs,
  GridData,
  GridResult,
  GridSpace,
  REPORT_GRID,
  runGridSearch,
} from "../models/mlp/grid-search";
import { CurvePoint, mlpAccuracy, MlpWeights, trainMlp, weightsFromJson, weightsToJson } from "../models/mlp/mlp";

export * from "./faces-grid";
export * from "./hidden-units";

type Profile = "full" | "quick";

/** Training and validation matrices of one image size: all the grid search may see. */
export async function gridData(splits: FaceSplits, size: 32 | 64): Promise<GridData> {
  const kind = size === 32 ? "grey32" : "grey64";
  return { train: await faceMatrix(splits.train, kind), validation: await faceMatrix(splits.validation, kind) };
}

export async function gridDataBySize(splits: FaceSplits): Promise<Record<32 | 64, GridData>> {
  return { 32: await gridData(splits, 32), 64: await gridData(splits, 64) };
}

/** A short fingerprint of the split (which images, in which set), so results of another split are never reused. */
export function splitFingerprint(splits: FaceSplits): string {
  const h = crypto.createHash("sha256");
  for (const set of ["train", "validation", "test"] as const) {
    h.update(set);
    for (const img of splits[set]) h.update(img.sha256);
  }
  return h.digest("hex").slice(0, 12);
}

/** The grid per profile: the report's 216 configurations, or four short ones for quick runs. */
export function part8Space(p: Profile): GridSpace {
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

/**
 * Where the search appends its results. "v2": lines without a test accuracy (files of the
 * first version computed one per configuration; they stay on disk, unread, rather than
 * being mixed with or mistaken for these).
 */
export function gridResultsFile(splits: FaceSplits, seed: number, p: Profile): string {
  return path.join(dataDir("faces", "grid"), `results-v2-${p}-split${splitFingerprint(splits)}-seed${seed}.jsonl`);
}

/** The saved chosen network; versioned with the results file it was chosen from. */
export function chosenModelFile(p: Profile, seed: number): string {
  return path.join(dataDir("faces", "models"), `part8-v2-${p}-seed${seed}.json`);
}

export interface SavedNetwork {
  split: string;
  result: GridResult;
  curve: CurvePoint[];
  trainAccuracy: number;
  validationAccuracy: number;
  weights: unknown;
  /** SHA-256 of the JSON of every field above, in this order. */
  sha256?: string;
}

/**
 * The saved network, if the file proves it: it parses, its checksum matches, and its weights
 * have the right shapes and finite values. Otherwise null, with one line naming the file and
 * why (the caller retrains, deterministically, and saves again).
 */
export function readSavedNetwork(
  file: string,
  warn: (line: string) => void,
): { saved: SavedNetwork; weights: MlpWeights } | null {
  if (!fs.existsSync(file)) return null;
  let problem: string;
  try {
    let saved: SavedNetwork;
    try {
      saved = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
      throw new Error(`unreadable (${(e as Error).message}), e.g. cut short`, { cause: e });
    }
    const { sha256, ...body } = saved;
    if (sha256 === undefined) throw new Error("written before model files carried a checksum");
    if (sha256 !== sha256Hex(JSON.stringify(body))) throw new Error("checksum does not match its contents");
    return { saved, weights: weightsFromJson(JSON.stringify(saved.weights), "weights") };
  } catch (e) {
    problem = (e as Error).message;
  }
  warn(`${displayPath(file)}: ${problem}; retraining`);
  return null;
}

/** Writes the network with its checksum (atomically); non-finite weights are refused by weightsToJson, never saved. */
export function writeSavedNetwork(
  file: string,
  network: Omit<SavedNetwork, "weights" | "sha256">,
  weights: MlpWeights,
): void {
  const body: SavedNetwork = { ...network, weights: JSON.parse(weightsToJson(weights, file)) };
  writeFileAtomic(file, JSON.stringify({ ...body, sha256: sha256Hex(JSON.stringify(body)) }));
}

export interface ChosenFaceNetwork {
  /** Every configuration of the profile's grid, in grid order. */
  results: GridResult[];
  /** The best by validation accuracy (`bestResult`: ties to the cheaper configuration). */
  best: GridResult;
  /** The best configuration trained again from the same seed, accuracies recorded every epoch. */
  weights: MlpWeights;
  curve: CurvePoint[];
  trainAccuracy: number;
  validationAccuracy: number;
  /** False when the network was read back from `file` (same split, same configuration). */
  retrained: boolean;
  file: string;
}

export interface ChosenOptions {
  /** Read the saved network back when it was chosen from the same split and configuration (default true). */
  reuseSaved?: boolean;
  workers?: number;
  log?: (line: string) => void;
}

/**
 * Part 8's selection, the one sequence notebooks 08-10 and scripts/faces-grid.ts share: the
 * grid search on training and validation images (resumed from its results file, so instant
 * once done), the best configuration by validation accuracy, retrained from the same seed
 * with a learning curve, and saved. The test set is not read here: see `chosenTestAccuracy`.
 */
export async function chosenFaceNetwork(
  splits: FaceSplits,
  p: Profile,
  seed: number,
  opts: ChosenOptions = {},
): Promise<ChosenFaceNetwork> {
  const data = await gridDataBySize(splits);
  const results = await runGridSearch(gridConfigs(part8Space(p)), data, {
    resultsFile: gridResultsFile(splits, seed, p),
    seed,
    workers: opts.workers ?? defaultWorkers(),
    log: opts.log,
  });
  const best = bestResult(results);
  const file = chosenModelFile(p, seed);
  const split = splitFingerprint(splits);
  const read = opts.reuseSaved !== false ? readSavedNetwork(file, opts.log ?? ((l) => console.warn(l))) : null;
  if (read) {
    const { saved, weights } = read;
    if (saved.split === split && saved.result?.key === best.key && saved.result.seed === seed) {
      return {
        results,
        best,
        weights,
        curve: saved.curve,
        trainAccuracy: saved.trainAccuracy,
        validationAccuracy: saved.validationAccuracy,
        retrained: false,
        file,
      };
    }
  }
  const d = data[best.config.size];
  const t = trainMlp(d.train, d.validation, { ...best.config, seed: best.seed }, { curveEvery: 1 });
  writeSavedNetwork(
    file,
    { split, result: best, curve: t.curve, trainAccuracy: t.trainAccuracy, validationAccuracy: t.validationAccuracy },
    t.weights,
  );
  return {
    results,
    best,
    weights: t.weights,
    curve: t.curve,
    trainAccuracy: t.trainAccuracy,
    validationAccuracy: t.validationAccuracy,
    retrained: true,
    file,
  };
}

/**
 * The test accuracy of the chosen network: the only place Parts 8-9 read the test images,
 * called once, after the choice is made.
 */
export async function chosenTestAccuracy(
  splits: FaceSplits,
  chosen: Pick<ChosenFaceNetwork, "best" | "weights">,
): Promise<{ accuracy: number; test: LabelledMatrix }> {
  const test = await faceMatrix(splits.test, chosen.best.config.size === 32 ? "grey32" : "grey64");
  return { accuracy: mlpAccuracy(chosen.weights, test), test };
}

/**
 * The counts k with round(k / n, digits) === accuracy: which set sizes a reported accuracy
 * can have been measured on (0.7759 is 90/116; no count over 373 or 374 images gives it).
 */
export function countsGiving(accuracy: number, n: number, digits = 4): number[] {
  const out: number[] = [];
  for (let k = 0; k <= n; k++) if (Number((k / n).toFixed(digits)) === accuracy) out.push(k);
  return out;
}

export interface ActorAccount {
  actor: string;
  /** Distinct list rows (URL + box) of the actor. */
  listed: number;
  /** Rejected or failed downloads, by reason (http-404, html, hash-mismatch, empty, ...). */
  lost: Record<string, number>;
  /** Good images whose crop repeats another entry's pixels (dropped so no face is in two sets). */
  duplicates: number;
  usable: number;
  train: number;
  validation: number;
  test: number;
}

/** Where each actor's images went: list rows -> download losses by reason -> duplicates -> the split. */
export function actorAccounting(prepared: PreparedFaces, splits: FaceSplits): ActorAccount[] {
  const kept = dedupeImages(prepared.images).kept;
  return ACTORS.map((actor) => {
    const outcomes = prepared.pipeline.outcomes.filter((o) => o.row.actor === actor);
    const lost: Record<string, number> = {};
    for (const o of outcomes) if (o.state !== "ok") lost[o.reason ?? o.state] = (lost[o.reason ?? o.state] ?? 0) + 1;
    const good = prepared.images.filter((i) => i.actor === actor).length;
    const usable = kept.filter((i) => i.actor === actor).length;
    const n = (set: keyof Pick<FaceSplits, "train" | "validation" | "test">) =>
      splits[set].filter((i) => i.actor === actor).length;
    return {
      actor,
      listed: outcomes.length,
      lost,
      duplicates: good - usable,
      usable,
      train: n("train"),
      validation: n("validation"),
      test: n("test"),
    };
  });
}
