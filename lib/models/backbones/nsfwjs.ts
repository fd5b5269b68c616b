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
 */
import * as path from "path";
import { tf, initBackend } from "../../runtime/backend";
import { Backbone, RgbImage, TapLayer, batchTensor, tapLayer, unbatch } from "./backbone";
import { useBatchNormKernel } from "./batch-norm";
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
 * bit for bit, in a fraction of the time).
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

/** A Keras model from nsfwjs tapped at named layers; input in [0,1] as nsfwjs feeds it. */
export class NsfwjsBackbone implements Backbone {
  readonly preprocessing: string;
  private readonly taps = new Map<string, tf.LayersModel>();

  constructor(
    readonly name: string,
    readonly inputSize: number,
    readonly layers: readonly TapLayer[],
    private readonly model: tf.LayersModel,
  ) {
    this.preprocessing = `bilinear resize to ${inputSize}x${inputSize} (align corners), RGB values in [0,1], as nsfwjs feeds it`;
  }

  private tap(layer: string): tf.LayersModel {
    tapLayer(this, layer);
    let m = this.taps.get(layer);
    if (!m) {
      m = tf.model({ inputs: this.model.inputs, outputs: this.model.getLayer(layer).output as tf.SymbolicTensor });
      this.taps.set(layer, m);
    }
    return m;
  }

  async activations(images: readonly RgbImage[], layer: string): Promise<Float32Array[]> {
    const m = this.tap(layer);
    if (images.length === 0) return [];
    const out = tf.tidy(() => m.predict(batchTensor(images, this.inputSize)) as tf.Tensor);
    try {
      return await unbatch(out);
    } finally {
      out.dispose();
    }
  }

  async activationsAt(images: readonly RgbImage[], layers: readonly string[]): Promise<Map<string, Float32Array[]>> {
    layers.forEach((l) => tapLayer(this, l));
    const key = layers.join(",");
    let m = this.taps.get(key);
    if (!m) {
      const outputs = layers.map((l) => this.model.getLayer(l).output as tf.SymbolicTensor);
      m = tf.model({ inputs: this.model.inputs, outputs });
      this.taps.set(key, m);
    }
    const result = new Map<string, Float32Array[]>();
    if (images.length === 0) {
      for (const l of layers) result.set(l, []);
      return result;
    }
    const model = m;
    const outs = tf.tidy(() => {
      const y = model.predict(batchTensor(images, this.inputSize));
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
    this.model.dispose();
    this.taps.clear();
  }
}
