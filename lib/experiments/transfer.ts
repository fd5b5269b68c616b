/**
 * Part 10: face crops -> backbone features -> the Part 8 network, through the activation
 * cache, and the search for the generic backbone that does it best. Kept here so the
 * notebook is a few calls, not loops.
 *
 * The search (`evaluateCandidates`) tries each backbone at several depths, with the
 * activations flattened or averaged over the image (one number per channel), with and
 * without the training crops' mirror images added as extra training rows, and scores
 * every candidate on the validation faces only. `testCandidate` then reads the test
 * faces once, for the chosen one.
 *
 * Used by: notebooks/10-transfer-learning.ipynb. Models:
 * models/backbones (features) and models/mlp (the classifier on top).
 */
import * as path from "path";
import { FaceImage, faceCrop } from "../data/faces";
import { LabelledMatrix } from "../data/labelled";
import { ActivationOptions, cachedActivations, printProgress } from "../models/backbones/activation-cache";
import { Backbone, RgbImage, tapLayer } from "../models/backbones/backbone";
import { cachedActivationsAt, printMultiTapProgress } from "../models/backbones/multi-tap";
import { countLine, linesInPlace, progressLine } from "../runtime/progress";
import { chooseMlpEngine, MlpConfig, MlpTrainResult, mlpAccuracy, trainMlp } from "../models/mlp/mlp";
import { dataDir, displayPath } from "../runtime/paths";
import { CandidateScores, candidateKey } from "./transfer-results";

export interface FeatureSet extends LabelledMatrix {
  hits: number;
  computed: number;
  computeSeconds: number;
}

const CROP = 227;

