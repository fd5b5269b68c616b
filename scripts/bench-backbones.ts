/**
 * Feature-extraction throughput (images per second) per backbone and tap layer, on the
 * backend the notebooks use. AlexNet runs with random weights of torchvision's shapes
 * (speed does not depend on the values), so it is measured even without the user's
 * weights. The reference is MobileNetV2's full convolutional stack (out_relu) in the
 * same run; ratios against it survive a noisy shared machine better than raw numbers.
 * InceptionV3, the slowest, is also timed on two worker threads (ParallelBackbone, as
 * notebook 10 runs it) against one thread and against two threads running the Keras layers
 * unfolded (BatchNorm and ReLU as their own layers, the computation before
 * lib/models/backbones/fold.ts), interleaved. The nsfwjs models run folded elsewhere, unless
 * NSFWJS_BATCH_NORM=keras.
 *
 *   npm run bench:backbones [-- --images 32 --batch 16] [-- --only inception]
 *
 * `--only inception` times only that comparison (InceptionV3 mixed10, about a minute).
 */
import { initBackend } from "@csc411/lib/runtime";
import { Random } from "@csc411/lib/runtime";
import { Backbone, RgbImage } from "@csc411/lib/models/backbones";
import { MobileNetV2 } from "@csc411/lib/models/backbones";
import { FaceDescriptor } from "@csc411/lib/models/backbones";
import { InceptionV3, ParallelBackbone } from "@csc411/lib/models/backbones";
import { AlexNet, AlexNetWeights, alexNetWeightShapes } from "@csc411/lib/models/backbones";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1)
    throw new Error(`--${name} must be a positive integer, got ${process.argv[i + 1]}`);
  return v;
}

const IMAGES = arg("images", 32);
const ONLY = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : null;
if (ONLY !== null && ONLY !== "inception") throw new Error(`--only ${ONLY}: the only choice is "inception"`);
const BATCH = arg("batch", 16);

function images(n: number, rng: Random): RgbImage[] {
  // 227x227 like the face crops, so every backbone pays its own resize.
  return Array.from({ length: n }, () => ({
    width: 227,
    height: 227,
    data: Float32Array.from({ length: 227 * 227 * 3 }, () => rng.uniform()),
  }));
}

function randomAlexNetWeights(rng: Random): AlexNetWeights {
  const w: AlexNetWeights = new Map();
  for (const [name, shape] of alexNetWeightShapes()) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (rng.uniform() - 0.5) * 0.02;
    w.set(name, { shape, data });
  }
  return w;
}

async function throughput(net: Backbone, layer: string, imgs: RgbImage[]): Promise<number> {
  await net.activations(imgs.slice(0, Math.min(BATCH, imgs.length)), layer); // warm-up: kernels, tap model
  const t0 = performance.now();
  for (let i = 0; i < imgs.length; i += BATCH) await net.activations(imgs.slice(i, i + BATCH), layer);
  return imgs.length / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const backend = await initBackend();
  console.log(`backend ${backend.name}; ${IMAGES} images of 227x227 per row, batches of ${BATCH}`);
  const rng = new Random(411);
  const imgs = images(IMAGES, rng);
  const rows: { backbone: string; layer: string; dim: number; rate: number }[] = [];
  const run = async (label: string, net: Backbone, layers: string[]) => {
    for (const layer of layers) {
      const rate = await throughput(net, layer, imgs);
      const dim = net.layers.find((l) => l.name === layer)!.shape.reduce((a, b) => a * b, 1);
      rows.push({ backbone: label, layer, dim, rate });
      console.log(`  ${label.padEnd(24)} ${layer.padEnd(13)} ${rate.toFixed(2)} images/s`);
    }
  };
  if (ONLY === null) {
    const mobile = await MobileNetV2.load();
    await run(
      "MobileNetV2 (nsfwjs)",
      mobile,
      mobile.layers.map((l) => l.name),
    );
    mobile.dispose();
    const face = await FaceDescriptor.load();
    await run("face-api ResNet-34", face, ["descriptor"]);
    const alex = await AlexNet.fromWeights(randomAlexNetWeights(rng), undefined, "alexnet-random");
    await run("AlexNet torchvision (random weights)", alex, ["pool2", "conv4", "pool5"]);
    alex.dispose();
  }
  const inception = await InceptionV3.load();
  if (ONLY === null) await run("InceptionV3 (nsfwjs)", inception, ["mixed2", "mixed5", "mixed7", "mixed10"]);
  // Two worker threads against one and against two unfolded, interleaved so load changes hit all.
  const inception2 = await ParallelBackbone.start({ kind: "inception_v3", fold: true }, 2);
  const unfolded2 = await ParallelBackbone.start({ kind: "inception_v3", fold: false }, 2);
  const one: number[] = [];
  const two: number[] = [];
  const keras: number[] = [];
  for (let round = 0; round < 2; round++) {
    one.push(await throughput(inception, "mixed10", imgs));
    two.push(await throughput(inception2, "mixed10", imgs));
    keras.push(await throughput(unfolded2, "mixed10", imgs));
  }
  inception.dispose();
  inception2.dispose();
  unfolded2.dispose();
  const best = (xs: number[]) => Math.max(...xs);
  const list = (xs: number[]) => xs.map((r) => r.toFixed(2)).join(", ");
  rows.push({ backbone: "InceptionV3 on 2 worker threads", layer: "mixed10", dim: 8 * 8 * 2048, rate: best(two) });
  rows.push({
    backbone: "InceptionV3 on 2 worker threads, unfolded",
    layer: "mixed10",
    dim: 8 * 8 * 2048,
    rate: best(keras),
  });
  console.log(
    `  InceptionV3 mixed10: 1 thread ${list(one)}, 2 threads ${list(two)}, 2 threads unfolded ${list(keras)} images/s; best 2/1 = ${(best(two) / best(one)).toFixed(2)}x, folded/unfolded = ${(best(two) / best(keras)).toFixed(2)}x`,
  );
  if (ONLY !== null) return;

  const ref = rows.find((r) => r.backbone.startsWith("MobileNetV2") && r.layer === "out_relu")!.rate;
  console.log(`\n| backbone | layer | features | images/s | ms/image | vs MobileNetV2 out_relu |`);
  console.log(`|---|---|---:|---:|---:|---:|`);
  for (const r of rows) {
    console.log(
      `| ${r.backbone} | ${r.layer} | ${r.dim} | ${r.rate.toFixed(2)} | ${(1000 / r.rate).toFixed(1)} | ${(r.rate / ref).toFixed(2)}x |`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
