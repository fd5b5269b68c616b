/**
 * MobileNetV2 from the `nsfwjs` npm package, the backbone that works offline out of the
 * box. Its weights are ImageNet-pretrained MobileNetV2 that nsfwjs's authors fine-tuned
 * for 5 content classes (uint8-quantized); the early and middle blocks are still generic
 * image features, which is what transfer learning taps.
 *
 * The package ships the Keras model as browserify bundles exporting the model JSON and
 * base64 weights; it exposes them only through a dynamic import, so we require the
 * files by path and hand them to tf.io.fromMemory ourselves.
 */
import * as path from "path";
import { tf, initBackend } from "../../runtime/backend";
import { Backbone, RgbImage, TapLayer, batchTensor, tapLayer, unbatch } from "./backbone";

const INPUT_SIZE = 224;

/** Tap points spread over the network: block outputs at 56, 28, 14 and 7 pixels. */
export const MOBILENET_LAYERS: readonly TapLayer[] = [
  { name: "block_2_add", shape: [56, 56, 24], description: "end of stage 2 (stride 4)" },
  { name: "block_5_add", shape: [28, 28, 32], description: "end of stage 3 (stride 8)" },
  { name: "block_9_add", shape: [14, 14, 64], description: "stage 4, middle (stride 16)" },
  { name: "block_12_add", shape: [14, 14, 96], description: "end of stage 5 (stride 16)" },
  { name: "block_15_add", shape: [7, 7, 160], description: "stage 6 (stride 32)" },
  { name: "out_relu", shape: [7, 7, 1280], description: "last conv features before pooling" },
];

function packageModelDir(): string {
  // nsfwjs's "exports" map hides dist/models; resolve the main entry and walk to it.
  return path.resolve(path.dirname(require.resolve("nsfwjs")), "../models/mobilenet_v2");
}

interface BundledModel {
  modelTopology: object;
  weightsManifest: tf.io.WeightsManifestConfig;
}

/** Loads the bundled Keras model (about 1 s). */
export async function loadMobileNetModel(): Promise<tf.LayersModel> {
  await initBackend();
  const dir = packageModelDir();
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

export class MobileNetV2 implements Backbone {
  readonly name = "mobilenet_v2-nsfwjs-4.4.0";
  readonly inputSize = INPUT_SIZE;
  readonly preprocessing = "bilinear resize to 224x224 (align corners), RGB values in [0,1], as nsfwjs feeds it";
  readonly layers = MOBILENET_LAYERS;
  private readonly taps = new Map<string, tf.LayersModel>();

  private constructor(private readonly model: tf.LayersModel) {}

  static async load(): Promise<MobileNetV2> {
    return new MobileNetV2(await loadMobileNetModel());
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
    const out = tf.tidy(() => m.predict(batchTensor(images, INPUT_SIZE)) as tf.Tensor);
    try {
      return await unbatch(out);
    } finally {
      out.dispose();
    }
  }

  dispose(): void {
    this.model.dispose();
    this.taps.clear();
  }
}
