/**
 * How to load a backbone, as plain data: what a worker thread needs to build its own copy
 * of a network (objects holding tensors cannot cross threads).
 */
import { AlexNet } from "./alexnet";
import { Backbone } from "./backbone";
import { InceptionV3 } from "./inception";
import { MobileNetV2 } from "./mobilenet";

export type BackboneRecipe = { kind: "mobilenet_v2" } | { kind: "inception_v3" } | { kind: "alexnet"; dir: string };

export async function loadBackbone(recipe: BackboneRecipe): Promise<Backbone> {
  switch (recipe.kind) {
    case "mobilenet_v2":
      return MobileNetV2.load();
    case "inception_v3":
      return InceptionV3.load();
    case "alexnet":
      return AlexNet.load(recipe.dir);
    default:
      throw new Error(`loadBackbone: unknown recipe ${JSON.stringify(recipe)}`);
  }
}
