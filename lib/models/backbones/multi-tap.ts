/**
 * Several tap layers of one backbone through the activation cache, in one forward pass
 * per batch where the backbone offers `activationsAt` (InceptionV3 costs about 1 s per
 * image here; tapping five depths one by one would cost five).
 *
 * The cache itself stays per layer: images go through in chunks, and for each chunk
 * `cachedActivations` is called layer by layer on a proxy backbone. The first layer that
 * misses runs the real network for all requested layers of that chunk's missing images
 * and keeps the results for the other layers' calls, so memory holds one chunk's
 * activations, never the whole set.
 */
import { ActivationOptions, ActivationResult, ImageSource, cachedActivations, imageHash } from "./activation-cache";
import { Backbone, RgbImage } from "./backbone";

export interface MultiTapProgress {
  backbone: string;
  layers: readonly string[];
  done: number;
  total: number;
  /** Images run through the network (not all from the cache). */
  computed: number;
  /** Seconds in the network's forward passes. */
  computeSeconds: number;
}

export interface MultiTapOptions extends Pick<ActivationOptions, "cacheDir" | "batchSize"> {
  onProgress?: (p: MultiTapProgress) => void;
  /**
   * Applied to each image's activations of a layer as they arrive (e.g. average pooling),
   * so that only what the caller keeps is held in memory; `dim` is then the kept length.
   */
  reduce?: (layer: string, features: Float32Array) => Float32Array;
}

export async function cachedActivationsAt(
  backbone: Backbone,
  layers: readonly string[],
  images: readonly ImageSource[],
  opts: MultiTapOptions = {},
): Promise<Map<string, ActivationResult>> {
  const chunk = opts.batchSize ?? 16;
  const memo = new Map<string, Map<string, Float32Array>>();
  // Each image's cache key, hashed once per chunk: hashed per layer and per lookup, a 227x227
  // crop went through SHA-256 eleven times for MobileNetV2's five taps (4.5 ms of the main
  // thread per image). Cleared with the memo, so only the chunk's images are held.
  const hashes = new Map<RgbImage, string>();
  const hash = (img: RgbImage) => {
    let h = hashes.get(img);
    if (h === undefined) hashes.set(img, (h = imageHash(img)));
    return h;
  };
  const progress: MultiTapProgress = {
    backbone: backbone.name,
    layers,
    done: 0,
    total: images.length,
    computed: 0,
    computeSeconds: 0,
  };
  const proxy: Backbone = {
    name: backbone.name,
    computation: backbone.computation,
    inputSize: backbone.inputSize,
    preprocessing: backbone.preprocessing,
    layers: backbone.layers,
    activations: async (imgs: readonly RgbImage[], layer: string) => {
      const keys = imgs.map(hash);
      const missing = imgs.filter((_, i) => !memo.get(keys[i])?.has(layer));
      if (missing.length > 0) {
        const t0 = performance.now();
        const out = backbone.activationsAt
          ? await backbone.activationsAt(missing, layers)
          : new Map([[layer, await backbone.activations(missing, layer)]]);
        progress.computeSeconds += (performance.now() - t0) / 1000;
        progress.computed += missing.length;
        missing.forEach((img, i) => {
          const h = hash(img);
          const entry = memo.get(h) ?? new Map<string, Float32Array>();
          for (const [l, feats] of out) entry.set(l, feats[i]);
          memo.set(h, entry);
        });
      }
      return keys.map((h) => memo.get(h)!.get(layer)!);
    },
    dispose: () => {},
  };
  const results = new Map<string, ActivationResult>(
    layers.map((l) => [l, { features: [], dim: 0, hits: 0, computed: 0, computeSeconds: 0 }]),
  );
  for (let start = 0; start < images.length; start += chunk) {
    // Load each image once per chunk, not once per layer.
    const part = await Promise.all(
      images.slice(start, start + chunk).map((s) => (typeof s === "function" ? s() : Promise.resolve(s))),
    );
    for (const layer of layers) {
      const r = await cachedActivations(proxy, layer, part, { cacheDir: opts.cacheDir, batchSize: chunk, hash });
      const acc = results.get(layer)!;
      const kept = opts.reduce ? r.features.map((f) => opts.reduce!(layer, f)) : r.features;
      acc.features.push(...kept);
      acc.dim = kept.length > 0 ? kept[0].length : acc.dim;
      acc.hits += r.hits;
      acc.computed += r.computed;
    }
    memo.clear();
    hashes.clear();
    progress.done += part.length;
    opts.onProgress?.({ ...progress });
  }
  // The network's time belongs to all layers at once; each layer reports the shared total.
  for (const r of results.values()) r.computeSeconds = progress.computeSeconds;
  return results;
}

/**
 * A progress callback printing at most every `everySeconds` and at the end, e.g.
 * "inception_v3-nsfwjs-4.4.0 [mixed2, mixed5]: 160/605, 1.1 images/s, ~404 s left".
 */
export function printMultiTapProgress(
  everySeconds = 15,
  print: (line: string) => void = console.log,
): (p: MultiTapProgress) => void {
  // The first line comes after `everySeconds`, not after the first chunk: a run served from the cache prints one line.
  let last = performance.now() / 1000;
  return (p) => {
    const now = performance.now() / 1000;
    const end = p.done === p.total;
    if (!end && now - last < everySeconds) return;
    last = now;
    const rate = p.computeSeconds > 0 ? p.computed / p.computeSeconds : 0;
    const left = rate > 0 && !end ? `, ~${Math.round((p.total - p.done) / rate)} s left` : "";
    const speed =
      rate > 0 ? `, ${p.computed} run through the network at ${rate.toFixed(2)} images/s` : ", all from cache";
    print(`${p.backbone} [${p.layers.join(", ")}]: ${p.done}/${p.total}${speed}${left}`);
  };
}
