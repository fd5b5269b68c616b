/**
 * AlexNet as in the course's `myalexnet` (Guerzhoy & Frossard's TensorFlow port of
 * Caffe's bvlc_alexnet): grouped convolutions in conv2/4/5 (the two-GPU split of the
 * original paper), local response normalisation after conv1 and conv2, "SAME" padding
 * on every convolution and 227x227 BGR input with the image's mean subtracted.
 *
 * No AlexNet weights can be installed offline, so the user supplies them: a folder of
 * .npy files (conv1_W.npy, conv1_b.npy, ..., fc8_b.npy) that scripts/alexnet-weights.py
 * writes from the course's bvlc_alexnet.npy. The loader checks every name, shape and
 * dtype and says what is wrong and how to get the weights.
 *
 * The channel counts are parameters so that tests can build a tiny AlexNet with the
 * same geometry and write its weights in the same format.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { tf, initBackend } from "../../runtime/backend";
import { dataDir } from "../../runtime/paths";
import { Backbone, RgbImage, TapLayer, batchTensor, tapLayer, unbatch } from "./backbone";
import { NpyArray, readNpy } from "./npy";

export interface AlexNetSpec {
  /** Output channels of conv1..conv5. */
  conv: readonly [number, number, number, number, number];
  /** Output units of fc6, fc7, fc8. */
  fc: readonly [number, number, number];
}

export const BVLC_ALEXNET: AlexNetSpec = { conv: [96, 256, 384, 384, 256], fc: [4096, 4096, 1000] };

const INPUT_SIZE = 227;
// Caffe's norm1/norm2 (local_size 5, alpha 1e-4) in TensorFlow's convention, as myalexnet has it.
const LRN = { radius: 2, bias: 1.0, alpha: 2e-5, beta: 0.75 };

interface ConvDef {
  name: string;
  kernel: number;
  stride: number;
  groups: number;
}
const CONVS: readonly ConvDef[] = [
  { name: "conv1", kernel: 11, stride: 4, groups: 1 },
  { name: "conv2", kernel: 5, stride: 1, groups: 2 },
  { name: "conv3", kernel: 3, stride: 1, groups: 1 },
  { name: "conv4", kernel: 3, stride: 1, groups: 2 },
  { name: "conv5", kernel: 3, stride: 1, groups: 2 },
];
const FCS = ["fc6", "fc7", "fc8"] as const;

// Spatial sizes with SAME convs and 3x3/2 VALID pools: 227 -> 57 -> 28 -> 28 -> 13 -> 13 -> 6.
const SIDE = { conv1: 57, conv2: 28, conv3: 13, conv4: 13, conv5: 13, pool5: 6 };

export const WEIGHTS_HELP =
  "AlexNet weights are not shipped (no offline source exists). To get them: download bvlc_alexnet.npy " +
  "(Caffe's BVLC AlexNet converted for TensorFlow by Guerzhoy & Frossard, the file the course's myalexnet " +
  "uses; http://www.cs.toronto.edu/~guerzhoy/tf_alexnet/bvlc_alexnet.npy, 233 MB), then run " +
  "`python3 scripts/alexnet-weights.py bvlc_alexnet.npy data/weights/alexnet` (needs numpy) " +
  "or point ALEXNET_WEIGHTS at a folder holding conv1_W.npy ... fc8_b.npy.";

/** The weight file names and their shapes for a spec (conv kernels HWIO, fc weights [in, out]). */
export function alexNetWeightShapes(spec: AlexNetSpec = BVLC_ALEXNET): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  let inChannels = 3;
  CONVS.forEach((c, i) => {
    const out = spec.conv[i];
    if (inChannels % c.groups !== 0 || out % c.groups !== 0) {
      throw new Error(`AlexNet spec: ${c.name} has ${c.groups} groups but ${inChannels} inputs / ${out} outputs`);
    }
    shapes.set(`${c.name}_W`, [c.kernel, c.kernel, inChannels / c.groups, out]);
    shapes.set(`${c.name}_b`, [out]);
    inChannels = out;
  });
  let inUnits = SIDE.pool5 * SIDE.pool5 * spec.conv[4];
  FCS.forEach((f, i) => {
    shapes.set(`${f}_W`, [inUnits, spec.fc[i]]);
    shapes.set(`${f}_b`, [spec.fc[i]]);
    inUnits = spec.fc[i];
  });
  return shapes;
}

