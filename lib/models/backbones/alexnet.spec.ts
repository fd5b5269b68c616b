import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Random } from "../../runtime/random";
import { initBackend, tf } from "../../runtime/backend";
import { formatNpy } from "./npy";
import {
  ALEXNET_WEIGHTS_FORMAT,
  AlexNet,
  AlexNetSpec,
  TORCHVISION_ALEXNET,
  alexNetLayers,
  alexNetPreprocess,
  alexNetWeightShapes,
  alexNetWeightsAvailable,
  readAlexNetWeights,
} from "./alexnet";
import { RgbImage } from "./backbone";

// Same geometry as torchvision's AlexNet (227 input, same kernels, strides, padding), few channels.
const TINY: AlexNetSpec = [4, 6, 8, 6, 5];

/** Writes a weights folder as scripts/alexnet-weights.py does: <key>.npy in PyTorch layout + manifest.json. */
function writeWeights(dir: string, spec: AlexNetSpec, seed: number): Map<string, Float32Array> {
  const rng = new Random(seed);
  const written = new Map<string, Float32Array>();
  const arrays: Record<string, { shape: number[]; sha256: string }> = {};
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, shape] of alexNetWeightShapes(spec)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, () => rng.normal() * 0.1);
    const bytes = formatNpy({ shape, data });
    fs.writeFileSync(path.join(dir, `${name}.npy`), bytes);
    arrays[name] = { shape, sha256: crypto.createHash("sha256").update(bytes).digest("hex") };
    written.set(name, data);
  }
  fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ format: ALEXNET_WEIGHTS_FORMAT, arrays }));
  return written;
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "alexnet-spec-"));
}

function knownImage(size = 227): RgbImage {
  const data = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      for (let c = 0; c < 3; c++) data[(y * size + x) * 3 + c] = ((x * 7 + y * 3 + c * 50) % 256) / 255;
  return { width: size, height: size, data };
}

before(async () => {
  await initBackend();
});

test("weight keys and shapes are torchvision's alexnet().features state dict", () => {
  assert.deepEqual(Object.fromEntries(alexNetWeightShapes(TORCHVISION_ALEXNET)), {
    "features.0.weight": [64, 3, 11, 11],
    "features.0.bias": [64],
    "features.3.weight": [192, 64, 5, 5],
    "features.3.bias": [192],
    "features.6.weight": [384, 192, 3, 3],
    "features.6.bias": [384],
    "features.8.weight": [256, 384, 3, 3],
    "features.8.bias": [256],
    "features.10.weight": [256, 256, 3, 3],
    "features.10.bias": [256],
  });
});

test("tap shapes for a 227x227 input; conv4 is the report's 43,264 features", () => {
  assert.deepEqual(Object.fromEntries(alexNetLayers().map((l) => [l.name, l.shape])), {
    pool1: [27, 27, 64],
    pool2: [13, 13, 192],
    conv3: [13, 13, 384],
    conv4: [13, 13, 256],
    conv4_relu: [13, 13, 256],
    conv5: [13, 13, 256],
    pool5: [6, 6, 256],
  });
  assert.equal(13 * 13 * 256, 43264);
});

test("weights round trip: what the test writes is what the loader reads", () => {
  const dir = tmp();
  const written = writeWeights(dir, TINY, 1);
  assert.equal(alexNetWeightsAvailable(dir), true);
  const read = readAlexNetWeights(dir, TINY);
  assert.deepEqual([...read.keys()].sort(), [...written.keys()].sort());
  for (const [name, data] of written) assert.deepEqual(read.get(name)!.data, data, name);
});

test("tiny AlexNet gives every tap's declared shape, also for an image that needs resizing", async () => {
  const dir = tmp();
  writeWeights(dir, TINY, 2);
  const net = await AlexNet.load(dir, TINY);
  for (const layer of net.layers) {
    const [a, b] = await net.activations([knownImage(), knownImage(200)], layer.name);
    assert.equal(
      a.length,
      layer.shape.reduce((x, y) => x * y, 1),
      layer.name,
    );
    assert.equal(b.length, a.length);
    assert.ok(a.every(Number.isFinite));
  }
  net.dispose();
});

