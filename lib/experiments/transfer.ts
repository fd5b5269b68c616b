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
 * Both keep what they trained in data/transfer/ (transfer-results.ts), keyed by what
 * determines it (the backbone's activation identity, the tap, pooling, mirroring, each split's
 * image hashes and labels, the TensorFlow.js backend, the classifier and its engine), so a
 * warm run reads them back without reading a backbone's activations: a backbone whose
 * candidates are all known is not run or read at all.
 *
 * Used by: notebooks/10-transfer-learning.ipynb. Models:
 * models/backbones (features) and models/mlp (the classifier on top).
 */
import * as fs from "fs";
import * as path from "path";
import { FaceImage, faceCrop } from "../data/faces";
import { LabelledMatrix } from "../data/labelled";
import {
  ActivationOptions,
  activationCacheName,
  activationFile,
  cachedActivations,
  imageHash,
  printProgress,
} from "../models/backbones/activation-cache";
import { Backbone, RgbImage, tapLayer } from "../models/backbones/backbone";
import { cachedActivationsAt, printMultiTapProgress } from "../models/backbones/multi-tap";
import { countLine, linesInPlace, progressLine } from "../runtime/progress";
import { chooseMlpEngine, MlpConfig, mlpAccuracy, trainMlp } from "../models/mlp/mlp";
import { initBackend } from "../runtime/backend";
import { dataDir, displayPath } from "../runtime/paths";
import {
  CandidateIngredients,
  CandidateScores,
  candidateKey,
  SplitIdentity,
  TestRun,
  TestRuns,
  testRunKey,
} from "./transfer-results";

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

/** Where a face's image comes from: its rgb227 crop from the faces cache (a test passes its own). */
export type CropLoader = (face: FaceImage) => Promise<RgbImage>;

/** The face's 227x227 RGB crop from the faces cache, values in [0, 1]. */
export const rgb227Crop: CropLoader = async (f) => ({ width: CROP, height: CROP, data: await faceCrop(f, "rgb227") });

function faceSources(faces: readonly FaceImage[], flip: boolean, load: CropLoader): (() => Promise<RgbImage>)[] {
  return faces.map((f) => async () => {
    const img = await load(f);
    return flip ? flipHorizontal(img) : img;
  });
}

/**
 * The split as a key sees it: the activation cache's hash of each crop's pixels (imageHash,
 * the name of its activation files), in order, and each label. Loads every crop once.
 */
export async function splitIdentity(
  faces: readonly FaceImage[],
  load: CropLoader = rgb227Crop,
): Promise<SplitIdentity> {
  const images: string[] = [];
  for (const f of faces) images.push(imageHash(await load(f)));
  return { images, labels: faces.map((f) => f.label) };
}

/**
 * The identity of a backbone's activations at a tap, exactly as the activation cache keys its
 * files: their folder under the cache root, made of activationCacheName (the name, its weights'
 * fingerprint where user-supplied, and its computation, e.g. BatchNorm folded) and the layer.
 */
export function activationIdentity(backbone: Pick<Backbone, "name" | "computation">, layer: string): string {
  return path
    .dirname(activationFile("", activationCacheName(backbone), layer, "image"))
    .split(path.sep)
    .join("/");
}

/**
 * The version of the code that turns activations into a candidate's features (faceFeaturesAt's
 * meanPool and row order, flipHorizontal, stackRows): part of every key, so bump it when that
 * code changes what a candidate trains on.
 */