export function alexNetLayers(spec: AlexNetSpec = BVLC_ALEXNET): TapLayer[] {
  const [c1, c2, c3, c4, c5] = spec.conv;
  return [
    { name: "conv1", shape: [SIDE.conv1, SIDE.conv1, c1], description: "conv1 + ReLU (11x11/4)" },
    { name: "conv2", shape: [SIDE.conv2, SIDE.conv2, c2], description: "conv2 + ReLU (5x5, 2 groups, after LRN+pool)" },
    { name: "conv3", shape: [SIDE.conv3, SIDE.conv3, c3], description: "conv3 + ReLU (3x3, after LRN+pool)" },
    {
      name: "conv4",
      shape: [SIDE.conv4, SIDE.conv4, c4],
      description: "conv4 + ReLU (3x3, 2 groups): the report's layer",
    },
    { name: "conv5", shape: [SIDE.conv5, SIDE.conv5, c5], description: "conv5 + ReLU (3x3, 2 groups)" },
    { name: "pool5", shape: [SIDE.pool5, SIDE.pool5, c5], description: "max pool after conv5" },
    { name: "fc6", shape: [spec.fc[0]], description: "fc6 + ReLU" },
    { name: "fc7", shape: [spec.fc[1]], description: "fc7 + ReLU" },
    { name: "fc8", shape: [spec.fc[2]], description: "fc8 logits (before softmax)" },
  ];
}

export type AlexNetWeights = Map<string, NpyArray>;

/** Reads and validates a weights folder; every error names the file and the fix. */
export function readAlexNetWeights(dir: string, spec: AlexNetSpec = BVLC_ALEXNET): AlexNetWeights {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new Error(`AlexNet weights folder ${dir} does not exist. ${WEIGHTS_HELP}`);
  }
  const shapes = alexNetWeightShapes(spec);
  const missing = [...shapes.keys()].filter((n) => !fs.existsSync(path.join(dir, `${n}.npy`)));
  if (missing.length > 0) {
    throw new Error(
      `AlexNet weights folder ${dir} lacks ${missing.map((n) => `${n}.npy`).join(", ")}. ${WEIGHTS_HELP}`,
    );
  }
  const weights: AlexNetWeights = new Map();
  for (const [name, shape] of shapes) {
    const file = path.join(dir, `${name}.npy`);
    let arr: NpyArray;
    try {
      arr = readNpy(file);
    } catch (e) {
      throw new Error(`${(e as Error).message}. ${WEIGHTS_HELP}`, { cause: e });
    }
    if (arr.shape.length !== shape.length || arr.shape.some((d, i) => d !== shape[i])) {
      throw new Error(
        `${file}: shape [${arr.shape}] but AlexNet (conv ${spec.conv}, fc ${spec.fc}) needs [${shape}] ` +
          `(conv kernels are height x width x in x out, fc weights in x out). ${WEIGHTS_HELP}`,
      );
    }
    const bad = arr.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new Error(`${file}: value ${arr.data[bad]} at flat index ${bad}; the file is corrupt. ${WEIGHTS_HELP}`);
    weights.set(name, arr);
  }
  return weights;
}

/** The default weights folder: $ALEXNET_WEIGHTS or data/weights/alexnet. */
export function defaultAlexNetWeightsDir(): string {
  return process.env.ALEXNET_WEIGHTS
    ? path.resolve(process.env.ALEXNET_WEIGHTS)
    : path.join(dataDir("weights"), "alexnet");
}

/** Whether a complete weights folder is present (for notebooks that skip AlexNet without it). */
export function alexNetWeightsAvailable(dir = defaultAlexNetWeightsDir(), spec: AlexNetSpec = BVLC_ALEXNET): boolean {
  return [...alexNetWeightShapes(spec).keys()].every((n) => fs.existsSync(path.join(dir, `${n}.npy`)));
}

/** Convolution split into groups along channels, as Caffe's `group` and myalexnet's conv(). */
export function groupedConv2d(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  b: tf.Tensor1D,
  stride: number,
  groups: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    if (groups === 1) return tf.add(tf.conv2d(x, w, stride, "same"), b) as tf.Tensor4D;
    const xs = tf.split(x, groups, 3);
    const ws = tf.split(w, groups, 3);
    const ys = xs.map((xi, i) => tf.conv2d(xi as tf.Tensor4D, ws[i] as tf.Tensor4D, stride, "same"));
    return tf.add(tf.concat(ys, 3), b) as tf.Tensor4D;
  });
}

export function lrn(x: tf.Tensor4D): tf.Tensor4D {
  return tf.localResponseNormalization(x, LRN.radius, LRN.bias, LRN.alpha, LRN.beta);
}

