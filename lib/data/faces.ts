/**
 * The face data the report's Parts 8-10 use: six actors from FaceScrub, cropped to the
 * list's bounding boxes, split into training / validation / test sets. This is the public
 * face API for notebooks; it runs the pipeline (or reuses its cache) on first use.
 */
import { defaultWorkers } from "../runtime/cores";
import { dataDir, displayPath } from "../runtime/paths";
import { progressBar, progressLine } from "../runtime/progress";
import { readFaceList } from "./facescrub-list";
import { sourceFromEnv } from "./face-source";
import {
  runFacePipeline,
  summarisePipeline,
  readCrop,
  rejectedReportFile,
  PipelineResult,
} from "./face-pipeline";
import { CROP_SHAPE, CropKind } from "./face-image";
import { dedupeImages, splitByActor } from "./face-splits";
import type { LabelledMatrix } from "./labelled";

export type { LabelledMatrix } from "./labelled";
// The pipeline's stages, for scripts that time or drive them on their own (scripts/bench-faces.ts).
export { readFaceList } from "./facescrub-list";
export { sourceFromEnv } from "./face-source";
export { runFacePipeline, summarisePipeline } from "./face-pipeline";

/** Label = index in this array. */
export const ACTORS: readonly string[] = ["Alec Baldwin", "Steve Carell", "Bill Hader", "Lorraine Bracco", "Peri Gilpin", "Angie Harmon"];

export interface FaceImage {
  actor: string;
  label: number;
  sha256: string;
  /** sha256 of the grey 64x64 crop: identical faces from different source files share it. */
  contentHash?: string;
}

export interface FaceSplits {
  actors: readonly string[];
  train: FaceImage[];
  validation: FaceImage[];
  test: FaceImage[];
}

export interface PreparedFaces {
  images: FaceImage[];
  pipeline: PipelineResult;
  listProblems: string[];
}

let prepared: Promise<PreparedFaces> | null = null;

/**
 * Runs the pipeline once per process (on the configured source), printing the source, progress,
 * any cache file it did not trust, and a summary. `retryRejected` rechecks cached rejections.
 */
export function prepareFaces(
  opts: { quiet?: boolean; decodeWorkers?: number; retryRejected?: boolean } = {},
): Promise<PreparedFaces> {
  if (!prepared) {
    prepared = (async () => {
      const say = opts.quiet ? () => {} : (s: string) => console.log(s);
      const { list, source } = await sourceFromEnv();
      say(`FaceScrub list: ${displayPath(list)}\nimages from: ${source.description}`);
      const parsed = await readFaceList(list);
      for (const p of parsed.problems.slice(0, 10)) say(`list row skipped: ${p}`);
      const rows = parsed.rows.filter((r) => ACTORS.includes(r.actor));
      const pipeline = await runFacePipeline(rows, {
        source,
        cacheDir: dataDir("faces"),
        decodeWorkers: opts.decodeWorkers ?? defaultWorkers(),
        retryRejected: opts.retryRejected,
        warn: say,
        onProgress: opts.quiet ? undefined : faceProgress(),
      });
      say(summarisePipeline(pipeline, displayPath(rejectedReportFile(dataDir("faces")))));
      const images = pipeline.ok.map((r) => ({
        actor: r.row.actor,
        label: ACTORS.indexOf(r.row.actor),
        sha256: r.row.sha256,
        // The checksum recorded with the grey 64x64 crop is the SHA-256 of its pixels.
        contentHash: r.crops.grey64,
      }));
      const { dropped } = dedupeImages(images);
      if (dropped > 0) say(`${dropped} image(s) dropped as duplicates: another list entry crops to the same pixels`);
      return { images, pipeline, listProblems: parsed.problems };
    })();
    prepared.catch(() => {
      prepared = null;
    });
  }
  return prepared;
}

/** The table of every row not ok in the last pipeline run (line, actor, state, reason, URL, detail). */
export function rejectedFacesFile(): string {
  return rejectedReportFile(dataDir("faces"));
}

/** One line updated in place: "faces [######....] 744/1487 ok 394 rejected 350 failed 0". */
function faceProgress(): (p: { done: number; total: number; ok: number; rejected: number; failed: number }) => void {
  const line = progressLine();
  return (p) => {
    const text = `faces ${progressBar(p.total === 0 ? 1 : p.done / p.total)} ${p.done}/${p.total} ok ${p.ok} rejected ${p.rejected} failed ${p.failed}`;
    if (p.done === p.total) line.done(text);
    else line.update(text);
  };
}

export async function loadFaceSplits(opts: { seed?: number } = {}): Promise<FaceSplits> {
  const { images } = await prepareFaces();
  const s = splitByActor(images, ACTORS, opts.seed ?? 0);
  return { actors: ACTORS, ...s };
}

/** grey: size*size values in [0,1]; rgb227: 227*227*3 HWC interleaved in [0,1]. */
export async function faceCrop(img: FaceImage, kind: CropKind): Promise<Float32Array> {
  const shape = CROP_SHAPE[kind];
  if (!shape) throw new Error(`faceCrop: kind must be grey32, grey64 or rgb227, got ${JSON.stringify(kind)}`);
  let bytes: Uint8Array;
  try {
    bytes = readCrop(dataDir("faces"), img.sha256, kind);
  } catch (e) {
    throw new Error(`faceCrop: ${kind} crop of ${img.actor} ${img.sha256}: ${(e as Error).message}`, { cause: e });
  }
  const n = shape.size * shape.size * shape.channels;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = bytes[i] / 255;
  return out;
}

/** Stacks the crops of many images into one row-major matrix (rows = images), with labels. */
export async function faceMatrix(images: readonly FaceImage[], kind: CropKind): Promise<LabelledMatrix> {
  const { size, channels } = CROP_SHAPE[kind];
  const dim = size * size * channels;
  const x = new Float32Array(images.length * dim);
  const labels = new Uint8Array(images.length);
  for (let i = 0; i < images.length; i++) {
    x.set(await faceCrop(images[i], kind), i * dim);
    labels[i] = images[i].label;
  }
  return { rows: images.length, dim, x, labels };
}