// Reference conv1 by loops: PyTorch's symmetric padding of 2, kernel [out, in, kh, kw],
// bias, on ImageNet-normalised input. 'same' padding would shift every position.
test("conv1 (features[:1]) matches a direct computation with symmetric padding 2", async () => {
  const dir = tmp();
  const w = writeWeights(dir, TINY, 3);
  const net = await AlexNet.load(dir, TINY);
  const img = knownImage();
  const x = tf.tidy(() => net.forward(alexNetPreprocess(tf.tensor4d(img.data, [1, 227, 227, 3])), 1).dataSync());
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const px = (y: number, xx: number, c: number) =>
    y < 0 || xx < 0 || y >= 227 || xx >= 227 ? 0 : (img.data[(y * 227 + xx) * 3 + c] - mean[c]) / std[c];
  const W = w.get("features.0.weight")!;
  const B = w.get("features.0.bias")!;
  for (const [oy, ox, o] of [
    [0, 0, 0],
    [10, 20, 1],
    [55, 55, 3],
    [30, 0, 2],
  ]) {
    let s = B[o];
    for (let c = 0; c < 3; c++)
      for (let ky = 0; ky < 11; ky++)
        for (let kx = 0; kx < 11; kx++)
          s += px(oy * 4 - 2 + ky, ox * 4 - 2 + kx, c) * W[((o * 3 + c) * 11 + ky) * 11 + kx];
    const got = x[(oy * 56 + ox) * TINY[0] + o];
    assert.ok(Math.abs(got - s) < 1e-4 * (1 + Math.abs(s)), `conv1[${oy},${ox},${o}] = ${got}, expected ${s}`);
  }
  net.dispose();
});

test("conv4 is taken before its ReLU: conv4_relu is max(conv4, 0) and conv4 has negative values", async () => {
  const dir = tmp();
  writeWeights(dir, TINY, 4);
  const net = await AlexNet.load(dir, TINY);
  const [pre] = await net.activations([knownImage()], "conv4");
  const [post] = await net.activations([knownImage()], "conv4_relu");
  assert.ok(pre.some((v) => v < 0));
  assert.deepEqual(
    post,
    pre.map((v) => Math.max(v, 0)),
  );
  net.dispose();
});

// Each malformed folder must fail naming the file, the problem, and how to get real weights.
const MALFORMED: { name: string; damage: (dir: string) => void; message: RegExp }[] = [
  { name: "missing folder", damage: (dir) => fs.rmSync(dir, { recursive: true }), message: /does not exist/ },
  {
    name: "no manifest",
    damage: (dir) => fs.rmSync(path.join(dir, "manifest.json")),
    message: /has no manifest\.json/,
  },
  {
    name: "manifest of another format",
    damage: (dir) => fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ format: "bvlc", arrays: {} })),
    message: /manifest\.json: format "bvlc" is not csc411-alexnet-torchvision-1/,
  },
  {
    name: "missing file",
    damage: (dir) => fs.rmSync(path.join(dir, "features.8.bias.npy")),
    message: /lacks features\.8\.bias\.npy/,
  },
  {
    name: "truncated file",
    damage: (dir) => {
      const f = path.join(dir, "features.6.weight.npy");
      fs.writeFileSync(f, fs.readFileSync(f).subarray(0, 200));
    },
    message: /features\.6\.weight\.npy: SHA-256 .* differs from the manifest's/,
  },
  {
    name: "wrong shape (manifest rewritten to match)",
    damage: (dir) => {
      const bytes = formatNpy({ shape: [6, 8, 3, 2], data: new Float32Array(288) });
      fs.writeFileSync(path.join(dir, "features.8.weight.npy"), bytes);
      const m = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"));
      m.arrays["features.8.weight"].sha256 = crypto.createHash("sha256").update(bytes).digest("hex");
      fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(m));
    },
    message: /features\.8\.weight\.npy: shape \[6,8,3,2\] but AlexNet .* needs \[6,8,3,3\]/,
  },
];

for (const bad of MALFORMED) {
  test(`malformed weights (${bad.name}) fail clearly`, async () => {
    const dir = tmp();
    writeWeights(dir, TINY, 5);
    bad.damage(dir);
    await assert.rejects(AlexNet.load(dir, TINY), (e: Error) => {
      assert.match(e.message, bad.message);
      assert.match(e.message, /https:\/\/download\.pytorch\.org\/models\/alexnet-owt-7be5be79\.pth/);
      assert.match(e.message, /scripts\/alexnet-weights\.py alexnet-owt-7be5be79\.pth/);
      return true;
    });
  });
}
