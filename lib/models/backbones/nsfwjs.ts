/**
 * The pretrained Keras models that ship inside the `nsfwjs` npm package (MobileNetV2 and
 * InceptionV3), the backbones that work offline out of the box. Both are ImageNet-pretrained
 * networks that nsfwjs's authors fine-tuned for 5 content classes (uint8-quantized weights);
 * neither was trained on faces. Their early and middle blocks are still generic image
 * features, which is what transfer learning taps.
 *
 * The package ships each model as browserify bundles exporting the model JSON and base64
 * weights; it exposes them only through a dynamic import, so we require the files by path
 * and hand them to tf.io.fromMemory ourselves.
 *
 * NsfwjsBackbone runs them through fold.ts's executor: every Conv2D / DepthwiseConv2D with its
 * BatchNormalization folded into the filter and bias, the ReLU / ReLU6 after it fused into the
 * convolution and MobileNetV2's zero paddings done by the convolution after them (one XNNPACK
 * operator in place of three to four layers; measured on a busy 2-core machine: MobileNetV2 1.5
 * to 1.65 times as fast, InceptionV3, whose time is about 90% convolutions, 5 to 8%; what is
 * left is about 90% XNNPACK's convolutions). The activations differ
 * from the Keras layers' by float32 rounding (fold.spec.ts measures it), so the backbone reports
 * the computation FOLDED_COMPUTATION and the activation cache keeps them apart from the
 * unfolded ones. NSFWJS_BATCH_NORM=keras in the environment runs the Keras layers as they are
 * (BatchNormalization on batch-norm.ts's kernel; the computation, and cache files, of before),
 * for comparisons.
 */
import * as path from "path";
import { tf, initBackend } from "../../runtime/backend";
import { Backbone, RgbImage, TapLayer, batchTensor, tapLayer, unbatch } from "./backbone";
import { useBatchNormKernel } from "./batch-norm";
import { FOLDED_COMPUTATION, FoldedModel } from "./fold";
import { usePadKernel } from "./pad";

export type NsfwjsModelName = "mobilenet_v2" | "inception_v3";

function packageModelDir(model: NsfwjsModelName): string {
  // nsfwjs's "exports" map hides dist/models; resolve the main entry and walk to it.
  return path.resolve(path.dirname(require.resolve("nsfwjs")), "../models", model);
}

interface BundledModel {
  modelTopology: object;
  weightsManifest: tf.io.WeightsManifestConfig;
}

/**
 * Loads one bundled Keras model (1-5 s). On the wasm backend, its BatchNormalization and
 * ZeroPadding2D layers then run on the kernels of batch-norm.ts and pad.ts (the same outputs
 * bit for bit, in a fraction of the time) where they run as layers: the padding always, the
 * BatchNormalization only unfolded (NSFWJS_BATCH_NORM=keras, or the model used as it is).
 */
export async function loadNsfwjsModel(model: NsfwjsModelName): Promise<tf.LayersModel> {
  await initBackend();
  useBatchNormKernel();
  usePadKernel();
  const dir = packageModelDir(model);
  const json = require(path.join(dir, "model.min.js")) as BundledModel;
  const shards = json.weightsManifest.flatMap((g) => g.paths);
  const buffers = shards.map((p) => Buffer.from(require(path.join(dir, `${p}.min.js`)) as string, "base64"));
  const weightData = Buffer.concat(buffers);
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs,
      weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
    }),
  );
}

/**
 * Whether NsfwjsBackbone folds BatchNormalization into the convolutions (the default) or runs
 * the Keras layers as they are (NSFWJS_BATCH_NORM=keras in the environment).
 */
export function foldBatchNormByDefault(): boolean {
  const v = process.env.NSFWJS_BATCH_NORM;
  if (v === undefined || v === "" || v === "folded") return true;
  if (v === "keras") return false;
  throw new Error(`NSFWJS_BATCH_NORM=${v}: expected "folded" (the default) or "keras"`);
}

/**
 * A Keras model from nsfwjs tapped at named layers; input in [0,1] as nsfwjs feeds it.
 * Runs folded (fold.ts) unless `fold` is false.
 */
export class NsfwjsBackbone implements Backbone {
  readonly preprocessing: string;
  /** FOLDED_COMPUTATION when folded; absent for the Keras layers as they are. */
  readonly computation?: string;
  private readonly taps = new Map<string, tf.LayersModel>();
  private readonly folded: FoldedModel | null;

  constructor(
    readonly name: string,
    readonly inputSize: number,
    readonly layers: readonly TapLayer[],
    private readonly model: tf.LayersModel,
    fold = foldBatchNormByDefault(),
  ) {
    this.preprocessing = `bilinear resize to ${inputSize}x${inputSize} (align corners), RGB values in [0,1], as nsfwjs feeds it`;
    this.folded = fold ? new FoldedModel(model) : null;
    if (fold) this.computation = FOLDED_COMPUTATION;
  }

  async activations(images: readonly RgbImage[], layer: string): Promise<Float32Array[]> {
    if (this.folded) return (await this.activationsAt(images, [layer])).get(layer)!;
    tapLayer(this, layer);
    const m = this.tapModel([layer]);
    if (images.length === 0) return [];
    const out = tf.tidy(() => m.predict(batchTensor(images, this.inputSize)) as tf.Tensor);
    try {
      return await unbatch(out);
    } finally {
      out.dispose();
    }
  }

  /** The Keras model computing `layers` (unfolded path), built once per set of layers. */
  private tapModel(layers: readonly string[]): tf.LayersModel {
    const key = layers.join(",");
    let m = this.taps.get(key);
    if (!m) {
      const outputs = layers.map((l) => this.model.getLayer(l).output as tf.SymbolicTensor);
      m = tf.model({ inputs: this.model.inputs, outputs });
      this.taps.set(key, m);
    }
    return m;
  }

  async activationsAt(images: readonly RgbImage[], layers: readonly string[]): Promise<Map<string, Float32Array[]>> {
    layers.forEach((l) => tapLayer(this, l));
    const folded = this.folded;
    const model = folded ? null : this.tapModel(layers);
    const result = new Map<string, Float32Array[]>();
    if (images.length === 0) {
      for (const l of layers) result.set(l, []);
      return result;
    }
    const outs = tf.tidy(() => {
      const x = batchTensor(images, this.inputSize);
      if (folded) return folded.predict(x, layers);
      const y = model!.predict(x);
      return Array.isArray(y) ? y : [y];
    });
    try {
      for (let i = 0; i < layers.length; i++) result.set(layers[i], await unbatch(outs[i]));
      return result;
    } finally {
      tf.dispose(outs);
    }
  }

  dispose(): void {
    this.folded?.dispose();
    this.model.dispose();
    this.taps.clear();
  }
}
