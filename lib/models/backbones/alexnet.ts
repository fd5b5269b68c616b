/**
 * AlexNet as torchvision defines it (`torchvision.models.alexnet`, the network the report
 * ran with PyTorch 0.3 / torchvision 0.2), convolutional part only:
 *
 *   features = Sequential(
 *     0 Conv2d(3, 64, 11, stride 4, pad 2), 1 ReLU, 2 MaxPool2d(3, 2),
 *     3 Conv2d(64, 192, 5, pad 2),          4 ReLU, 5 MaxPool2d(3, 2),
 *     6 Conv2d(192, 384, 3, pad 1),         7 ReLU,
 *     8 Conv2d(384, 256, 3, pad 1),         9 ReLU,
 *    10 Conv2d(256, 256, 3, pad 1),        11 ReLU, 12 MaxPool2d(3, 2))
 *
 * The report "pulled the first 9 layers out of the pretrained AlexNet": `features[:9]`,
 * which ends at conv4 before its ReLU, 13x13x256 = 43,264 features for a 227x227 input
 * normalised with ImageNet's mean and standard deviation. That is the tap "conv4" here.
 *
 * Weights: torchvision's state dict (alexnet-owt-7be5be79.pth), converted once by
 * scripts/alexnet-weights.py into a folder of .npy files named by their state-dict keys
 * (features.0.weight.npy, [out, in, kh, kw] exactly as PyTorch stores them) plus a
 * manifest.json with every array's shape and SHA-256. The loader checks the manifest,
 * every shape, hash and value, and transposes the kernels to TensorFlow.js's
 * [kh, kw, in, out]. PyTorch pads symmetrically and explicitly, so each convolution is
 * tf.pad followed by a 'valid' convolution (TensorFlow's 'same' would pad conv1 by 4 pixels
 * per side and give 57x57 instead of PyTorch's 2 pixels and 56x56).
 *
 * The channel counts are parameters so that tests can build a tiny AlexNet with the same
 * geometry and write its weights in the same format.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { tf, initBackend } from "../../runtime/backend";
import { dataDir, displayPath } from "../../runtime/paths";
import { Backbone, RgbImage, TapLayer, batchTensor, tapLayer, unbatch } from "./backbone";
import { NpyArray, parseNpy } from "./npy";

/** Output channels of conv1..conv5 (torchvision: 64, 192, 384, 256, 256). */
export type AlexNetSpec = readonly [number, number, number, number, number];
export const TORCHVISION_ALEXNET: AlexNetSpec = [64, 192, 384, 256, 256];

export const ALEXNET_INPUT_SIZE = 227;
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
/** The manifest's "format" value; bump when the folder layout changes. */
export const ALEXNET_WEIGHTS_FORMAT = "csc411-alexnet-torchvision-1";

interface ConvDef {
  /** Index in torchvision's `features`. */
  index: number;
  kernel: number;
  stride: number;
  pad: number;
}
const CONVS: readonly ConvDef[] = [
  { index: 0, kernel: 11, stride: 4, pad: 2 },
  { index: 3, kernel: 5, stride: 1, pad: 2 },
  { index: 6, kernel: 3, stride: 1, pad: 1 },
  { index: 8, kernel: 3, stride: 1, pad: 1 },
  { index: 10, kernel: 3, stride: 1, pad: 1 },
];

/** torchvision's `features`, one entry per module. */
type Op = { kind: "conv"; conv: number } | { kind: "relu" } | { kind: "pool" };
const FEATURES: readonly Op[] = [
  { kind: "conv", conv: 0 },
  { kind: "relu" },
  { kind: "pool" },
  { kind: "conv", conv: 1 },
  { kind: "relu" },
  { kind: "pool" },
  { kind: "conv", conv: 2 },
  { kind: "relu" },
  { kind: "conv", conv: 3 },
  { kind: "relu" },
  { kind: "conv", conv: 4 },
  { kind: "relu" },
  { kind: "pool" },
];

