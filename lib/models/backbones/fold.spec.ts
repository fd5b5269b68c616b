import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend, tf } from "../../runtime/backend";
import { Random } from "../../runtime/random";
import { RgbImage } from "./backbone";
import { FOLDED_COMPUTATION, FoldedModel, foldBatchNorm } from "./fold";
import { InceptionV3, INCEPTION_LAYERS } from "./inception";
import { MOBILENET_LAYERS, MobileNetV2 } from "./mobilenet";
import { NsfwjsBackbone, loadNsfwjsModel } from "./nsfwjs";

before(async () => {
  await initBackend("wasm");
});

test("foldBatchNorm: scale into each output channel's filter, beta + (bias - mean) * scale as the bias", () => {
  // A [1, 1, 2, 2] Conv2D filter (2 inputs, 2 output channels): the output channel is the last index.
  const kernel = new Float32Array([1, 2, 3, 4]);
  const bn = {
    gamma: new Float32Array([2, -0.5]),
    beta: new Float32Array([0.25, 1]),
    mean: new Float32Array([1, -2]),
    variance: new Float32Array([3, 0.75]),
    epsilon: 1,
  };
  const got = foldBatchNorm(kernel, 2, new Float32Array([0.5, 0]), bn);
  // s = gamma / sqrt(variance + epsilon) = [2 / 2, -0.5 / sqrt(1.75)].
  const s1 = -0.5 / Math.sqrt(1.75);
  assert.deepEqual([...got.filter], [1, 2 * s1, 3, 4 * s1].map(Math.fround));
  assert.deepEqual([...got.bias], [0.25 + (0.5 - 1) * 1, 1 + (0 + 2) * s1].map(Math.fround));
  // scale: false (InceptionV3) counts gamma as 1, center: false beta as 0, no conv bias as 0.
  const plain = foldBatchNorm(kernel, 2, null, { ...bn, gamma: null, beta: null });
  assert.deepEqual([...plain.bias], [-1 / 2, 2 / Math.sqrt(1.75)].map(Math.fround));
  assert.deepEqual([...plain.filter], [1 / 2, 2 / Math.sqrt(1.75), 3 / 2, 4 / Math.sqrt(1.75)].map(Math.fround));
  assert.throws(() => foldBatchNorm(new Float32Array(5), 2, null, bn), /5 filter values are not a multiple of 2/);
});

// ---- A hand-made model against a float64 reference ----

type Vol = { h: number; w: number; c: number; v: Float64Array };

/** TensorFlow's padding before the first row/column for "same" (the extra one goes after). */
function padBefore(size: number, k: number, stride: number, padding: "same" | "valid"): [number, number] {
  if (padding === "valid") return [0, Math.floor((size - k) / stride) + 1];
  const out = Math.ceil(size / stride);
  return [Math.floor(Math.max((out - 1) * stride + k - size, 0) / 2), out];
}

/** NHWC convolution in float64; depthwise when `multiplier` is given (kernel [k, k, in, multiplier]). */
function conv(
  x: Vol,
  kernel: Float32Array,
  k: number,
  cout: number,
  stride: number,
  padding: "same" | "valid",
  multiplier?: number,
): Vol {
  const [pt, h] = padBefore(x.h, k, stride, padding);
  const [pl, w] = padBefore(x.w, k, stride, padding);
  const v = new Float64Array(h * w * cout);
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++)
      for (let o = 0; o < cout; o++) {
        let sum = 0;
        for (let a = 0; a < k; a++)
          for (let b = 0; b < k; b++) {
            const y = i * stride + a - pt;
            const z = j * stride + b - pl;
            if (y < 0 || z < 0 || y >= x.h || z >= x.w) continue;
            if (multiplier === undefined)
              for (let ci = 0; ci < x.c; ci++)
                sum += x.v[(y * x.w + z) * x.c + ci] * kernel[((a * k + b) * x.c + ci) * cout + o];
            else {
              const ci = Math.floor(o / multiplier);
              sum += x.v[(y * x.w + z) * x.c + ci] * kernel[((a * k + b) * x.c + ci) * multiplier + (o % multiplier)];
            }
          }
        v[(i * w + j) * cout + o] = sum;
      }
  return { h, w, c: cout, v };
}

