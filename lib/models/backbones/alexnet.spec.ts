import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Random } from "../../runtime/random";
import { initBackend, tf } from "../../runtime/backend";
import { formatNpy } from "./npy";
import {
  AlexNet,
  AlexNetSpec,
  BVLC_ALEXNET,
  alexNetWeightShapes,
  groupedConv2d,
  lrn,
  readAlexNetWeights,
} from "./alexnet";
import { RgbImage } from "./backbone";

// Same geometry as BVLC AlexNet (227 input, same kernels, strides and groups), few channels.
const TINY: AlexNetSpec = { conv: [4, 6, 8, 6, 4], fc: [10, 8, 5] };

function writeWeights(dir: string, spec: AlexNetSpec, seed: number): Map<string, Float32Array> {
  const rng = new Random(seed);
  const written = new Map<string, Float32Array>();
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, shape] of alexNetWeightShapes(spec)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, () => rng.normal() * 0.1);
    fs.writeFileSync(path.join(dir, `${name}.npy`), formatNpy({ shape, data }));
    written.set(name, data);
  }
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

test("BVLC weight names and shapes match bvlc_alexnet.npy", () => {
  assert.deepEqual(Object.fromEntries(alexNetWeightShapes(BVLC_ALEXNET)), {
    conv1_W: [11, 11, 3, 96],
    conv1_b: [96],
    conv2_W: [5, 5, 48, 256],
    conv2_b: [256],
    conv3_W: [3, 3, 256, 384],
    conv3_b: [384],
    conv4_W: [3, 3, 192, 384],
    conv4_b: [384],
    conv5_W: [3, 3, 192, 256],
    conv5_b: [256],
    fc6_W: [9216, 4096],
    fc6_b: [4096],
    fc7_W: [4096, 4096],
    fc7_b: [4096],
    fc8_W: [4096, 1000],
    fc8_b: [1000],
  });
});

test("weights round trip: what the test writes is what the loader reads", () => {
  const dir = tmp();
  const written = writeWeights(dir, TINY, 1);
  const read = readAlexNetWeights(dir, TINY);
  assert.deepEqual([...read.keys()].sort(), [...written.keys()].sort());
  for (const [name, data] of written) {
    assert.deepEqual(read.get(name)!.data, data, name);
    assert.deepEqual(read.get(name)!.shape, alexNetWeightShapes(TINY).get(name));
  }
});

