/**
 * Face crops -> backbone features as a training matrix for the Part 8 network, through
 * the activation cache. Kept here so the Part 10 notebook is a few calls, not a loop.
 *
 * Used by: notebooks/10-transfer-learning.ipynb. Models:
 * models/backbones (features) and models/mlp (the classifier on top).
 */
import { FaceImage, faceCrop } from "../data/faces";
import { ActivationOptions, cachedActivations, printProgress } from "../models/backbones/activation-cache";
import { Backbone } from "../models/backbones/backbone";

export interface FeatureSet {
  x: Float32Array;
  y: Uint8Array;
  dim: number;
  hits: number;
  computed: number;
  computeSeconds: number;
}

const CROP = 227;

/** Features of `layer` for each face (rgb227 crops fed to the backbone), one row per face. */
export async function faceFeatures(
  backbone: Backbone,
  layer: string,
  faces: readonly FaceImage[],
  opts: ActivationOptions = {},
): Promise<FeatureSet> {
  const sources = faces.map((f) => async () => ({ width: CROP, height: CROP, data: await faceCrop(f, "rgb227") }));
  const r = await cachedActivations(backbone, layer, sources, { onProgress: printProgress(15), ...opts });
  const x = new Float32Array(faces.length * r.dim);
  r.features.forEach((f, i) => x.set(f, i * r.dim));
  return {
    x,
    y: Uint8Array.from(faces, (f) => f.label),
    dim: r.dim,
    hits: r.hits,
    computed: r.computed,
    computeSeconds: r.computeSeconds,
  };
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
