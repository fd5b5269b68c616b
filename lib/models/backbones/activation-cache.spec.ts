import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Backbone, RgbImage, TapLayer } from "./backbone";
import { displayPath } from "../../runtime/paths";
import {
  ActivationProgress,
  activationCacheName,
  activationFile,
  cachedActivations,
  encodeActivation,
  imageHash,
  printProgress,
  readCachedActivation,
} from "./activation-cache";

/** A backbone whose features are simple functions of the pixels, counting every image it computes. */
class CountingBackbone implements Backbone {
  readonly name = "counting";
  readonly inputSize = 2;
  readonly preprocessing = "none";
  readonly layers: TapLayer[] = [
    { name: "sum", shape: [1], description: "sum of pixels" },
    { name: "firstTwo", shape: [2], description: "first two values" },
  ];
  computed = 0;
  batches: number[] = [];
  async activations(images: readonly RgbImage[], layer: string): Promise<Float32Array[]> {
    this.computed += images.length;
    this.batches.push(images.length);
    return images.map((img) =>
      layer === "sum" ? Float32Array.of(img.data.reduce((a, b) => a + b, 0)) : img.data.slice(0, 2),
    );
  }
  dispose(): void {}
}

function image(seed: number): RgbImage {
  return { width: 2, height: 2, data: Float32Array.from({ length: 12 }, (_, i) => ((seed * 31 + i * 7) % 17) / 17) };
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "activation-cache-"));
}

test("second run reads every image from the cache and returns the same features", async () => {
  const cacheDir = tmp();
  const images = [0, 1, 2, 3, 4].map(image);
  const net = new CountingBackbone();
  const first = await cachedActivations(net, "sum", images, { cacheDir, batchSize: 2 });
  assert.deepEqual([first.hits, first.computed, net.computed], [0, 5, 5]);
  assert.deepEqual(net.batches, [2, 2, 1]);
  const again = new CountingBackbone();
  const second = await cachedActivations(again, "sum", images, { cacheDir });
  assert.deepEqual([second.hits, second.computed, again.computed], [5, 0, 0]);
  assert.deepEqual(second.features, first.features);
  assert.equal(second.dim, 1);
  const leftovers = fs.readdirSync(path.join(cacheDir, "counting", "sum")).filter((f) => !f.endsWith(".f32"));
  assert.deepEqual(leftovers, [], "no temp files left behind");
});

test("keys separate layers, images and backbones; only new images are computed", async () => {
  const cacheDir = tmp();
  const net = new CountingBackbone();
  await cachedActivations(net, "sum", [image(1), image(2)], { cacheDir });
  const other = await cachedActivations(net, "firstTwo", [image(1)], { cacheDir });
  assert.equal(other.computed, 1, "another layer is another key");
  assert.deepEqual(Array.from(other.features[0]), Array.from(image(1).data.slice(0, 2)));
  const mixed = await cachedActivations(net, "sum", [image(2), image(9), image(1)], { cacheDir });
  assert.deepEqual([mixed.hits, mixed.computed], [2, 1]);
  const renamed = Object.assign(new CountingBackbone(), { name: "counting-other-weights" });
  assert.equal((await cachedActivations(renamed, "sum", [image(1)], { cacheDir })).computed, 1);
});

test("the hash option gives the cache keys, called once per image and layer", async () => {
  const cacheDir = tmp();
  let calls = 0;
  const hash = (img: RgbImage) => {
    calls++;
    return `key-${img.data[0]}`;
  };
  const net = new CountingBackbone();
  await cachedActivations(net, "sum", [image(1), image(2)], { cacheDir, hash });
  assert.equal(calls, 2);
  const files = fs.readdirSync(path.join(cacheDir, "counting", "sum")).sort();
  assert.deepEqual(files, [`key-${image(1).data[0]}.f32`, `key-${image(2).data[0]}.f32`].sort());
});

test("lazy image sources load and a corrupt cache file is recomputed", async () => {
  const cacheDir = tmp();
  const net = new CountingBackbone();
  await cachedActivations(net, "firstTwo", [image(3)], { cacheDir });
  const file = activationFile(cacheDir, "counting", "firstTwo", imageHash(image(3)));
  fs.writeFileSync(file, Buffer.alloc(3));
  const lines: string[] = [];
  const r = await cachedActivations(net, "firstTwo", [async () => image(3)], { cacheDir, warn: (l) => lines.push(l) });
  assert.deepEqual([r.hits, r.computed], [0, 1]);
  assert.equal(fs.statSync(file).size, 8 + 32, "two float32 and their SHA-256");
  assert.deepEqual(lines, [`${displayPath(file)}: 3 bytes, expected 40 (2 float32 and a checksum); recomputing`]);
});