/** Tap name -> the end of the `features[:end]` slice it returns. */
const TAPS: readonly { name: string; end: number; description: string }[] = [
  { name: "pool1", end: 3, description: "features[:3]: conv1 + ReLU + max pool" },
  { name: "pool2", end: 6, description: "features[:6]: conv2 + ReLU + max pool" },
  { name: "conv3", end: 8, description: "features[:8]: conv3 + ReLU" },
  { name: "conv4", end: 9, description: "features[:9]: conv4 before its ReLU (the report's layer)" },
  { name: "conv4_relu", end: 10, description: "features[:10]: conv4 + ReLU" },
  { name: "conv5", end: 12, description: "features[:12]: conv5 + ReLU" },
  { name: "pool5", end: 13, description: "features[:13]: conv5 + ReLU + max pool (all of features)" },
];

export const WEIGHTS_URL = "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth";

export function weightsHelp(dir = "data/weights/alexnet-torchvision"): string {
  return (
    "AlexNet weights are not shipped. To get torchvision's pretrained AlexNet (233 MB): " +
    `download ${WEIGHTS_URL} (e.g. curl -LO ${WEIGHTS_URL}), then convert it once with ` +
    `\`.venv/bin/python scripts/alexnet-weights.py alexnet-owt-7be5be79.pth ${displayPath(dir)}\` ` +
    "(needs PyTorch, which scripts/install.sh puts in .venv), or point ALEXNET_WEIGHTS at a folder the converter wrote."
  );
}

/** Spatial side after each module of `features`, for a square input. */
function sides(input: number): number[] {
  const out: number[] = [];
  let s = input;
  for (const op of FEATURES) {
    if (op.kind === "conv") {
      const c = CONVS[op.conv];
      s = Math.floor((s + 2 * c.pad - c.kernel) / c.stride) + 1;
    } else if (op.kind === "pool") s = Math.floor((s - 3) / 2) + 1;
    out.push(s);
  }
  return out;
}

/** State-dict keys and PyTorch shapes of the convolutional weights ([out, in, kh, kw] and [out]). */
export function alexNetWeightShapes(spec: AlexNetSpec = TORCHVISION_ALEXNET): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  let inChannels = 3;
  CONVS.forEach((c, i) => {
    shapes.set(`features.${c.index}.weight`, [spec[i], inChannels, c.kernel, c.kernel]);
    shapes.set(`features.${c.index}.bias`, [spec[i]]);
    inChannels = spec[i];
  });
  return shapes;
}

export function alexNetLayers(spec: AlexNetSpec = TORCHVISION_ALEXNET): TapLayer[] {
  const side = sides(ALEXNET_INPUT_SIZE);
  return TAPS.map((t) => {
    // Channels: those of the last convolution inside the slice.
    const lastConv = FEATURES.slice(0, t.end).filter((op) => op.kind === "conv").length - 1;
    return { name: t.name, shape: [side[t.end - 1], side[t.end - 1], spec[lastConv]], description: t.description };
  });
}

export type AlexNetWeights = Map<string, NpyArray>;

interface Manifest {
  format: string;
  arrays: Record<string, { shape: number[]; sha256: string }>;
}

