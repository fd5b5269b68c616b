/**
 * A backbone run on several worker threads: each thread loads its own copy of the network
 * (TensorFlow.js's wasm backend computes on one thread in Node), and every batch is split
 * into contiguous shares, one per thread, so feature extraction uses both cores of the
 * project's machines. Results come back in the batch's order; each image's features are
 * those of the same network on the same pixels, only computed in a smaller batch.
 */
import { Worker } from "worker_threads";
import { defaultWorkers } from "../../runtime/cores";
import { startModuleWorker } from "../../runtime/workers";
import { Backbone, RgbImage, TapLayer, tapLayer } from "./backbone";
import type { WorkerReply, WorkerRequest } from "./parallel-worker";
import { BackboneRecipe } from "./recipe";

interface Pending {
  resolve: (features: Map<string, Float32Array[]>) => void;
  reject: (e: Error) => void;
}

class BackboneThread {
  private next = 0;
  private readonly pending = new Map<number, Pending>();
  private constructor(
    private readonly worker: Worker,
    readonly info: Pick<Backbone, "name" | "computation" | "inputSize" | "preprocessing" | "layers">,
  ) {
    worker.on("message", (m: WorkerReply) => {
      if (!("id" in m)) return;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if ("error" in m) p?.reject(new Error(`${info.name} worker: ${m.error}`));
      else p?.resolve(new Map(m.features));
    });
    worker.on("error", (e) => this.failAll(e));
    worker.on("exit", (code) => this.failAll(new Error(`${info.name} worker exited with code ${code}`)));
    // An idle worker must not keep the process alive (a notebook run ends after its last cell);
    // after the listeners, since adding a message listener refs the worker's port again.
    worker.unref();
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.worker.unref();
  }

  static start(recipe: BackboneRecipe): Promise<BackboneThread> {
    const worker = startModuleWorker(__filename, "parallel-worker", { workerData: recipe });
    return new Promise((resolve, reject) => {
      const onMessage = (m: WorkerReply) => {
        if ("ready" in m) {
          worker.off("message", onMessage);
          worker.off("error", reject);
          resolve(new BackboneThread(worker, m.ready));
        } else if (!("id" in m) && "error" in m) {
          void worker.terminate();
          reject(new Error(`loading ${recipe.kind} in a worker thread failed: ${m.error}`));
        }
      };
      worker.on("message", onMessage);
      worker.once("error", reject);
    });
  }

  run(images: RgbImage[], layers: string[]): Promise<Map<string, Float32Array[]>> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      const request: WorkerRequest = { id, images, layers };
      this.worker.postMessage(request);
    });
  }

  terminate(): Promise<number> {
    this.worker.removeAllListeners("exit");
    return this.worker.terminate();
  }
}

export class ParallelBackbone implements Backbone {
  readonly name: string;
  readonly computation?: string;
  readonly inputSize: number;
  readonly preprocessing: string;
  readonly layers: readonly TapLayer[];

  private constructor(private readonly threads: BackboneThread[]) {
    ({
      name: this.name,
      computation: this.computation,
      inputSize: this.inputSize,
      preprocessing: this.preprocessing,
      layers: this.layers,
    } = threads[0].info);
  }

  /** Starts `threads` workers (default: one per usable core, at most 2; runtime/cores.ts), each loading the backbone. */
  static async start(recipe: BackboneRecipe, threads = defaultWorkers()): Promise<ParallelBackbone> {
    if (!Number.isInteger(threads) || threads < 1)
      throw new Error(`ParallelBackbone: threads ${threads} must be a positive integer`);
    return new ParallelBackbone(await Promise.all(Array.from({ length: threads }, () => BackboneThread.start(recipe))));
  }

  async activationsAt(images: readonly RgbImage[], layers: readonly string[]): Promise<Map<string, Float32Array[]>> {
    layers.forEach((l) => tapLayer(this, l));
    const share = Math.ceil(images.length / this.threads.length);
    const parts = this.threads
      .map((t, i) => ({ t, imgs: images.slice(i * share, (i + 1) * share) }))
      .filter((p) => p.imgs.length > 0);
    const outs = await Promise.all(parts.map((p) => p.t.run(p.imgs, [...layers])));
    return new Map(layers.map((l) => [l, outs.flatMap((o) => o.get(l)!)]));
  }

  async activations(images: readonly RgbImage[], layer: string): Promise<Float32Array[]> {
    return (await this.activationsAt(images, [layer])).get(layer)!;
  }

  dispose(): void {
    for (const t of this.threads) void t.terminate();
  }
}
