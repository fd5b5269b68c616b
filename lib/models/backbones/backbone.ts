/**
 * One interface for the pretrained networks whose intermediate activations feed the
 * Part 10 classifier. Every backbone takes the same input — RGB images, HWC, values in
 * [0,1], any size — and does its own resizing and normalisation, so callers (the
 * activation cache, the notebook) never need to know a network's preprocessing rules.
 */
import { tf } from "../../runtime/backend";

/** An RGB image, height x width x 3 interleaved (HWC), values in [0,1]. */
export interface RgbImage {
  width: number;
  height: number;
  data: Float32Array;
}

export interface TapLayer {
  name: string;
  /** Activation shape for one image, e.g. [13, 13, 384]. */
  shape: readonly number[];
  description: string;
}

export interface Backbone {
  /** Stable identifier, part of the activation cache key (includes a weights fingerprint when weights are user-supplied). */
  readonly name: string;
  /**
   * How the activations are computed, where that changes their floats without changing the
   * network (e.g. "bn-folded-1": BatchNorm folded into the convolutions, nsfwjs.ts); part of
   * the activation cache key beside `name` (activationCacheName), never shown as the name.
   * Absent: the network's layers as they are.
   */
  readonly computation?: string;
  /** Side of the square input the network expects (images are resized to it). */
  readonly inputSize: number;
  /** Human-readable preprocessing, for the notebook. */
  readonly preprocessing: string;
  /** Layers whose activations can be tapped, input to output order. */
  readonly layers: readonly TapLayer[];
  /** Activations of `layer` for each image, flattened in HWC order. */
  activations(images: readonly RgbImage[], layer: string): Promise<Float32Array[]>;
  /**
   * Optional: the activations of several layers from one forward pass (what
   * `activations` gives for each layer), so tapping k layers costs one pass, not k.
   */
  activationsAt?(images: readonly RgbImage[], layers: readonly string[]): Promise<Map<string, Float32Array[]>>;
  dispose(): void;
}

export function tapLayer(backbone: Pick<Backbone, "name" | "layers">, layer: string): TapLayer {
  const found = backbone.layers.find((l) => l.name === layer);
  if (!found) {
    throw new Error(
      `${backbone.name}: no tap layer "${layer}"; available: ${backbone.layers.map((l) => l.name).join(", ")}`,
    );
  }
  return found;
}

export function checkImage(img: RgbImage, index: number): void {
  if (img.data.length !== img.width * img.height * 3) {
    throw new Error(
      `image ${index}: ${img.data.length} values do not make a ${img.height}x${img.width}x3 RGB image (expected ${img.width * img.height * 3})`,
    );
  }
}

/** Stacks images into a [n, size, size, 3] tensor in [0,1], resizing bilinearly when needed. */
export function batchTensor(images: readonly RgbImage[], size: number): tf.Tensor4D {
  return tf.tidy(() => {
    const resized = images.map((img, i) => {
      checkImage(img, i);
      const t = tf.tensor3d(img.data, [img.height, img.width, 3]);
      return img.width === size && img.height === size ? t : tf.image.resizeBilinear(t, [size, size], true);
    });
    return tf.stack(resized) as tf.Tensor4D;
  });
}

/** Splits a [n, ...] tensor into one flat Float32Array per image. */
export async function unbatch(t: tf.Tensor): Promise<Float32Array[]> {
  const n = t.shape[0];
  const per = t.size / n;
  const all = (await t.data()) as Float32Array;
  const out: Float32Array[] = [];
  for (let i = 0; i < n; i++) out.push(all.slice(i * per, (i + 1) * per));
  return out;
}