interface BnWeights {
  gamma: Float32Array | null;
  beta: Float32Array | null;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

/** Conv bias, then inference BatchNorm, then the activation, in float64. */
function bnAct(x: Vol, bias: Float32Array | null, bn: BnWeights, act: "linear" | "relu" | "relu6"): Vol {
  const v = x.v.map((t, i) => {
    const c = i % x.c;
    const y = t + (bias ? bias[c] : 0);
    const n =
      ((bn.gamma ? bn.gamma[c] : 1) * (y - bn.mean[c])) / Math.sqrt(bn.variance[c] + bn.epsilon) +
      (bn.beta ? bn.beta[c] : 0);
    return act === "linear" ? n : act === "relu" ? Math.max(n, 0) : Math.min(Math.max(n, 0), 6);
  });
  return { ...x, v };
}

/** Zero padding of a volume: `top`, `bottom`, `left`, `right` rows and columns. */
function zeroPad(x: Vol, top: number, bottom: number, left: number, right: number): Vol {
  const h = x.h + top + bottom;
  const w = x.w + left + right;
  const v = new Float64Array(h * w * x.c);
  for (let i = 0; i < x.h; i++)
    for (let j = 0; j < x.w; j++)
      for (let c = 0; c < x.c; c++) v[((i + top) * w + j + left) * x.c + c] = x.v[(i * x.w + j) * x.c + c];
  return { h, w, c: x.c, v };
}

/**
 * Input 9x9x3 → Conv2D 3x3 stride 2 "same" (no bias) → BatchNorm → ReLU6 → ZeroPadding2D
 * (1 row on top, 2 columns on the right, as MobileNetV2 pads before its strided depthwise
 * convolutions) → DepthwiseConv2D 3x3 "valid", multiplier 2, with bias → BatchNorm (scale: false, as InceptionV3's) → Activation relu
 * → Conv2D 1x1 with bias → BatchNorm (center: false), linear. Weights seeded, BatchNorm
 * statistics far from 0 and 1, so that a fold that drops a term cannot pass.
 */
function tinyModel(seed: number) {
  const rng = new Random(seed);
  const u = (n: number, lo: number, hi: number) =>
    Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform());
  const bnWeights = (c: number, scale: boolean, center: boolean, epsilon: number): BnWeights => ({
    gamma: scale ? u(c, -1.5, 2.5) : null,
    beta: center ? u(c, -2, 3) : null,
    mean: u(c, -1, 1),
    variance: u(c, 0.05, 4),
    epsilon,
  });
  const w = {
    k1: u(3 * 3 * 3 * 4, -1, 1),
    bn1: bnWeights(4, true, true, 1e-3),
    k2: u(3 * 3 * 4 * 2, -1, 1),
    b2: u(8, -0.5, 0.5),
    bn2: bnWeights(8, false, true, 1e-3),
    k3: u(8 * 5, -1, 1),
    b3: u(5, -0.5, 0.5),
    bn3: bnWeights(5, true, false, 1e-2),
  };
  const input = tf.input({ shape: [9, 9, 3], name: "input" });
  const l = {
    c1: tf.layers.conv2d({ name: "c1", filters: 4, kernelSize: 3, strides: 2, padding: "same", useBias: false }),
    bn1: tf.layers.batchNormalization({ name: "bn1", epsilon: 1e-3 }),
    r1: tf.layers.reLU({ name: "r1", maxValue: 6 }),
    p2: tf.layers.zeroPadding2d({
      name: "p2",
      padding: [
        [1, 0],
        [0, 2],
      ],
    }),
    c2: tf.layers.depthwiseConv2d({ name: "c2", kernelSize: 3, depthMultiplier: 2, padding: "valid", useBias: true }),
    bn2: tf.layers.batchNormalization({ name: "bn2", epsilon: 1e-3, scale: false }),
    r2: tf.layers.activation({ name: "r2", activation: "relu" }),
    c3: tf.layers.conv2d({ name: "c3", filters: 5, kernelSize: 1, useBias: true }),
    bn3: tf.layers.batchNormalization({ name: "bn3", epsilon: 1e-2, center: false }),
  };
  let y = input;
  for (const layer of Object.values(l)) y = layer.apply(y) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: y });
  const bnList = (b: BnWeights) =>
    [b.gamma, b.beta, b.mean, b.variance].filter((t): t is Float32Array => t !== null).map((t) => tf.tensor1d(t));
  l.c1.setWeights([tf.tensor4d(w.k1, [3, 3, 3, 4])]);
  l.bn1.setWeights(bnList(w.bn1));
  l.c2.setWeights([tf.tensor4d(w.k2, [3, 3, 4, 2]), tf.tensor1d(w.b2)]);
  l.bn2.setWeights(bnList(w.bn2));
  l.c3.setWeights([tf.tensor4d(w.k3, [1, 1, 8, 5]), tf.tensor1d(w.b3)]);
  l.bn3.setWeights(bnList(w.bn3));
  const reference = (x: Float32Array): Record<string, Vol> => {
    const x0: Vol = { h: 9, w: 9, c: 3, v: Float64Array.from(x) };
    const r1 = bnAct(conv(x0, w.k1, 3, 4, 2, "same"), null, w.bn1, "relu6");
    const p2 = zeroPad(r1, 1, 0, 0, 2);
    const bn2 = bnAct(conv(p2, w.k2, 3, 8, 1, "valid", 2), w.b2, w.bn2, "linear");
    const r2 = bnAct(conv(p2, w.k2, 3, 8, 1, "valid", 2), w.b2, w.bn2, "relu");
    const bn3 = bnAct(conv(r2, w.k3, 1, 5, 1, "valid"), w.b3, w.bn3, "linear");
    return { r1, bn2, r2, bn3 };
  };
  return { model, reference };
}