/** myalexnet's preprocessing: 0-255 scale, subtract the image's own mean, RGB -> BGR. */
export function alexNetPreprocess(batch: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const scaled = tf.mul(batch, 255);
    const centred = tf.sub(scaled, tf.mean(scaled, [1, 2, 3], true));
    return tf.reverse(centred, 3) as tf.Tensor4D;
  });
}

const ORDER = ["conv1", "conv2", "conv3", "conv4", "conv5", "pool5", "fc6", "fc7", "fc8"];

export class AlexNet implements Backbone {
  readonly inputSize = INPUT_SIZE;
  readonly preprocessing =
    "bilinear resize to 227x227, values x255, minus the image's mean, channels reversed to BGR (myalexnet)";
  readonly layers: readonly TapLayer[];
  private readonly params = new Map<string, tf.Tensor>();

  private constructor(
    readonly name: string,
    weights: AlexNetWeights,
    readonly spec: AlexNetSpec,
  ) {
    this.layers = alexNetLayers(spec);
    for (const [k, v] of weights) this.params.set(k, tf.tensor(v.data, v.shape));
  }

  /** Loads and validates weights from `dir` (default: $ALEXNET_WEIGHTS or data/weights/alexnet). */
  static async load(dir = defaultAlexNetWeightsDir(), spec: AlexNetSpec = BVLC_ALEXNET): Promise<AlexNet> {
    await initBackend();
    const weights = readAlexNetWeights(dir, spec);
    return new AlexNet(`alexnet-bvlc-${fingerprint(weights)}`, weights, spec);
  }

  /**
   * Builds the network from weights already in memory (validated like a folder), e.g.
   * random weights of the real shapes for a throughput benchmark.
   */
  static async fromWeights(weights: AlexNetWeights, spec: AlexNetSpec = BVLC_ALEXNET, name?: string): Promise<AlexNet> {
    await initBackend();
    for (const [n, shape] of alexNetWeightShapes(spec)) {
      const w = weights.get(n);
      if (!w || w.shape.join() !== shape.join())
        throw new Error(`AlexNet.fromWeights: ${n} must have shape [${shape}], got ${w ? `[${w.shape}]` : "nothing"}`);
    }
    return new AlexNet(name ?? `alexnet-bvlc-${fingerprint(weights)}`, weights, spec);
  }

  private p<T extends tf.Tensor>(name: string): T {
    return this.params.get(name) as T;
  }

  /** Runs the network up to and including `layer`, on a preprocessed batch. */
  forward(x: tf.Tensor4D, layer: string): tf.Tensor {
    const stop = ORDER.indexOf(layer);
    return tf.tidy(() => {
      let h: tf.Tensor = x;
      for (let i = 0; i < CONVS.length; i++) {
        const c = CONVS[i];
        h = tf.relu(groupedConv2d(h as tf.Tensor4D, this.p(`${c.name}_W`), this.p(`${c.name}_b`), c.stride, c.groups));
        if (i === stop) return h;
        if (i < 2) h = tf.maxPool(lrn(h as tf.Tensor4D), 3, 2, "valid");
      }
      h = tf.maxPool(h as tf.Tensor4D, 3, 2, "valid");
      if (stop === 5) return h;
      h = tf.reshape(h, [h.shape[0], -1]);
      for (let i = 0; i < FCS.length; i++) {
        h = tf.add(tf.matMul(h as tf.Tensor2D, this.p(`${FCS[i]}_W`)), this.p(`${FCS[i]}_b`));
        if (i < 2) h = tf.relu(h);
        if (stop === 6 + i) return h;
      }
      return h;
    });
  }

  async activations(images: readonly RgbImage[], layer: string): Promise<Float32Array[]> {
    tapLayer(this, layer);
    if (images.length === 0) return [];
    const out = tf.tidy(() => this.forward(alexNetPreprocess(batchTensor(images, INPUT_SIZE)), layer));
    try {
      return await unbatch(out);
    } finally {
      out.dispose();
    }
  }

  dispose(): void {
    for (const t of this.params.values()) t.dispose();
    this.params.clear();
  }
}

/** A short hash of the weights, so cached activations never mix two different weight files. */
function fingerprint(weights: AlexNetWeights): string {
  const h = crypto.createHash("sha256");
  for (const [name, arr] of weights) {
    h.update(name);
    h.update(new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength));
  }
  return h.digest("hex").slice(0, 12);
}
