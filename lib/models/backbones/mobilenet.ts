/** MobileNetV2 from the `nsfwjs` npm package (see nsfwjs.ts): 224x224 input, 2.6M parameters. */
import { TapLayer } from "./backbone";
import { NsfwjsBackbone, foldBatchNormByDefault, loadNsfwjsModel } from "./nsfwjs";

/** Tap points spread over the network: block outputs at 56, 28, 14 and 7 pixels. */
export const MOBILENET_LAYERS: readonly TapLayer[] = [
  { name: "block_2_add", shape: [56, 56, 24], description: "end of stage 2 (stride 4)" },
  { name: "block_5_add", shape: [28, 28, 32], description: "end of stage 3 (stride 8)" },
  { name: "block_9_add", shape: [14, 14, 64], description: "stage 4, middle (stride 16)" },
  { name: "block_12_add", shape: [14, 14, 96], description: "end of stage 5 (stride 16)" },
  { name: "block_15_add", shape: [7, 7, 160], description: "stage 6 (stride 32)" },
  { name: "out_relu", shape: [7, 7, 1280], description: "last conv features before pooling" },
];

/** Loads the bundled Keras model (about 1 s). */
export function loadMobileNetModel(): ReturnType<typeof loadNsfwjsModel> {
  return loadNsfwjsModel("mobilenet_v2");
}

export class MobileNetV2 extends NsfwjsBackbone {
  /** `fold`: BatchNorm folded into the convolutions (default: see foldBatchNormByDefault). */
  static async load(fold = foldBatchNormByDefault()): Promise<MobileNetV2> {
    return new MobileNetV2("mobilenet_v2-nsfwjs-4.4.0", 224, MOBILENET_LAYERS, await loadMobileNetModel(), fold);
  }
}
