import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Backbone, RgbImage, TapLayer } from "./backbone";
import { cachedActivations } from "./activation-cache";
import { MultiTapProgress, cachedActivationsAt, printMultiTapProgress } from "./multi-tap";

/** Features are simple functions of the pixels; counts forward passes and images per pass. */
class TwoTapBackbone implements Backbone {
  readonly name = "two-tap";
  readonly inputSize = 2;
  readonly preprocessing = "none";
  readonly layers: TapLayer[] = [
    { name: "sum", shape: [1], description: "sum of pixels" },
    { name: "firstTwo", shape: [2], description: "first two values" },
  ];
  passes: { layers: string[]; images: number }[] = [];
  constructor(private readonly multi: boolean) {
    if (!multi) this.activationsAt = undefined;
  }
  private one(img: RgbImage, layer: string): Float32Array {
    return layer === "sum" ? Float32Array.of(img.data.reduce((a, b) => a + b, 0)) : img.data.slice(0, 2);
  }
  async activations(images: readonly RgbImage[], layer: string): Promise<Float32Array[]> {
    this.passes.push({ layers: [layer], images: images.length });
    return images.map((img) => this.one(img, layer));
  }
  activationsAt?: Backbone["activationsAt"] = async (images, layers) => {
    this.passes.push({ layers: [...layers], images: images.length });
    return new Map(layers.map((l) => [l, images.map((img) => this.one(img, l))]));
  };
  dispose(): void {}
}

const image = (seed: number): RgbImage => ({
  width: 2,
  height: 2,
  data: Float32Array.from({ length: 12 }, (_, i) => ((seed * 31 + i * 7) % 17) / 17),
});
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "multi-tap-"));

test("one pass per chunk for all layers; same features as tapping layer by layer; then all cached", async () => {
  const cacheDir = tmp();
  const images = [0, 1, 2, 3, 4].map(image);
  const net = new TwoTapBackbone(true);
  const r = await cachedActivationsAt(net, ["sum", "firstTwo"], images, { cacheDir, batchSize: 2 });
  assert.deepEqual(net.passes, [
    { layers: ["sum", "firstTwo"], images: 2 },
    { layers: ["sum", "firstTwo"], images: 2 },
    { layers: ["sum", "firstTwo"], images: 1 },
  ]);
  for (const layer of ["sum", "firstTwo"]) {
    const single = await cachedActivations(new TwoTapBackbone(false), layer, images, { cacheDir: tmp() });
    assert.deepEqual(r.get(layer)!.features, single.features, layer);
    assert.equal(r.get(layer)!.computed, 5);
  }
  net.passes = [];
  const again = await cachedActivationsAt(net, ["sum", "firstTwo"], images, { cacheDir, batchSize: 2 });
  assert.deepEqual(net.passes, []);
  assert.equal(again.get("firstTwo")!.hits, 5);
  assert.deepEqual(again.get("sum")!.features, r.get("sum")!.features);
});

test("a backbone without activationsAt is tapped layer by layer; lazy sources load", async () => {
  const net = new TwoTapBackbone(false);
  const images = [0, 1, 2].map((s) => async () => image(s));
  const r = await cachedActivationsAt(net, ["sum", "firstTwo"], images, { cacheDir: tmp(), batchSize: 4 });
  assert.deepEqual(net.passes, [
    { layers: ["sum"], images: 3 },
    { layers: ["firstTwo"], images: 3 },
  ]);
  assert.deepEqual(r.get("firstTwo")!.features[2], image(2).data.slice(0, 2));
});

test("only layers missing from the cache send images through the network again", async () => {
  const cacheDir = tmp();
  const images = [0, 1, 2].map(image);
  await cachedActivations(new TwoTapBackbone(false), "sum", images, { cacheDir });
  const net = new TwoTapBackbone(true);
  const r = await cachedActivationsAt(net, ["sum", "firstTwo"], images, { cacheDir });
  assert.deepEqual(net.passes, [{ layers: ["sum", "firstTwo"], images: 3 }]);
  assert.equal(r.get("sum")!.hits, 3);
  assert.equal(r.get("firstTwo")!.computed, 3);
});

test("reduce keeps only what the caller asks for, per layer", async () => {
  const images = [0, 1].map(image);
  const r = await cachedActivationsAt(new TwoTapBackbone(true), ["sum", "firstTwo"], images, {
    cacheDir: tmp(),
    reduce: (layer, f) => (layer === "firstTwo" ? Float32Array.of(f[0] + f[1]) : f),
  });
  assert.equal(r.get("firstTwo")!.dim, 1);
  assert.deepEqual(r.get("firstTwo")!.features[1], Float32Array.of(image(1).data[0] + image(1).data[1]));
  assert.equal(r.get("sum")!.dim, 1);
});

test("progress lines: rate and time left while running, a final line at the end", () => {
  const lines: string[] = [];
  const quiet = printMultiTapProgress(60, (l) => lines.push(l));
  quiet({ backbone: "b", layers: ["x"], done: 1, total: 4, computed: 1, computeSeconds: 1 });
  assert.equal(lines.length, 0, "nothing before the interval has passed");
  const print = printMultiTapProgress(0, (l) => lines.push(l));
  const p: MultiTapProgress = { backbone: "b", layers: ["x", "y"], done: 2, total: 4, computed: 2, computeSeconds: 4 };
  print(p);
  print({ ...p, done: 4, computed: 4, computeSeconds: 8 });
  print({ ...p, done: 4, computed: 0, computeSeconds: 0 });
  assert.deepEqual(lines, [
    "b [x, y]: 2/4, 2 run through the network at 0.50 images/s, ~4 s left",
    "b [x, y]: 4/4, 4 run through the network at 0.50 images/s",
    "b [x, y]: 4/4, all from cache",
  ]);
});

test("the multi-tap path keys files with the backbone's computation too", async () => {
  const cacheDir = tmp();
  const net = Object.assign(new TwoTapBackbone(true), { computation: "bn-folded-1" });
  await cachedActivationsAt(net, ["sum"], [image(0)], { cacheDir });
  assert.deepEqual(fs.readdirSync(cacheDir), ["two-tap+bn-folded-1"]);
});