function readManifest(dir: string): Manifest {
  const file = path.join(dir, "manifest.json");
  if (!fs.existsSync(file)) {
    throw new Error(
      `AlexNet weights folder ${dir} has no manifest.json (not written by the converter). ${weightsHelp()}`,
    );
  }
  let m: Manifest;
  try {
    m = JSON.parse(fs.readFileSync(file, "utf8")) as Manifest;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message}). ${weightsHelp()}`, { cause: e });
  }
  if (m?.format !== ALEXNET_WEIGHTS_FORMAT || typeof m.arrays !== "object" || m.arrays === null) {
    throw new Error(
      `${file}: format ${JSON.stringify(m?.format)} is not ${ALEXNET_WEIGHTS_FORMAT} ` +
        `(written by another converter or an older version). ${weightsHelp()}`,
    );
  }
  return m;
}

/** Reads and validates a weights folder; every error names the file, what is wrong and the fix. */
export function readAlexNetWeights(dir: string, spec: AlexNetSpec = TORCHVISION_ALEXNET): AlexNetWeights {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new Error(`AlexNet weights folder ${dir} does not exist. ${weightsHelp()}`);
  }
  const manifest = readManifest(dir);
  const shapes = alexNetWeightShapes(spec);
  const missing = [...shapes.keys()].filter((n) => !fs.existsSync(path.join(dir, `${n}.npy`)));
  if (missing.length > 0) {
    throw new Error(
      `AlexNet weights folder ${dir} lacks ${missing.map((n) => `${n}.npy`).join(", ")}. ${weightsHelp()}`,
    );
  }
  const weights: AlexNetWeights = new Map();
  for (const [name, shape] of shapes) {
    const file = path.join(dir, `${name}.npy`);
    const bytes = fs.readFileSync(file);
    const listed = manifest.arrays[name];
    if (!listed) throw new Error(`${path.join(dir, "manifest.json")}: no entry for ${name}. ${weightsHelp()}`);
    const hash = crypto.createHash("sha256").update(bytes).digest("hex");
    if (hash !== listed.sha256) {
      throw new Error(
        `${file}: SHA-256 ${hash.slice(0, 12)}... differs from the manifest's ${String(listed.sha256).slice(0, 12)}... ` +
          `(the file was changed or truncated after conversion). ${weightsHelp()}`,
      );
    }
    let arr: NpyArray;
    try {
      arr = parseNpy(bytes, file);
    } catch (e) {
      throw new Error(`${(e as Error).message}. ${weightsHelp()}`, { cause: e });
    }
    if (arr.shape.length !== shape.length || arr.shape.some((d, i) => d !== shape[i])) {
      throw new Error(
        `${file}: shape [${arr.shape}] but AlexNet (conv channels ${spec.join(", ")}) needs [${shape}] ` +
          `(PyTorch layout: out x in x height x width). ${weightsHelp()}`,
      );
    }
    const bad = arr.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new Error(`${file}: value ${arr.data[bad]} at flat index ${bad}; the file is corrupt. ${weightsHelp()}`);
    weights.set(name, arr);
  }
  return weights;
}

/** The default weights folder: $ALEXNET_WEIGHTS or data/weights/alexnet-torchvision. */
export function defaultAlexNetWeightsDir(): string {
  return process.env.ALEXNET_WEIGHTS
    ? path.resolve(process.env.ALEXNET_WEIGHTS)
    : path.join(dataDir("weights"), "alexnet-torchvision");
}

/** Whether a converted weights folder is present (notebooks skip AlexNet without it; the loader validates it). */
export function alexNetWeightsAvailable(dir = defaultAlexNetWeightsDir()): boolean {
  return fs.existsSync(path.join(dir, "manifest.json"));
}

/** torchvision's transforms.Normalize with ImageNet's statistics, on a [0,1] NHWC batch. */
export function alexNetPreprocess(batch: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.div(tf.sub(batch, tf.tensor1d([...IMAGENET_MEAN])), tf.tensor1d([...IMAGENET_STD])));
}

/** PyTorch's Conv2d: symmetric zero padding, then a 'valid' convolution, plus bias. */
export function torchConv2d(
  x: tf.Tensor4D,
  kernelHwio: tf.Tensor4D,
  bias: tf.Tensor1D,
  stride: number,
  pad: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const padded =
      pad > 0
        ? tf.pad(x, [
            [0, 0],
            [pad, pad],
            [pad, pad],
            [0, 0],
          ])
        : x;
    return tf.add(tf.conv2d(padded, kernelHwio, stride, "valid"), bias) as tf.Tensor4D;
  });
}

