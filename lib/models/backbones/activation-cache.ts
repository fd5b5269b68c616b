/**
 * Disk cache of backbone activations. Extracting features runs a CNN over every face
 * crop (100-250 ms per image here), so each (backbone, layer, image) result is stored
 * once under data/activations/<backbone>/<layer>/<sha256 of the pixels>.f32 and reused
 * by every later run, notebook and profile. Keys hash the pixels actually fed to the
 * network, so a changed crop or resize can never be served a stale entry; the backbone
 * name carries a weights fingerprint where weights are user-supplied.
 * Files are raw little-endian float32, written atomically; a file of the wrong length
 * (e.g. from a different tap shape) is ignored and recomputed.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Backbone, RgbImage, tapLayer } from "./backbone";
import { dataDir, writeFileAtomic } from "../../runtime/paths";

export type ImageSource = RgbImage | (() => Promise<RgbImage>);

export interface ActivationProgress {
  backbone: string;
  layer: string;
  /** Images finished so far (from cache or computed). */
  done: number;
  total: number;
  hits: number;
  computed: number;
  /** Seconds spent in the backbone so far. */
  computeSeconds: number;
}

export interface ActivationOptions {
  /** Images per forward pass (default 16). */
  batchSize?: number;
  onProgress?: (p: ActivationProgress) => void;
  /** Cache root (default data/activations). */
  cacheDir?: string;
}

export interface ActivationResult {
  features: Float32Array[];
  /** Length of each feature vector. */
  dim: number;
  hits: number;
  computed: number;
  computeSeconds: number;
}

export function imageHash(img: RgbImage): string {
  const h = crypto.createHash("sha256");
  h.update(`${img.width}x${img.height}x3:`);
  h.update(new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength));
  return h.digest("hex");
}

function safe(part: string): string {
  return part.replace(/[^A-Za-z0-9._-]/g, "_");
}

export function activationFile(root: string, backbone: string, layer: string, hash: string): string {
  return path.join(root, safe(backbone), safe(layer), `${hash}.f32`);
}

function readCached(file: string, dim: number): Float32Array | null {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return null;
  }
  if (buf.length !== dim * 4) return null;
  const out = new Float32Array(dim);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

/**
 * Activations of `layer` for every image, from the cache where present, otherwise
 * computed in batches and stored. Order matches `images`.
 */
export async function cachedActivations(
  backbone: Backbone,
  layer: string,
  images: readonly ImageSource[],
  opts: ActivationOptions = {},
): Promise<ActivationResult> {
  const dim = tapLayer(backbone, layer).shape.reduce((a, b) => a * b, 1);
  const batchSize = opts.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`cachedActivations: batchSize ${batchSize} must be a positive integer`);
  const root = opts.cacheDir ?? dataDir("activations");
  const features: Float32Array[] = new Array(images.length);
  const progress: ActivationProgress = {
    backbone: backbone.name,
    layer,
    done: 0,
    total: images.length,
    hits: 0,
    computed: 0,
    computeSeconds: 0,
  };
  let pending: { index: number; file: string; img: RgbImage }[] = [];

  const flush = async () => {
    if (pending.length === 0) return;
    const t0 = performance.now();
    const out = await backbone.activations(
      pending.map((p) => p.img),
      layer,
    );
    progress.computeSeconds += (performance.now() - t0) / 1000;
    pending.forEach((p, i) => {
      if (out[i].length !== dim) {
        throw new Error(
          `${backbone.name}/${layer}: backbone returned ${out[i].length} values, the tap layer declares ${dim}`,
        );
      }
      writeFileAtomic(p.file, new Uint8Array(out[i].buffer, out[i].byteOffset, out[i].byteLength));
      features[p.index] = out[i];
    });
    progress.computed += pending.length;
    progress.done += pending.length;
    pending = [];
    opts.onProgress?.({ ...progress });
  };

  for (let i = 0; i < images.length; i++) {
    const src = images[i];
    const img = typeof src === "function" ? await src() : src;
    const file = activationFile(root, backbone.name, layer, imageHash(img));
    const hit = readCached(file, dim);
    if (hit) {
      features[i] = hit;
      progress.hits++;
      progress.done++;
      continue;
    }
    pending.push({ index: i, file, img });
    if (pending.length >= batchSize) await flush();
  }
  await flush();
  opts.onProgress?.({ ...progress });
  return { features, dim, hits: progress.hits, computed: progress.computed, computeSeconds: progress.computeSeconds };
}

/**
 * A progress callback that prints one line at most every `everySeconds` and at the end,
 * e.g. "mobilenet_v2/block_12_add: 120/500 (0 cached), 7.9 images/s, ~48 s left".
 */
export function printProgress(
  everySeconds = 10,
  print: (line: string) => void = console.log,
): (p: ActivationProgress) => void {
  let last = -Infinity;
  let finished = false;
  return (p) => {
    const now = performance.now() / 1000;
    const end = p.done === p.total;
    if (finished || (!end && now - last < everySeconds)) return;
    last = now;
    finished = end;
    const rate = p.computeSeconds > 0 ? p.computed / p.computeSeconds : 0;
    const left = rate > 0 && !end ? ` ~${Math.round((p.total - p.done) / rate)} s left,` : "";
    const speed = rate > 0 ? ` ${rate.toFixed(1)} images/s` : "";
    print(`${p.backbone}/${p.layer}: ${p.done}/${p.total} (${p.hits} from cache),${left}${speed}`.replace(/,$/, ""));
  };
}