test("tiny AlexNet gives every tap layer's declared shape for a known input", async () => {
  const dir = tmp();
  writeWeights(dir, TINY, 2);
  const net = await AlexNet.load(dir, TINY);
  const expected: Record<string, number[]> = {
    conv1: [57, 57, 4],
    conv2: [28, 28, 6],
    conv3: [13, 13, 8],
    conv4: [13, 13, 6],
    conv5: [13, 13, 4],
    pool5: [6, 6, 4],
    fc6: [10],
    fc7: [8],
    fc8: [5],
  };
  assert.deepEqual(Object.fromEntries(net.layers.map((l) => [l.name, l.shape])), expected);
  const img = knownImage();
  for (const layer of net.layers) {
    const [a, b] = await net.activations([img, knownImage(200)], layer.name);
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

// Reference conv1 by loops: SAME padding (4 each side for 11x11/4 on 227), bias, ReLU,
// on myalexnet's preprocessing (x255, minus the image mean, BGR).
test("conv1 matches a direct computation at sampled positions", async () => {
  const dir = tmp();
  const w = writeWeights(dir, TINY, 3);
  const net = await AlexNet.load(dir, TINY);
  const img = knownImage();
  const [act] = await net.activations([img], "conv1");
  const mean = img.data.reduce((a, b) => a + b * 255, 0) / img.data.length;
  const px = (y: number, x: number, c: number) =>
    y < 0 || x < 0 || y >= 227 || x >= 227 ? 0 : img.data[(y * 227 + x) * 3 + (2 - c)] * 255 - mean;
  const W = w.get("conv1_W")!;
  const B = w.get("conv1_b")!;
  for (const [oy, ox, o] of [
    [0, 0, 0],
    [10, 20, 1],
    [56, 56, 3],
    [30, 5, 2],
  ]) {
    let s = B[o];
    for (let ky = 0; ky < 11; ky++)
      for (let kx = 0; kx < 11; kx++)
        for (let c = 0; c < 3; c++) s += px(oy * 4 - 4 + ky, ox * 4 - 4 + kx, c) * W[((ky * 11 + kx) * 3 + c) * 4 + o];
    const got = act[(oy * 57 + ox) * 4 + o];
    assert.ok(
      Math.abs(got - Math.max(s, 0)) < 1e-3 * (1 + Math.abs(s)),
      `conv1[${oy},${ox},${o}] = ${got}, expected ${Math.max(s, 0)}`,
    );
  }
  net.dispose();
});

test("grouped convolution equals separate convolutions on channel halves", () => {
  const rng = new Random(4);
  const [h, wd, cin, cout, k] = [5, 6, 4, 6, 3];
  const x = Float32Array.from({ length: h * wd * cin }, () => rng.normal());
  const W = Float32Array.from({ length: k * k * (cin / 2) * cout }, () => rng.normal());
  const b = Float32Array.from({ length: cout }, () => rng.normal());
  const y = tf.tidy(() =>
    groupedConv2d(
      tf.tensor4d(x, [1, h, wd, cin]),
      tf.tensor4d(W, [k, k, cin / 2, cout]),
      tf.tensor1d(b),
      1,
      2,
    ).dataSync(),
  );
  // Output channel o uses input channels of its group only: group = o < cout/2 ? 0 : 1.
  for (let oy = 0; oy < h; oy++)
    for (let ox = 0; ox < wd; ox++)
      for (let o = 0; o < cout; o++) {
        const g = o < cout / 2 ? 0 : 1;
        let s = b[o];
        for (let ky = 0; ky < k; ky++)
          for (let kx = 0; kx < k; kx++) {
            const iy = oy + ky - 1;
            const ix = ox + kx - 1;
            if (iy < 0 || ix < 0 || iy >= h || ix >= wd) continue;
            for (let c = 0; c < cin / 2; c++)
              s += x[(iy * wd + ix) * cin + g * (cin / 2) + c] * W[((ky * k + kx) * (cin / 2) + c) * cout + o];
          }
        assert.ok(Math.abs(y[(oy * wd + ox) * cout + o] - s) < 1e-4, `y[${oy},${ox},${o}]`);
      }
});

test("LRN uses radius 2, alpha 2e-5, beta 0.75, bias 1 over channels", () => {
  const c = 7;
  const x = Float32Array.from({ length: c }, (_, i) => (i - 3) * 40);
  const y = tf.tidy(() => lrn(tf.tensor4d(x, [1, 1, 1, c])).dataSync());
  for (let i = 0; i < c; i++) {
    let sq = 0;
    for (let j = Math.max(0, i - 2); j <= Math.min(c - 1, i + 2); j++) sq += x[j] * x[j];
    const expected = x[i] / Math.pow(1 + 2e-5 * sq, 0.75);
    assert.ok(Math.abs(y[i] - expected) < 1e-3, `lrn[${i}] = ${y[i]}, expected ${expected}`);
  }
});

// Each malformed folder must fail naming the file, the problem, and how to get real weights.
const MALFORMED: { name: string; damage: (dir: string) => void; message: RegExp }[] = [
  { name: "missing folder", damage: (dir) => fs.rmSync(dir, { recursive: true }), message: /does not exist/ },
  { name: "missing file", damage: (dir) => fs.rmSync(path.join(dir, "fc7_b.npy")), message: /lacks fc7_b\.npy/ },
  {
    name: "wrong shape",
    damage: (dir) =>
      fs.writeFileSync(path.join(dir, "conv4_W.npy"), formatNpy({ shape: [3, 3, 8, 6], data: new Float32Array(432) })),
    message: /conv4_W\.npy: shape \[3,3,8,6\] but AlexNet .* needs \[3,3,4,6\]/,
  },
  {
    name: "float64 file",
    damage: (dir) => {
      const f = path.join(dir, "conv1_b.npy");
      const b = Buffer.from(fs.readFileSync(f));
      b.write("<f8", b.indexOf("<f4"), "latin1");
      fs.writeFileSync(f, Buffer.concat([b, Buffer.alloc(16)]));
    },
    message: /conv1_b\.npy: dtype <f8/,
  },
  {
    name: "truncated file",
    damage: (dir) => {
      const f = path.join(dir, "fc6_W.npy");
      fs.writeFileSync(f, fs.readFileSync(f).subarray(0, 200));
    },
    message: /fc6_W\.npy: shape \[144,10\] needs 5760 data bytes but the file has/,
  },
  {
    name: "pickle instead of npy",
    damage: (dir) => fs.writeFileSync(path.join(dir, "conv2_W.npy"), "\x80\x02}q\x00"),
    message: /conv2_W\.npy: not a \.npy file/,
  },
  {
    name: "NaN weights",
    damage: (dir) =>
      fs.writeFileSync(
        path.join(dir, "fc8_b.npy"),
        formatNpy({ shape: [5], data: Float32Array.from([0, NaN, 0, 0, 0]) }),
      ),
    message: /fc8_b\.npy: value NaN at flat index 1/,
  },
];

for (const bad of MALFORMED) {
  test(`malformed weights (${bad.name}) fail clearly`, async () => {
    const dir = tmp();
    writeWeights(dir, TINY, 5);
    bad.damage(dir);
    await assert.rejects(AlexNet.load(dir, TINY), (e: Error) => {
      assert.match(e.message, bad.message);
      assert.match(e.message, /bvlc_alexnet\.npy/);
      assert.match(e.message, /scripts\/alexnet-weights\.py/);
      return true;
    });
  });
}