/** The largest |a - b| and the largest |b|. */
function worst(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; scale: number } {
  assert.equal(a.length, b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { diff, scale };
}

test("a hand-made Conv→BN→ReLU6, DepthwiseConv→BN(scale: false)→relu, Conv→BN model folds to its float64 values", () => {
  const { model, reference } = tinyModel(411);
  const folded = new FoldedModel(model);
  const xs = Float32Array.from({ length: 9 * 9 * 3 }, (_, i) => Math.sin(i * 0.7) * 2);
  const x = tf.tensor4d(xs, [1, 9, 9, 3]);
  const ref = reference(xs);
  const outputs = ["r1", "r2", "bn3"];
  assert.deepEqual(folded.counts(outputs), { folded: 3, fusedActivations: 2, layers: 0, batchNorms: 0, paddings: 1 });
  const got = tf.tidy(() => folded.predict(x, outputs).map((t) => t.dataSync() as Float32Array));
  const keras = tf.tidy(() =>
    (
      tf
        .model({ inputs: model.inputs, outputs: outputs.map((o) => model.getLayer(o).output as tf.SymbolicTensor) })
        .predict(x) as tf.Tensor[]
    ).map((t) => t.dataSync() as Float32Array),
  );
  outputs.forEach((o, i) => {
    const r = ref[o].v;
    // The ReLU6 clamps some values at 0 and some at 6, and the relu some at 0: the test covers the clamps.
    if (o === "r1") assert.ok(r.some((v) => v === 6) && r.some((v) => v === 0), "r1 hits both clamps");
    // Both the folded and the Keras layers are float32 computations of the float64 reference:
    // measured max |diff| / max |value| 1e-7 to 3e-7 for both (a few float32 roundings); an
    // epsilon of 1e-5 in place of the layers' own gives 5e-4.
    for (const [name, values] of [
      ["folded", got[i]],
      ["keras", keras[i]],
    ] as const) {
      const { diff, scale } = worst(values, r);
      assert.ok(diff <= 1e-6 * scale, `${o} (${name}): max |diff| ${diff} against max |value| ${scale}`);
    }
  });
  x.dispose();
  folded.dispose();
});

test("a layer inside a group asked for as an output is the Keras layer's tensor; the other groups stay folded", () => {
  const { model, reference } = tinyModel(7);
  const folded = new FoldedModel(model);
  const xs = Float32Array.from({ length: 9 * 9 * 3 }, (_, i) => Math.cos(i * 0.3) * 3);
  const x = tf.tensor4d(xs, [1, 9, 9, 3]);
  const keras = (names: string[]) =>
    tf.tidy(() => {
      const m = tf.model({
        inputs: model.inputs,
        outputs: names.map((o) => model.getLayer(o).output as tf.SymbolicTensor),
      });
      const y = m.predict(x);
      return (Array.isArray(y) ? y : [y]).map((t) => t.dataSync() as Float32Array);
    });
  // The first convolution's own output: its group runs as three Keras layers, bit for bit Keras's.
  assert.deepEqual(folded.counts(["c1", "bn3"]), {
    folded: 2,
    fusedActivations: 1,
    layers: 3,
    batchNorms: 1,
    paddings: 1,
  });
  const [c1, bn3] = tf.tidy(() => folded.predict(x, ["c1", "bn3"]).map((t) => t.dataSync() as Float32Array));
  assert.deepEqual(c1, keras(["c1"])[0]);
  const { diff, scale } = worst(bn3, reference(xs).bn3.v);
  assert.ok(diff <= 1e-6 * scale, `bn3: max |diff| ${diff} against max |value| ${scale}`);
  // A BatchNormalization asked for: folded into its convolution, the activation after it runs as a layer.
  assert.deepEqual(folded.counts(["bn2"]), { folded: 2, fusedActivations: 1, layers: 0, batchNorms: 0, paddings: 1 });
  assert.deepEqual(folded.counts(["bn2", "r2"]), {
    folded: 2,
    fusedActivations: 1,
    layers: 1,
    batchNorms: 0,
    paddings: 1,
  });
  // The padding asked for: run as its layer, the convolution then "valid" on it; the same floats
  // as the padding done inside the convolution.
  assert.deepEqual(folded.counts(["p2", "bn3"]), {
    folded: 3,
    fusedActivations: 2,
    layers: 1,
    batchNorms: 0,
    paddings: 0,
  });
  const [, viaLayer] = tf.tidy(() => folded.predict(x, ["p2", "bn3"]).map((t) => t.dataSync() as Float32Array));
  const [alone] = tf.tidy(() => folded.predict(x, ["bn3"]).map((t) => t.dataSync() as Float32Array));
  assert.deepEqual(viaLayer, alone);
  const [bn2] = tf.tidy(() => folded.predict(x, ["bn2"]).map((t) => t.dataSync() as Float32Array));
  const w2 = worst(bn2, reference(xs).bn2.v);
  assert.ok(w2.diff <= 1e-6 * w2.scale, `bn2: max |diff| ${w2.diff} against max |value| ${w2.scale}`);
  assert.throws(() => folded.predict(x, ["nope"]), /has no layer "nope"/);
  const before = tf.memory().numTensors;
  tf.dispose(folded.predict(x, ["r1", "bn3"]));
  assert.equal(tf.memory().numTensors, before, "intermediate tensors are released");
  x.dispose();
  folded.dispose();
});

// ---- The real models: folded against the Keras layers as they are ----

function images(n: number, size: number, seed: number): RgbImage[] {
  const rng = new Random(seed);
  // Smooth gradients with noise, closer to photographs than uniform noise (activations of every size).
  return Array.from({ length: n }, (_, k) => ({
    width: size,
    height: size,
    data: Float32Array.from({ length: size * size * 3 }, (_, i) => {
      const p = Math.floor(i / 3);
      const v = 0.5 + 0.4 * Math.sin((p % size) * 0.05 * (k + 1) + (i % 3)) * Math.cos(Math.floor(p / size) * 0.03);
      return Math.min(1, Math.max(0, v + 0.1 * (rng.uniform() - 0.5)));
    }),
  }));
}

/**
 * Every tap of `backbone` folded against the same weights unfolded. Measured max |diff| / max
 * |value| per tap, over these images: MobileNetV2 2.8e-6 to 9.3e-6 (max |diff| 5e-5 to 1.3e-4;
 * out_relu the highest, its values capped at 6), InceptionV3 1.6e-6 to 3.6e-6 (max |diff| 7e-6
 * to 1.9e-5): float32 rounding accumulated over 50 to 100 layers. The tolerance, 3e-5, is three
 * times the worst; a wrong fold (an epsilon off, a missing beta) moves values by 1e-3 and more.
 */
async function compareTaps(folded: NsfwjsBackbone, keras: NsfwjsBackbone, imgs: RgbImage[]): Promise<void> {
  assert.equal(folded.computation, FOLDED_COMPUTATION);
  assert.equal(keras.computation, undefined);
  assert.equal(folded.name, keras.name, "the display name does not change");
  const layers = folded.layers.map((l) => l.name);
  const a = await folded.activationsAt(imgs, layers);
  const b = await keras.activationsAt(imgs, layers);
  for (const layer of layers) {
    let diff = 0;
    let scale = 0;
    a.get(layer)!.forEach((f, i) => {
      const w = worst(f, b.get(layer)![i]);
      diff = Math.max(diff, w.diff);
      scale = Math.max(scale, w.scale);
    });
    assert.ok(scale > 0.5, `${layer}: activations of size (max |value| ${scale})`);
    assert.ok(diff <= 3e-5 * scale, `${folded.name} ${layer}: max |diff| ${diff}, max |value| ${scale}`);
  }
  // One layer alone gives that layer of the pass through all of them, bit for bit.
  const one = await folded.activations(imgs.slice(0, 1), layers[1]);
  assert.deepEqual(one[0], a.get(layers[1])![0]);
}

test(
  "MobileNetV2 folded: every tap layer agrees with the Keras layers to float32 rounding",
  { timeout: 120_000 },
  async () => {
    const model = await loadNsfwjsModel("mobilenet_v2");
    const folded = new NsfwjsBackbone("mobilenet", 224, MOBILENET_LAYERS, model, true);
    const keras = new NsfwjsBackbone("mobilenet", 224, MOBILENET_LAYERS, model, false);
    const fm = new FoldedModel(model);
    // All 52 BatchNormalization layers folded, all 35 ReLU6 fused, the 5 zero paddings done by
    // the convolutions after them; left: the 10 adds.
    assert.deepEqual(fm.counts(MOBILENET_LAYERS.map((l) => l.name)), {
      folded: 52,
      fusedActivations: 35,
      layers: 10,
      batchNorms: 0,
      paddings: 5,
    });
    fm.dispose();
    await compareTaps(folded, keras, images(3, 227, 1));
    folded.dispose();
  },
);

test(
  "InceptionV3 folded (BatchNorm with scale: false): every tap agrees with the Keras layers",
  { timeout: 300_000 },
  async () => {
    const model = await loadNsfwjsModel("inception_v3");
    const folded = new NsfwjsBackbone("inception", 299, INCEPTION_LAYERS, model, true);
    const keras = new NsfwjsBackbone("inception", 299, INCEPTION_LAYERS, model, false);
    const fm = new FoldedModel(model);
    assert.deepEqual(fm.counts(INCEPTION_LAYERS.map((l) => l.name)), {
      folded: 94,
      fusedActivations: 94,
      layers: 28,
      batchNorms: 0,
      paddings: 0,
    });
    fm.dispose();
    await compareTaps(folded, keras, images(2, 227, 2));
    folded.dispose();
  },
);

test("the backbones notebook 10 loads run folded, with their names unchanged", async () => {
  const m = await MobileNetV2.load();
  assert.equal(m.name, "mobilenet_v2-nsfwjs-4.4.0");
  assert.equal(m.computation, FOLDED_COMPUTATION);
  m.dispose();
  const unfolded = await MobileNetV2.load(false);
  assert.equal(unfolded.computation, undefined, "unfolded: the computation, and cache files, of before");
  unfolded.dispose();
  const i = await InceptionV3.load();
  assert.equal(i.name, "inception_v3-nsfwjs-4.4.0");
  assert.equal(i.computation, FOLDED_COMPUTATION);
  i.dispose();
});