export const FEATURES_VERSION = "1";

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
  const r = await cachedActivations(backbone, layer, faceSources(faces, opts.flip ?? false, rgb227Crop), {
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
  opts: { flip?: boolean; cacheDir?: string; log?: (line: string) => void; loadCrop?: CropLoader } = {},
): Promise<{ sets: Map<string, LabelledMatrix>; stats: ExtractionStats }> {
  const shapes = new Map(taps.map((t) => [t.layer, tapLayer(backbone, t.layer).shape]));
  const flat = new Set(taps.filter((t) => t.poolings.includes("flat")).map((t) => t.layer));
  const layers = taps.map((t) => t.layer);
  const r = await cachedActivationsAt(
    backbone,
    layers,
    faceSources(faces, opts.flip ?? false, opts.loadCrop ?? rgb227Crop),
    {
      cacheDir: opts.cacheDir,
      onProgress: opts.log ? printMultiTapProgress(30, opts.log) : linesInPlace(printMultiTapProgress),
      reduce: (layer, f) => (flat.has(layer) ? f : meanPool(f, shapes.get(layer)!)),
    },
  );
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

/**
 * Where evaluateCandidates keeps its scores by default. "v2": keyed by the candidate's
 * ingredients (transfer-results.ts); v1 files were keyed by the SHA-256 of the features and
 * are not read.
 */
export function candidateScoresFile(): string {
  return path.join(dataDir("transfer"), "candidate-scores-v2.jsonl");
}

/** Where testCandidate keeps the chosen candidate's final run by default ("v2": the keys of the scores file's v2). */
export function testRunsFile(): string {
  return path.join(dataDir("transfer"), "test-runs-v2.jsonl");
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

/** A candidate's number of features, from its tap's shape: every value flattened, or one per channel averaged. */
export function featureCount(backbone: Pick<Backbone, "name" | "layers">, layer: string, pooling: Pooling): number {
  const shape = tapLayer(backbone, layer).shape;
  return pooling === "flat" ? shape.reduce((a, b) => a * b, 1) : shape[shape.length - 1];
}

/** The training rows of a candidate (with the mirrored crops' rows when `flip`), checked to have `features` columns. */
function trainingSet(
  train: Map<string, LabelledMatrix>,
  mirrored: Map<string, LabelledMatrix> | undefined,
  key: string,
  flip: boolean,
  features: number,
): LabelledMatrix {
  const tr = flip ? stackRows(train.get(key)!, mirrored!.get(key)!) : train.get(key)!;
  if (tr.dim !== features) throw new Error(`${key}: ${tr.dim} features per face, the tap's shape gives ${features}`);
  return tr;
}

/** What the key of every candidate trained on the same faces with the same classifier shares. */
interface KeyContext {
  train: SplitIdentity;
  validation: SplitIdentity;
  backend: string;
  classifier: MlpConfig;
  engine: string;
}

function ingredients(
  backbone: Pick<Backbone, "name" | "computation">,
  c: Omit<Candidate, "backbone">,
  k: KeyContext,
): CandidateIngredients {
  return {
    backbone: backbone.name,
    activations: activationIdentity(backbone, c.layer),
    layer: c.layer,
    pooling: c.pooling,
    flip: c.flip,
    featuresVersion: FEATURES_VERSION,
    ...k,
  };
}

/** A line naming an earlier version of `file` beside it (same name with another -vN), which is not read. */
function noteOlderVersions(file: string): void {
  const m = /^(.*)-v(\d+)(\.jsonl)$/.exec(path.basename(file));
  if (!m) return;
  for (let v = 1; v < Number(m[2]); v++) {
    const old = path.join(path.dirname(file), `${m[1]}-v${v}${m[3]}`);
    if (fs.existsSync(old))
      console.log(`${displayPath(old)} is from an earlier version (other keys) and is not read; it can be deleted`);
  }
}

export interface EvaluateOptions {
  /** A line per candidate and extraction progress go there; without, each shows as one line updated in place. */
  log?: (line: string) => void;
  /** The scores file (default candidateScoresFile(); null: none kept, every candidate trains). */
  scoresFile?: string | null;
  /** Where the faces' images come from (default: their rgb227 crops from the faces cache). */
  loadCrop?: CropLoader;
  /** The activation cache's root (default data/activations). */
  cacheDir?: string;
}

/**
 * Trains the classifier on every candidate of every backbone and scores it on the
 * validation faces (the test faces are not read). Returns one row per candidate and the
 * extraction statistics per backbone and set. Scores are kept in the scores file
 * (transfer-results.ts), so a candidate whose ingredients are unchanged is read back instead
 * of trained again; a backbone whose candidates are all read back is not run and its
 * activations are not read (its extraction rows then say 0 images run through it).
 */
export async function evaluateCandidates(
  searches: readonly BackboneSearch[],
  faces: Pick<FaceSplitsSubset, "train" | "validation">,
  classifier: MlpConfig,
  opts: EvaluateOptions = {},
): Promise<{ results: CandidateResult[]; extraction: ExtractionStats[]; problems: string[] }> {
  const { log, loadCrop = rgb227Crop, cacheDir } = opts;
  const scoresFile = opts.scoresFile === undefined ? candidateScoresFile() : opts.scoresFile;
  const scores = scoresFile ? new CandidateScores(scoresFile) : null;
  if (scoresFile) noteOlderVersions(scoresFile);
  for (const p of scores?.problems ?? []) console.log(`ignored ${p}; that candidate trains again`);
  const { engine } = chooseMlpEngine("auto", 6);
  const context: KeyContext | null = scores
    ? {
        train: await splitIdentity(faces.train, loadCrop),
        validation: await splitIdentity(faces.validation, loadCrop),
        backend: (await initBackend()).name,
        classifier,
        engine,
      }
    : null;
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
    const candidates = taps.flatMap((t) =>
      t.poolings.flatMap((pooling) => flips.map((flip) => ({ layer: t.layer, pooling, flip }))),
    );
    const keys = candidates.map((c) => (context ? candidateKey(ingredients(backbone, c, context)) : ""));
    const known = keys.map((k) => scores?.get(k));
    let sets: {
      train: Map<string, LabelledMatrix>;
      validation: Map<string, LabelledMatrix>;
      mirrored?: Map<string, LabelledMatrix>;
    } | null = null;
    if (known.every((s) => s !== undefined)) {
      // Every score is known: the activations are not needed, so they are neither computed nor read.
      const layers = taps.map((t) => t.layer);
      const none = (images: number): ExtractionStats => ({
        backbone: backbone.name,
        layers,
        images,
        computed: 0,
        computeSeconds: 0,
      });
      extraction.push(
        none(faces.train.length),
        none(faces.validation.length),
        ...(flips.includes(true)
          ? [{ ...none(faces.train.length), layers: layers.map((l) => `${l} (mirrored)`) }]
          : []),
      );
      const which = candidates.length === 1 ? "its candidate's score" : `all ${candidates.length} candidate scores`;
      (log ?? console.log)(`${backbone.name}: ${which} known, so its activations were not read`);
    } else {
      const train = await faceFeaturesAt(backbone, taps, faces.train, { log, loadCrop, cacheDir });
      const validation = await faceFeaturesAt(backbone, taps, faces.validation, { log, loadCrop, cacheDir });
      const mirrored = flips.includes(true)
        ? await faceFeaturesAt(backbone, taps, faces.train, { flip: true, log, loadCrop, cacheDir })
        : null;
      extraction.push(
        train.stats,
        validation.stats,
        ...(mirrored ? [{ ...mirrored.stats, layers: mirrored.stats.layers.map((l) => `${l} (mirrored)`) }] : []),
      );
      sets = { train: train.sets, validation: validation.sets, mirrored: mirrored?.sets };
    }
    for (const [i, { layer, pooling, flip }] of candidates.entries()) {
      const key = `${layer}/${pooling}`;
      const features = featureCount(backbone, layer, pooling);
      let score = known[i];
      const cached = score !== undefined;
      if (!score) {
        const tr = trainingSet(sets!.train, sets!.mirrored, key, flip, features);
        const r = trainMlp(tr, sets!.validation.get(key)!, classifier);
        score = { train: r.trainAccuracy, validation: r.validationAccuracy, seconds: r.seconds };
        scores?.add(keys[i], score);
      }
      results.push({ backbone: backbone.name, layer, pooling, flip, features, ...score, cached });
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
        `(the same backbone, tap, faces, classifier and engine as when they were trained; delete the file to train them again)`,
    );
  return { results, extraction, problems: scores?.problems ?? [] };
}

export interface TestOptions {
  /** Where the final run is kept (default testRunsFile(); null: not kept, it trains every time). */
  runsFile?: string | null;
  /** Where the faces' images come from (default: their rgb227 crops from the faces cache). */
  loadCrop?: CropLoader;
  /** The activation cache's root (default data/activations). */
  cacheDir?: string;
}

/**
 * The chosen candidate trained again (same seed, so the same network) with a learning
 * curve, then scored once on the test faces. The run is kept in the runs file
 * (transfer-results.ts), keyed as the candidate plus the test faces, so a warm run reads it
 * back (and says so) without reading activations or training; the network's weights are
 * not kept.
 */
export async function testCandidate(
  backbone: Backbone,
  chosen: Candidate,
  faces: FaceSplitsSubset,
  classifier: MlpConfig,
  opts: TestOptions = {},
): Promise<{ run: TestRun; test: number; features: number; cached: boolean }> {
  if (backbone.name !== chosen.backbone)
    throw new Error(`testCandidate: ${chosen.backbone} chosen, ${backbone.name} given`);
  const { loadCrop = rgb227Crop, cacheDir } = opts;
  const runsFile = opts.runsFile === undefined ? testRunsFile() : opts.runsFile;
  const runs = runsFile ? new TestRuns(runsFile) : null;
  if (runsFile) noteOlderVersions(runsFile);
  for (const p of runs?.problems ?? []) console.log(`ignored ${p}; that run trains again`);
  const { engine } = chooseMlpEngine("auto", 6);
  const runKey = runs
    ? testRunKey(
        ingredients(backbone, chosen, {
          train: await splitIdentity(faces.train, loadCrop),
          validation: await splitIdentity(faces.validation, loadCrop),
          backend: (await initBackend()).name,
          classifier,
          engine,
        }),
        await splitIdentity(faces.test, loadCrop),
      )
    : "";
  const name = `${chosen.backbone} ${chosen.layer}/${chosen.pooling}${chosen.flip ? " +mirrored" : ""}`;
  const kept = runs?.get(runKey);
  if (runs && kept) {
    console.log(
      `${name}: its learning curve and test accuracy read back from ${displayPath(runs.file)} ` +
        `(the same backbone, tap, faces, classifier and engine as when it was trained; delete the file to train it again)`,
    );
    return { run: kept, test: kept.test, features: kept.features, cached: true };
  }
  const taps = [{ layer: chosen.layer, poolings: [chosen.pooling] }];
  const key = `${chosen.layer}/${chosen.pooling}`;
  const get = async (set: readonly FaceImage[], flip = false) =>
    (await faceFeaturesAt(backbone, taps, set, { flip, loadCrop, cacheDir })).sets;
  const features = featureCount(backbone, chosen.layer, chosen.pooling);
  const train = trainingSet(
    await get(faces.train),
    chosen.flip ? await get(faces.train, true) : undefined,
    key,
    chosen.flip,
    features,
  );
  const r = trainMlp(train, (await get(faces.validation)).get(key)!, classifier, { curveEvery: 1 });
  const run: TestRun = {
    curve: r.curve,
    trainAccuracy: r.trainAccuracy,
    validationAccuracy: r.validationAccuracy,
    test: mlpAccuracy(r.weights, (await get(faces.test)).get(key)!),
    features,
    seconds: r.seconds,
    steps: r.steps,
    engine: r.engine,
  };
  if (runs) {
    runs.add(runKey, run);
    console.log(`${name}: its learning curve and test accuracy kept in ${displayPath(runs.file)}`);
  }
  return { run, test: run.test, features, cached: false };
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
