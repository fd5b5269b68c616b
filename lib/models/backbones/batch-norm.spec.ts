import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend, tf } from "../../runtime/backend";
import { Random } from "../../runtime/random";
import { batchNormCalls, instantiateBatchNormKernel, useBatchNormKernel } from "./batch-norm";

before(async () => {
  await initBackend("wasm");
});

interface Case {
  name: string;
  shape: number[];
  /** Parameters per channel (1-D of the last dimension) unless given another shape. */
  paramShape?: number[];
  scale: boolean;
  offset: boolean;
  epsilon: number;
  /** Whether the SIMD kernel serves it (else tfjs's kernel does). */
  simd: boolean;
}

const CASES: Case[] = [
  { name: "MobileNetV2-like, 4 channels", shape: [2, 3, 5, 4], scale: true, offset: true, epsilon: 1e-3, simd: true },
  { name: "96 channels", shape: [1, 7, 7, 96], scale: true, offset: true, epsilon: 1e-3, simd: true },
  { name: "no scale (InceptionV3)", shape: [2, 4, 4, 32], scale: false, offset: true, epsilon: 1e-3, simd: true },
  { name: "no offset", shape: [1, 3, 3, 8], scale: true, offset: false, epsilon: 1e-5, simd: true },
  { name: "neither", shape: [1, 2, 2, 12], scale: false, offset: false, epsilon: 0.1, simd: true },
  { name: "2-D input", shape: [33, 16], scale: true, offset: true, epsilon: 1e-3, simd: true },
  { name: "6 channels: tfjs", shape: [1, 4, 4, 6], scale: true, offset: true, epsilon: 1e-3, simd: false },
  {
    name: "per-element parameters: tfjs",
    shape: [1, 2, 2, 4],
    paramShape: [1, 2, 2, 4],
    scale: true,
    offset: true,
    epsilon: 1e-3,
    simd: false,
  },
];

function inputs(c: Case, seed: number) {
  const rng = new Random(seed);
  const n = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const ps = c.paramShape ?? [c.shape[c.shape.length - 1]];
  // Activations over several orders of magnitude and both signs; variances from tiny to large.
  const x = Float32Array.from({ length: n(c.shape) }, () => (rng.uniform() - 0.5) * 10 ** (rng.uniform() * 6 - 3));
  const param = (lo: number, hi: number) => Float32Array.from({ length: n(ps) }, () => lo + (hi - lo) * rng.uniform());
  return {
    x,
    mean: param(-2, 2),
    variance: Float32Array.from({ length: n(ps) }, () => 10 ** (rng.uniform() * 6 - 4)),
    offset: c.offset ? param(-3, 3) : undefined,
    scale: c.scale ? param(-2, 4) : undefined,
    paramShape: ps,
  };
}

async function batchNorm(c: Case, seed: number): Promise<Float32Array> {
  const v = inputs(c, seed);
  const t = (a: Float32Array | undefined) => (a ? tf.tensor(a, v.paramShape) : undefined);
  const out = tf.batchNorm(tf.tensor(v.x, c.shape), t(v.mean)!, t(v.variance)!, t(v.offset), t(v.scale), c.epsilon);
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}

/** The formula read from tfjs-backend-wasm 4.22's kernel, in float and double as it rounds (see batch-norm-kernel.c). */
function reference(c: Case, seed: number): Float32Array {
  const v = inputs(c, seed);
  const f = Math.fround;
  const channels = v.mean.length;
  return v.x.map((x, i) => {
    const k = i % channels;
    const factor = f(Math.sqrt(f(v.variance[k] + f(c.epsilon))));
    const t = f(f(x - v.mean[k]) * (v.scale ? v.scale[k] : 1));
    return (v.offset ? v.offset[k] : 0) + t / factor;
  });
}

function differingBits(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  assert.equal(ua.length, ub.length);
  let n = 0;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) n++;
  return n;
}

