/**
 * How to load a backbone, as plain data: what a worker thread needs to build its own copy
 * of a network (objects holding tensors cannot cross threads).
 */
import { AlexNet } from "./alexnet";
import { Backbone } from "./backbone";
import { InceptionV3 } from "./inception";
import { MobileNetV2 } from "./mobilenet";

/**
 * `fold` (nsfwjs models): BatchNorm folded into the convolutions (fold.ts) or the Keras layers as
 * they are; absent, the default of nsfwjs.ts (folded unless NSFWJS_BATCH_NORM=keras).
 */
export type BackboneRecipe =
  | { kind: "mobilenet_v2"; fold?: boolean }
  | { kind: "inception_v3"; fold?: boolean }
  | { kind: "alexnet"; dir: string };

export async function loadBackbone(recipe: BackboneRecipe): Promise<Backbone> {
  switch (recipe.kind) {
    case "mobilenet_v2":
      return MobileNetV2.load(recipe.fold);
    case "inception_v3":
      return InceptionV3.load(recipe.fold);
    case "alexnet":
      return AlexNet.load(recipe.dir);
    default:
      throw new Error(`loadBackbone: unknown recipe ${JSON.stringify(recipe)}`);
  }
}
