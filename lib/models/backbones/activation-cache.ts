/**
 * Disk cache of backbone activations. Extracting features runs a CNN over every face
 * crop (100-250 ms per image here), so each (backbone, layer, image) result is stored
 * once under data/activations/<backbone>/<layer>/<sha256 of the pixels>.f32 and reused
 * by every later run, notebook and profile. Keys hash the pixels actually fed to the
 * network, so a changed crop or resize can never be served a stale entry; the backbone
 * name carries a weights fingerprint where weights are user-supplied, and a backbone whose
 * computation differs from its layers as they are (Backbone.computation, e.g. BatchNorm folded
 * into the convolutions) has its own folder, <backbone>+<computation> (activationCacheName),
 * so activations of one computation are never served as the other's.
 * Files are raw little-endian float32 followed by the SHA-256 of those bytes, written
 * atomically. A file is used only if its length, checksum and values (all finite) prove it;
 * otherwise it is recomputed with one line naming the file and why (files from before the
 * checksum, a different tap shape, damage on disk, NaN written by a broken backbone).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Backbone, RgbImage, tapLayer } from "./backbone";
import { dataDir, displayPath, writeFileAtomic } from "../../runtime/paths";
import { bytesOf, nonFiniteProblem, sha256Hex } from "../../runtime/integrity";

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
  /** Where a line goes for each cache file not trusted (default console.warn). */
  warn?: (line: string) => void;
  /**
   * The images' cache keys (default imageHash). A caller that looks the same images up for
   * several layers passes one that remembers them (multi-tap.ts), so each image is hashed once.
   */
  hash?: (img: RgbImage) => string;
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

/** A path part from a name: anything but letters, digits and . _ - + becomes _ (+ joins a computation to its backbone). */
function safe(part: string): string {
  return part.replace(/[^A-Za-z0-9._+-]/g, "_");
}

/**
 * The backbone's part of the cache key, its folder under the cache root: its name, then
 * `+computation` where it has one (the unfolded computation keeps the folders of before).
 */
export function activationCacheName(backbone: Pick<Backbone, "name" | "computation">): string {
  return backbone.computation === undefined ? backbone.name : `${backbone.name}+${backbone.computation}`;
}

/** The file of one image's activations; `backbone` is activationCacheName's key. */
export function activationFile(root: string, backbone: string, layer: string, hash: string): string {
  return path.join(root, safe(backbone), safe(layer), `${hash}.f32`);
}

const CHECKSUM_BYTES = 32;

/** The file's bytes: the features, then their SHA-256. */
export function encodeActivation(features: Float32Array): Uint8Array {
  const bytes = bytesOf(features);
  const out = new Uint8Array(bytes.length + CHECKSUM_BYTES);
  out.set(bytes);
  out.set(Buffer.from(sha256Hex(bytes), "hex"), bytes.length);
  return out;
}

/** The cached features if the file proves them, else null, with why when a file was there. */
export function readCachedActivation(
  file: string,
  dim: number,
): { features: Float32Array | null; problem?: string; stale?: boolean } {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return { features: null };
  }
  const want = dim * 4 + CHECKSUM_BYTES;
  if (buf.length === dim * 4)
    return { features: null, stale: true, problem: "written before activation files carried a checksum" };
  if (buf.length !== want)
    return { features: null, problem: `${buf.length} bytes, expected ${want} (${dim} float32 and a checksum)` };
  const data = buf.subarray(0, dim * 4);
  const recorded = buf.subarray(dim * 4).toString("hex");
  if (sha256Hex(data) !== recorded) return { features: null, problem: "checksum does not match its values" };
  const out = new Float32Array(dim);
  new Uint8Array(out.buffer).set(data);
  const bad = nonFiniteProblem("value", out);
  if (bad) return { features: null, problem: bad };
  return { features: out };
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
  const warn = opts.warn ?? ((line: string) => console.warn(line));
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
  // Files of the format before checksums are recomputed with one line for all of them.
  const stale: string[] = [];

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
      const bad = nonFiniteProblem("value", out[i]);
      // Never cache (or return) a broken result as if it were features.
      if (bad) throw new Error(`${backbone.name}/${layer}: the backbone returned non-finite activations (${bad})`);
      writeFileAtomic(p.file, encodeActivation(out[i]));
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
    const file = activationFile(root, activationCacheName(backbone), layer, (opts.hash ?? imageHash)(img));
    const { features: hit, problem, stale: old } = readCachedActivation(file, dim);
    if (old) stale.push(file);
    else if (problem) warn(`${displayPath(file)}: ${problem}; recomputing`);
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
  if (stale.length > 0)
    warn(
      `${stale.length} activation file(s) written before files carried a checksum were recomputed, e.g. ${displayPath(stale[0])}`,
    );
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
