/**
 * The face-specific backbone: @vladmandic/face-api's ResNet-34 face-recognition network
 * (dlib's metric-learning model ported to TensorFlow.js), which maps a face to a 128-D
 * descriptor where distances reflect identity. Its weights ship in the package's
 * model/ folder and load offline. The node-wasm build requires the project's own
 * @tensorflow/tfjs and wasm backend, so it shares our tensors and backend in-process.
 *
 * We feed the face crop as it is (no detection or landmark alignment): the FaceScrub
 * crops are already tight face boxes, and this keeps the comparison with the other
 * backbones about the features, not about a different crop.
 */
import * as path from "path";
import { tf, initBackend } from "../../runtime/backend";
import { Backbone, RgbImage, TapLayer, batchTensor, tapLayer } from "./backbone";

const INPUT_SIZE = 150;

export const FACE_DESCRIPTOR_LAYERS: readonly TapLayer[] = [
  { name: "descriptor", shape: [128], description: "128-D face embedding (output of the ResNet-34)" },
];

// Typed loosely: face-api's .d.ts pulls in its own bundled tfjs types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type FaceApi = any;

function faceApiModule(): { api: FaceApi; modelDir: string } {
  const entry = require.resolve("@vladmandic/face-api/dist/face-api.node-wasm.js");
  const api = require(entry);
  return { api, modelDir: path.resolve(path.dirname(entry), "../model") };
}

export class FaceDescriptor implements Backbone {
  readonly name = "face-api-1.7.15-resnet34";
  readonly inputSize = INPUT_SIZE;
  readonly preprocessing =
    "bilinear resize to 150x150, values x255; the network subtracts its RGB mean (122.8, 117.0, 104.3) and divides by 255";
  readonly layers = FACE_DESCRIPTOR_LAYERS;

  private constructor(private readonly net: FaceApi) {}

  static async load(): Promise<FaceDescriptor> {
    await initBackend();
    const { api, modelDir } = faceApiModule();
    const net = api.nets.faceRecognitionNet;
    if (!net.isLoaded) await net.loadFromDisk(modelDir);
    return new FaceDescriptor(net);
  }

  async activations(images: readonly RgbImage[], layer: string): Promise<Float32Array[]> {
    tapLayer(this, layer);
    if (images.length === 0) return [];
    const batch = tf.tidy(() => tf.unstack(tf.mul(batchTensor(images, INPUT_SIZE), 255)) as tf.Tensor3D[]);
    try {
      // An array of 3-D tensors is a batch to face-api (a 4-D tensor must have batch size 1).
      const out = await this.net.computeFaceDescriptor(batch);
      return (Array.isArray(out) ? out : [out]).map((d: Float32Array) => Float32Array.from(d));
    } finally {
      tf.dispose(batch);
    }
  }

  dispose(): void {
    // face-api's nets are module-level singletons; disposing would break later loads in this process.
  }
}