/** The crop mirrored left to right (HWC). */
export function flipHorizontal(img: RgbImage): RgbImage {
  const { width: w, height: h } = img;
  const data = new Float32Array(img.data.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = img.data[(y * w + (w - 1 - x)) * 3 + c];
  return { width: w, height: h, data };
}

function faceSources(faces: readonly FaceImage[], flip: boolean): (() => Promise<RgbImage>)[] {
  return faces.map((f) => async () => {
    const img = { width: CROP, height: CROP, data: await faceCrop(f, "rgb227") };
    return flip ? flipHorizontal(img) : img;
  });
}

function matrix(features: readonly Float32Array[], dim: number, faces: readonly FaceImage[]): LabelledMatrix {
  const x = new Float32Array(faces.length * dim);
  features.forEach((f, i) => x.set(f, i * dim));
  return { rows: faces.length, dim, x, labels: Uint8Array.from(faces, (f) => f.label) };
}

/** Features of `layer` for each face (rgb227 crops, mirrored if `flip`), one row per face. */
export async function faceFeatures(
  backbone: Backbone,
  layer: string,
  faces: readonly FaceImage[],
  opts: ActivationOptions & { flip?: boolean } = {},
): Promise<FeatureSet> {
  const r = await cachedActivations(backbone, layer, faceSources(faces, opts.flip ?? false), {
    // One line updated in place in a notebook (a line per 10 s in a log).
    onProgress: linesInPlace(printProgress),
    ...opts,
  });
  return { ...matrix(r.features, r.dim, faces), hits: r.hits, computed: r.computed, computeSeconds: r.computeSeconds };
}

export type Pooling = "flat" | "mean";

/** Mean over the spatial positions of an HWC activation: one value per channel. */
export function meanPool(features: Float32Array, shape: readonly number[]): Float32Array {
  const channels = shape[shape.length - 1];
  const positions = features.length / channels;
  const out = new Float32Array(channels);
  for (let p = 0; p < positions; p++) for (let c = 0; c < channels; c++) out[c] += features[p * channels + c];
  for (let c = 0; c < channels; c++) out[c] /= positions;
  return out;
}

/** The rows of `a` followed by the rows of `b`. */
export function stackRows(a: LabelledMatrix, b: LabelledMatrix): LabelledMatrix {
  if (a.dim !== b.dim) throw new Error(`stackRows: ${a.dim} inputs per row against ${b.dim}`);
  const x = new Float32Array(a.x.length + b.x.length);
  x.set(a.x);
  x.set(b.x, a.x.length);
  const labels = new Uint8Array(a.rows + b.rows);
  labels.set(a.labels);
  labels.set(b.labels, a.rows);
  return { rows: a.rows + b.rows, dim: a.dim, x, labels };
}

export interface TapRequest {
  layer: string;
  poolings: readonly Pooling[];
}

export interface ExtractionStats {
  backbone: string;
  layers: string[];
  images: number;
  /** Images run through the network (the rest came from the cache). */
  computed: number;
  computeSeconds: number;
}

/**
 * Features for several layers and poolings from one pass per batch; keys "layer/pooling".
 * Layers wanted only averaged are averaged as they arrive (InceptionV3's 35x35x288 would
 * otherwise hold 1.4 MB per face).
 */
export async function faceFeaturesAt(
  backbone: Backbone,
  taps: readonly TapRequest[],
  faces: readonly FaceImage[],
  opts: { flip?: boolean; cacheDir?: string; log?: (line: string) => void } = {},
): Promise<{ sets: Map<string, LabelledMatrix>; stats: ExtractionStats }> {
  const shapes = new Map(taps.map((t) => [t.layer, tapLayer(backbone, t.layer).shape]));
  const flat = new Set(taps.filter((t) => t.poolings.includes("flat")).map((t) => t.layer));
  const layers = taps.map((t) => t.layer);
  const r = await cachedActivationsAt(backbone, layers, faceSources(faces, opts.flip ?? false), {
    cacheDir: opts.cacheDir,
    onProgress: opts.log ? printMultiTapProgress(30, opts.log) : linesInPlace(printMultiTapProgress),
    reduce: (layer, f) => (flat.has(layer) ? f : meanPool(f, shapes.get(layer)!)),
  });
  const sets = new Map<string, LabelledMatrix>();
  let computed = 0;
  let computeSeconds = 0;
  for (const t of taps) {
    const res = r.get(t.layer)!;
    computed = Math.max(computed, res.computed);
    computeSeconds = res.computeSeconds;
    for (const p of t.poolings) {
      const feats =
        p === "mean" && flat.has(t.layer) ? res.features.map((f) => meanPool(f, shapes.get(t.layer)!)) : res.features;
      sets.set(`${t.layer}/${p}`, matrix(feats, feats[0]?.length ?? 0, faces));
    }
  }
  return { sets, stats: { backbone: backbone.name, layers, images: faces.length, computed, computeSeconds } };
}

export interface Candidate {
  backbone: string;
  layer: string;
  pooling: Pooling;
  /** Mirror images of the training crops added as training rows. */
  flip: boolean;
}

export interface CandidateResult extends Candidate {
  features: number;
  train: number;
  validation: number;
  /** Seconds its training took (in an earlier run, when `cached`). */
  seconds: number;
  /** True when the score was read back from the scores file rather than trained in this run. */
  cached: boolean;
}

/** Where evaluateCandidates keeps its scores by default ("v1": the format of transfer-results.ts). */
export function candidateScoresFile(): string {
  return path.join(dataDir("transfer"), "candidate-scores-v1.jsonl");
}

/** The highest validation accuracy; ties go to fewer features, then to the earlier candidate. */
export function chooseCandidate<T extends Pick<CandidateResult, "validation" | "features">>(results: readonly T[]): T {
  if (results.length === 0) throw new Error("chooseCandidate: no candidates");
  return results.reduce((best, r) =>
    r.validation > best.validation || (r.validation === best.validation && r.features < best.features) ? r : best,
  );
}

export interface FaceSplitsSubset {
  train: readonly FaceImage[];
  validation: readonly FaceImage[];
  test: readonly FaceImage[];
}

export interface BackboneSearch {
  backbone: Backbone;
  taps: readonly TapRequest[];
  flips: readonly boolean[];
}

/**
 * Trains the classifier on every candidate of every backbone and scores it on the
 * validation faces (the test faces are not read). Returns one row per candidate and the
 * extraction statistics per backbone and set. With `log`, a line per candidate (and
 * extraction progress) goes there; without, each shows as one line updated in place.
 * Scores are kept in `scoresFile` (transfer-results.ts; null: none kept), so a candidate
 * whose data, classifier and engine are unchanged is read back instead of trained again.
 */
export async function evaluateCandidates(
  searches: readonly BackboneSearch[],
  faces: Pick<FaceSplitsSubset, "train" | "validation">,
  classifier: MlpConfig,
  log?: (line: string) => void,
  scoresFile: string | null = candidateScoresFile(),
): Promise<{ results: CandidateResult[]; extraction: ExtractionStats[]; problems: string[] }> {
  const scores = scoresFile ? new CandidateScores(scoresFile) : null;
  for (const p of scores?.problems ?? []) console.log(`ignored ${p}; that candidate trains again`);
  const { engine } = chooseMlpEngine("auto", 6);
  const results: CandidateResult[] = [];
  const extraction: ExtractionStats[] = [];
  const total = searches.reduce((n, s) => n + s.taps.reduce((m, t) => m + t.poolings.length, 0) * s.flips.length, 0);
  const line = log ? null : progressLine();
  const t0 = performance.now();
  const trained = (text: string) => {
    if (log) return log(text);
    const status = countLine("candidates", results.length, total, (performance.now() - t0) / 1000, text);
    if (results.length === total) line?.done(status);
    else line?.update(status);
  };
  for (const { backbone, taps, flips } of searches) {
    const train = await faceFeaturesAt(backbone, taps, faces.train, { log });
    const validation = await faceFeaturesAt(backbone, taps, faces.validation, { log });
    const mirrored = flips.includes(true)
      ? await faceFeaturesAt(backbone, taps, faces.train, { flip: true, log })
      : null;
    extraction.push(
      train.stats,
      validation.stats,
      ...(mirrored ? [{ ...mirrored.stats, layers: mirrored.stats.layers.map((l) => `${l} (mirrored)`) }] : []),
    );
    for (const t of taps)
      for (const pooling of t.poolings)
        for (const flip of flips) {
          const key = `${t.layer}/${pooling}`;
          const tr = flip ? stackRows(train.sets.get(key)!, mirrored!.sets.get(key)!) : train.sets.get(key)!;
          const va = validation.sets.get(key)!;
          const id = scores ? candidateKey(tr, va, classifier, engine) : "";
          let score = scores?.get(id);
          const cached = score !== undefined;
          if (!score) {
            const r = trainMlp(tr, va, classifier);
            score = { train: r.trainAccuracy, validation: r.validationAccuracy, seconds: r.seconds };
            scores?.add(id, score);
          }
          results.push({ backbone: backbone.name, layer: t.layer, pooling, flip, features: tr.dim, ...score, cached });
          trained(
            `${backbone.name} ${key}${flip ? " +mirrored" : ""}: validation ${(100 * score.validation).toFixed(2)}% ` +
              (cached ? "(read back)" : `(${score.seconds.toFixed(1)} s)`),
          );
        }
  }
  const readBack = results.filter((r) => r.cached).length;
  if (scores && readBack > 0)
    console.log(
      `${readBack} of ${results.length} candidate scores read back from ${displayPath(scores.file)} ` +
        `(the same features, classifier and engine as when they were trained; delete the file to train them again)`,
    );
  return { results, extraction, problems: scores?.problems ?? [] };
}

/**
 * The chosen candidate trained again (same seed, so the same network) with a learning
 * curve, then scored once on the test faces.
 */
export async function testCandidate(
  backbone: Backbone,
  chosen: Candidate,
  faces: FaceSplitsSubset,
  classifier: MlpConfig,
): Promise<{ run: MlpTrainResult; test: number; features: number }> {
  if (backbone.name !== chosen.backbone)
    throw new Error(`testCandidate: ${chosen.backbone} chosen, ${backbone.name} given`);
  const taps = [{ layer: chosen.layer, poolings: [chosen.pooling] }];
  const key = `${chosen.layer}/${chosen.pooling}`;
  const get = async (set: readonly FaceImage[], flip = false) =>
    (await faceFeaturesAt(backbone, taps, set, { flip })).sets.get(key)!;
  let train = await get(faces.train);
  if (chosen.flip) train = stackRows(train, await get(faces.train, true));
  const run = trainMlp(train, await get(faces.validation), classifier, { curveEvery: 1 });
  return { run, test: mlpAccuracy(run.weights, await get(faces.test)), features: train.dim };
}

/** The first `perActor` faces of each actor, in the split's order (the quick profile's subset). */
export function firstPerActor(faces: readonly FaceImage[], perActor: number): FaceImage[] {
  const count = new Map<number, number>();
  return faces.filter((f) => {
    const n = count.get(f.label) ?? 0;
    count.set(f.label, n + 1);
    return n < perActor;
  });
}
