/**
 * Worker thread of ParallelBackbone: loads its own copy of the backbone from the recipe in
 * workerData, posts its description once ready, then answers each request with the
 * activations of the requested layers for its share of a batch.
 */
import { parentPort, workerData } from "worker_threads";
import { Backbone, RgbImage } from "./backbone";
import { BackboneRecipe, loadBackbone } from "./recipe";

export type WorkerRequest = { id: number; images: RgbImage[]; layers: string[] };
export type WorkerReply =
  | { ready: Pick<Backbone, "name" | "computation" | "inputSize" | "preprocessing" | "layers"> }
  | { id: number; features: [string, Float32Array[]][] }
  | { id: number; error: string }
  | { error: string };

const post = (m: WorkerReply, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);

loadBackbone(workerData as BackboneRecipe).then(
  (net) => {
    post({
      ready: {
        name: net.name,
        computation: net.computation,
        inputSize: net.inputSize,
        preprocessing: net.preprocessing,
        layers: net.layers,
      },
    });
    parentPort!.on("message", async ({ id, images, layers }: WorkerRequest) => {
      try {
        const out = net.activationsAt
          ? await net.activationsAt(images, layers)
          : new Map(await Promise.all(layers.map(async (l) => [l, await net.activations(images, l)] as const)));
        const features = [...out.entries()];
        post(
          { id, features },
          features.flatMap(([, fs]) => fs.map((f) => f.buffer as ArrayBuffer)),
        );
      } catch (e) {
        post({ id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      }
    });
  },
  (e) => post({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
);