test("the SIMD BatchNorm gives tfjs's wasm FusedBatchNorm outputs bit for bit, and falls back where it does not apply", async () => {
  const seeds = [1, 2, 3];
  const tfjs = new Map<string, Float32Array>();
  for (const c of CASES) for (const s of seeds) tfjs.set(`${c.name}/${s}`, await batchNorm(c, s));
  assert.ok(
    useBatchNormKernel(),
    "useBatchNormKernel() did not install the kernel: is lib/dist/models/backbones/batch-norm-kernel.wasm built (npm run build)?",
  );
  for (const c of CASES) {
    const calls = { ...batchNormCalls };
    for (const s of seeds) {
      const got = await batchNorm(c, s);
      assert.equal(
        differingBits(got, tfjs.get(`${c.name}/${s}`)!),
        0,
        `${c.name}, seed ${s}: outputs differ from tfjs's`,
      );
      if (!c.paramShape)
        assert.equal(differingBits(got, reference(c, s)), 0, `${c.name}, seed ${s}: outputs differ from the formula`);
    }
    assert.deepEqual(
      { simd: batchNormCalls.simd - calls.simd, tfjs: batchNormCalls.tfjs - calls.tfjs },
      c.simd ? { simd: seeds.length, tfjs: 0 } : { simd: 0, tfjs: seeds.length },
      `${c.name}: which kernel ran`,
    );
  }
});

test("the kernel writes its output and no other byte of the memory it runs on", () => {
  // It runs on tfjs's heap, so it must have no data or stack of its own there: fill a memory
  // with a marker, place x, parameters and output, run, and compare every byte.
  const memory = new WebAssembly.Memory({ initial: 4 });
  const bytes = new Uint8Array(memory.buffer);
  bytes.fill(0xa5);
  const channels = 8;
  const pixels = 50;
  const [x, params, out] = [70_000, 130_000, 200_000];
  const f32 = new Float32Array(memory.buffer);
  const f64 = new Float64Array(memory.buffer);
  for (let i = 0; i < pixels * channels; i++) f32[x / 4 + i] = Math.sin(i);
  for (let c = 0; c < channels; c++) {
    f32[params / 4 + c] = 0.1 * c; // mean
    f32[params / 4 + channels + c] = 1 + c; // scale
    f64[params / 8 + channels + c] = -c; // offset (after 2 x channels floats = channels doubles)
    f64[params / 8 + 2 * channels + c] = 2; // sqrt(variance + epsilon)
  }
  const before = bytes.slice();
  instantiateBatchNormKernel(memory).batch_norm(x, out, pixels, channels, params);
  const end = out + pixels * channels * 4;
  let outside = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== before[i] && (i < out || i >= end)) outside++;
  assert.equal(outside, 0, "bytes changed outside the output");
  for (let i = 0; i < pixels * channels; i++) {
    const c = i % channels;
    const want = Math.fround(-c + Math.fround(Math.fround(f32[x / 4 + i] - Math.fround(0.1 * c)) * (1 + c)) / 2);
    assert.equal(f32[out / 4 + i], want, `output ${i}`);
  }
});

test("a small case by hand: x - mean scaled, divided by sqrt(variance + epsilon), plus offset", async () => {
  // Channel 0: (1 - 0.5) * 2 / sqrt(0.25 + 0) + 1 = 3; channel 1: (4 - 1) * 1 / sqrt(4) - 1 = 0.5 (exact in float).
  assert.ok(useBatchNormKernel());
  const out = tf.batchNorm(
    tf.tensor2d([1, 4, -1, 0], [2, 2]),
    tf.tensor1d([0.5, 1]),
    tf.tensor1d([0.25, 4]),
    tf.tensor1d([1, -1]),
    tf.tensor1d([2, 1]),
    0,
  );
  // 2 channels are not a multiple of 4: this one goes to tfjs's kernel; the same inputs
  // widened to 4 channels go to the SIMD kernel and must agree.
  const wide = tf.batchNorm(
    tf.tensor2d([1, 4, 1, 4, -1, 0, -1, 0], [2, 4]),
    tf.tensor1d([0.5, 1, 0.5, 1]),
    tf.tensor1d([0.25, 4, 0.25, 4]),
    tf.tensor1d([1, -1, 1, -1]),
    tf.tensor1d([2, 1, 2, 1]),
    0,
  );
  assert.deepEqual(Array.from(await out.data()), [3, 0.5, -5, -1.5]);
  assert.deepEqual(Array.from(await wide.data()), [3, 0.5, 3, 0.5, -5, -1.5, -5, -1.5]);
  tf.dispose([out, wide]);
});