test("a cache file is trusted only if its length, checksum and finite values prove it", async () => {
  const cacheDir = tmp();
  const good = encodeActivation(Float32Array.of(0.5, 2));
  const nan = Float32Array.of(NaN, 2);
  const cases: [string, Uint8Array, string | null][] = [
    ["intact", good, null],
    ["garbage of the right length", new Uint8Array(good.length).fill(7), "checksum does not match its values"],
    [
      "NaN at the right length, old format",
      new Uint8Array(nan.buffer),
      "1 activation file(s) written before files carried a checksum were recomputed, e.g. FILE",
    ],
    ["NaN with a matching checksum", encodeActivation(nan), "value[0] is NaN"],
    ["one flipped bit", good.map((v, i) => (i === 0 ? v ^ 1 : v)), "checksum does not match its values"],
  ];
  for (const [what, bytes, problem] of cases) {
    const net = new CountingBackbone();
    const file = activationFile(cacheDir, "counting", "firstTwo", imageHash(image(4)));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, bytes);
    const lines: string[] = [];
    const r = await cachedActivations(net, "firstTwo", [image(4)], { cacheDir, warn: (l) => lines.push(l) });
    const line = problem?.endsWith("e.g. FILE")
      ? problem.replace("FILE", displayPath(file))
      : `${displayPath(file)}: ${problem}; recomputing`;
    assert.deepEqual(lines, problem ? [line] : [], what);
    assert.equal(r.hits, problem ? 0 : 1, what);
    const expected = problem ? Array.from(image(4).data.slice(0, 2)) : [0.5, 2];
    assert.deepEqual(Array.from(r.features[0]), expected, what);
    assert.deepEqual(
      readCachedActivation(file, 2).features,
      Float32Array.from(expected),
      `${what}: the file now proves its values`,
    );
  }
});

test("non-finite activations from the backbone are an error, never cached", async () => {
  const cacheDir = tmp();
  const broken = new CountingBackbone();
  broken.activations = async (images) => images.map(() => Float32Array.of(1, NaN));
  await assert.rejects(
    cachedActivations(broken, "firstTwo", [image(5)], { cacheDir }),
    /counting\/firstTwo: the backbone returned non-finite activations \(value\[1\] is NaN\)/,
  );
  assert.equal(fs.existsSync(activationFile(cacheDir, "counting", "firstTwo", imageHash(image(5)))), false);
});

test("imageHash depends on pixels and dimensions", () => {
  const a = image(1);
  assert.equal(imageHash(a), imageHash({ ...a, data: a.data.slice() }));
  assert.notEqual(imageHash(a), imageHash(image(2)));
  assert.notEqual(imageHash({ width: 4, height: 1, data: a.data }), imageHash(a));
  assert.match(imageHash(a), /^[0-9a-f]{64}$/);
});

test("progress reports every batch and a final line", async () => {
  const seen: ActivationProgress[] = [];
  const lines: string[] = [];
  const print = printProgress(0, (l) => lines.push(l));
  await cachedActivations(new CountingBackbone(), "sum", [1, 2, 3].map(image), {
    cacheDir: tmp(),
    batchSize: 2,
    onProgress: (p) => {
      seen.push(p);
      print(p);
    },
  });
  assert.deepEqual(
    seen.map((p) => p.done),
    [2, 3, 3],
  );
  assert.equal(lines.length, 2);
  assert.match(lines[1], /^counting\/sum: 3\/3 \(0 from cache\)/);
});

test("a bad batch size or unknown layer is rejected", async () => {
  await assert.rejects(
    cachedActivations(new CountingBackbone(), "sum", [], { batchSize: 0, cacheDir: tmp() }),
    /batchSize 0/,
  );
  await assert.rejects(
    cachedActivations(new CountingBackbone(), "nope", [], { cacheDir: tmp() }),
    /no tap layer "nope"/,
  );
});

test("a backbone's computation is part of the key: folded activations never served as unfolded ones", async () => {
  const cacheDir = tmp();
  const images = [0, 1, 2].map(image);
  const plain = new CountingBackbone();
  await cachedActivations(plain, "sum", images, { cacheDir });
  assert.equal(activationCacheName(plain), "counting", "no computation: the folder of before");
  // The same name computed another way (as NsfwjsBackbone folded): its own folder, computed again.
  const folded = Object.assign(new CountingBackbone(), { computation: "bn-folded-1" });
  assert.equal(activationCacheName(folded), "counting+bn-folded-1");
  const r = await cachedActivations(folded, "sum", images, { cacheDir });
  assert.deepEqual([r.hits, r.computed, folded.computed], [0, 3, 3]);
  assert.ok(fs.existsSync(activationFile(cacheDir, "counting+bn-folded-1", "sum", imageHash(images[0]))));
  const again = Object.assign(new CountingBackbone(), { computation: "bn-folded-1" });
  assert.equal((await cachedActivations(again, "sum", images, { cacheDir })).hits, 3);
  assert.equal((await cachedActivations(new CountingBackbone(), "sum", images, { cacheDir })).hits, 3);
});