export class AlexNet implements Backbone {
  readonly inputSize = ALEXNET_INPUT_SIZE;
  readonly preprocessing =
    "bilinear resize to 227x227, minus ImageNet mean (0.485, 0.456, 0.406), divided by std (0.229, 0.224, 0.225), RGB (torchvision)";
  readonly layers: readonly TapLayer[];
  /** Per convolution: kernel in [kh, kw, in, out] and bias. */
  private readonly convs: { kernel: tf.Tensor4D; bias: tf.Tensor1D }[];

  private constructor(
    readonly name: string,
    weights: AlexNetWeights,
    readonly spec: AlexNetSpec,
  ) {
    this.layers = alexNetLayers(spec);
    this.convs = CONVS.map((c) => {
      const w = weights.get(`features.${c.index}.weight`)!;
      const b = weights.get(`features.${c.index}.bias`)!;
      const kernel = tf.tidy(() =>
        tf.transpose(tf.tensor4d(w.data, w.shape as [number, number, number, number]), [2, 3, 1, 0]),
      );
      return { kernel: kernel as tf.Tensor4D, bias: tf.tensor1d(b.data) };
    });
  }

  /** Loads and validates weights from `dir` (default: $ALEXNET_WEIGHTS or data/weights/alexnet-torchvision). */
  static async load(dir = defaultAlexNetWeightsDir(), spec: AlexNetSpec = TORCHVISION_ALEXNET): Promise<AlexNet> {
    await initBackend();
    const weights = readAlexNetWeights(dir, spec);
    return new AlexNet(`alexnet-torchvision-${fingerprint(weights)}`, weights, spec);
  }

  /**
   * Builds the network from weights already in memory (shapes checked), e.g. random
   * weights of the real shapes for a throughput benchmark.
   */
  static async fromWeights(
    weights: AlexNetWeights,
    spec: AlexNetSpec = TORCHVISION_ALEXNET,
    name?: string,
  ): Promise<AlexNet> {
    await initBackend();
    for (const [n, shape] of alexNetWeightShapes(spec)) {
      const w = weights.get(n);
      if (!w || w.shape.join() !== shape.join())
        throw new Error(`AlexNet.fromWeights: ${n} must have shape [${shape}], got ${w ? `[${w.shape}]` : "nothing"}`);
    }
    return new AlexNet(name ?? `alexnet-torchvision-${fingerprint(weights)}`, weights, spec);
  }

  /** `features[:end]` on a preprocessed batch. */
  forward(x: tf.Tensor4D, end: number): tf.Tensor4D {
    return tf.tidy(() => {
      let h = x;
      for (const op of FEATURES.slice(0, end)) {
        if (op.kind === "conv") {
          const c = CONVS[op.conv];
          h = torchConv2d(h, this.convs[op.conv].kernel, this.convs[op.conv].bias, c.stride, c.pad);
        } else if (op.kind === "relu") h = tf.relu(h);
        else h = tf.maxPool(h, 3, 2, "valid");
      }
      return h;
    });
  }

  async activations(images: readonly RgbImage[], layer: string): Promise<Float32Array[]> {
    tapLayer(this, layer);
    const end = TAPS.find((t) => t.name === layer)!.end;
    if (images.length === 0) return [];
    const out = tf.tidy(() => this.forward(alexNetPreprocess(batchTensor(images, ALEXNET_INPUT_SIZE)), end));
    try {
      return await unbatch(out);
    } finally {
      out.dispose();
    }
  }

  dispose(): void {
    for (const c of this.convs) tf.dispose([c.kernel, c.bias]);
    this.convs.length = 0;
  }
}

/** A short hash of the weights, so cached activations never mix two different weight files. */
function fingerprint(weights: AlexNetWeights): string {
  const h = crypto.createHash("sha256");
  for (const [name, arr] of [...weights].sort(([a], [b]) => a.localeCompare(b))) {
    h.update(name);
    h.update(new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength));
  }
  return h.digest("hex").slice(0, 12);
}
