/**
 * InceptionV3 from the `nsfwjs` npm package (see nsfwjs.ts): 299x299 input, 22M parameters,
 * about ten times MobileNetV2's work per image. Taps are the "mixed" block outputs, at
 * 35x35 (stride 8), 17x17 (stride 16) and 8x8 (stride 32).
 */
import { TapLayer } from "./backbone";
import { NsfwjsBackbone, foldBatchNormByDefault, loadNsfwjsModel } from "./nsfwjs";

export const INCEPTION_LAYERS: readonly TapLayer[] = [
  { name: "mixed2", shape: [35, 35, 288], description: "end of the 35x35 stage (stride 8)" },
  { name: "mixed4", shape: [17, 17, 768], description: "17x17 stage, second block (stride 16)" },
  { name: "mixed5", shape: [17, 17, 768], description: "17x17 stage, third block" },
  { name: "mixed6", shape: [17, 17, 768], description: "17x17 stage, fourth block" },
  { name: "mixed7", shape: [17, 17, 768], description: "end of the 17x17 stage" },
  { name: "mixed8", shape: [8, 8, 1280], description: "8x8 stage, first block (stride 32)" },
  { name: "mixed10", shape: [8, 8, 2048], description: "last conv features before pooling" },
];

export class InceptionV3 extends NsfwjsBackbone {
  /** `fold`: BatchNorm folded into the convolutions (default: see foldBatchNormByDefault). */
  static async load(fold = foldBatchNormByDefault()): Promise<InceptionV3> {
    const model = await loadNsfwjsModel("inception_v3");
    return new InceptionV3("inception_v3-nsfwjs-4.4.0", 299, INCEPTION_LAYERS, model, fold);
  }
}
