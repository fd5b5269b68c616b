/**
 * TensorFlow.js's wasm backend runs the nsfwjs models' BatchNormalization layers (52 in
 * MobileNetV2) through a FusedBatchNorm kernel that works one element at a time with a
 * double-precision division each: about 40% of MobileNetV2's time here, more than all its
 * convolutions. batch-norm-kernel.c computes the same operations in the same precisions four
 * channels at a time, so its outputs are the same floats bit for bit (batch-norm.spec.ts
 * checks that against the tfjs kernel on random tensors; the activation cache's files stay
 * valid). `useBatchNormKernel` registers it in place of tfjs's kernel for the wasm backend.
 *
 * A missing scale counts as 1 and a missing offset as 0, as tfjs's kernel takes them (Keras's
 * `scale: false` layers in InceptionV3). Cases it does not cover (per-element rather than
 * per-channel parameters, channels not a multiple of 4, a kernel file not built) go to tfjs's
 * kernel.
 * TFJS_BATCH_NORM=tfjs in the environment keeps tfjs's kernel throughout (for comparisons).
 */
import * as fs from "fs";
import { tf } from "../../runtime/backend";
import { compileWasmKernel, wasmKernelPath } from "../../runtime/wasm";

/** Where scripts/build-wasm.mjs puts the compiled kernel. */
export function batchNormKernelPath(): string {
  return wasmKernelPath("models", "backbones", "batch-norm-kernel.wasm");
}

interface KernelExports {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  batch_norm(x: number, pixels: number, channels: number, params: number): void;
}

/** The parts of tfjs-backend-wasm's BackendWasm this kernel uses (not in its public types). */
interface WasmBackend {
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  wasm: { HEAPF32: Float32Array };
}

/** The kernel's instance and its memory: per-channel parameters, then the activations. */
class BatchNormKernel {
  private readonly exports: KernelExports;
  private readonly base: number;

  constructor(file = batchNormKernelPath()) {
    const module = compileWasmKernel(file, "BatchNorm kernel");
    this.exports = new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
    this.base = Math.ceil((this.exports.__heap_base.value as number) / 16) * 16;
  }

  /**
   * out = the inference BatchNorm of x (pixels x channels, channels last), as tfjs's wasm
   * FusedBatchNorm computes it. `source` and `target` are the tfjs heap and float offsets in it.
   */
  run(
    heap: Float32Array,
    x: number,
    out: number,
    size: number,
    p: { mean: Float32Array; variance: Float32Array; offset: Float32Array; scale: Float32Array; epsilon: number },
  ): void {
    const channels = p.mean.length;
    const paramBytes = Math.ceil((channels * 24) / 16) * 16;
    const data = this.base + paramBytes;
    const need = data + size * 4;
    const memory = this.exports.memory;
    if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
    const f32 = new Float32Array(memory.buffer);
    const f64 = new Float64Array(memory.buffer);
    f32.set(p.mean, this.base / 4);
    f32.set(p.scale, this.base / 4 + channels);
    const d = (this.base + channels * 8) / 8;
    // The C kernel's epsilon parameter is a float: the attribute arrives rounded to float32.
    const epsilon = Math.fround(p.epsilon);
    for (let c = 0; c < channels; c++) {
      f64[d + c] = p.offset[c];
      // sqrtf of a float sum: a double square root rounded to float is the correctly rounded float one.
      f64[d + channels + c] = Math.fround(Math.sqrt(Math.fround(p.variance[c] + epsilon)));
    }
    f32.set(heap.subarray(x, x + size), data / 4);
    this.exports.batch_norm(data, size / channels, channels, this.base);
    heap.set(f32.subarray(data / 4, data / 4 + size), out);
  }
}

let installed: boolean | null = null;
/** Calls served by this kernel and passed on to tfjs's, in this thread (for tests and benchmarks). */
export const batchNormCalls = { simd: 0, tfjs: 0 };

/**
 * Registers the SIMD BatchNorm in place of tfjs's FusedBatchNorm on the wasm backend, once per
 * thread; true when it is in use. Call after the backend is initialised.
 */
export function useBatchNormKernel(file = batchNormKernelPath()): boolean {
  if (installed !== null) return installed;
  installed = false;
  if (process.env.TFJS_BATCH_NORM === "tfjs" || tf.getBackend() !== "wasm" || !fs.existsSync(file)) return false;
  const original = tf.getKernel("FusedBatchNorm", "wasm");
  if (!original) return false;
  const kernel = new BatchNormKernel(file);
  tf.unregisterKernel("FusedBatchNorm", "wasm");
  tf.registerKernel({ ...original, kernelFunc: (args) => fusedBatchNorm(kernel, original.kernelFunc, args) });
  installed = true;
  return true;
}

function fusedBatchNorm(
  kernel: BatchNormKernel,
  fallback: tf.KernelFunc,
  args: Parameters<tf.KernelFunc>[0],
): ReturnType<tf.KernelFunc> {
  const { x, mean, variance, offset, scale } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const channels = x?.shape[x.shape.length - 1] ?? 0;
  const perChannel = (t: tf.TensorInfo | undefined) => t && t.shape.length === 1 && t.shape[0] === channels;
  const covered =
    x?.dtype === "float32" &&
    channels > 0 &&
    channels % 4 === 0 &&
    perChannel(mean) &&
    perChannel(variance) &&
    (!offset || perChannel(offset)) &&
    (!scale || perChannel(scale));
  if (!x || !covered) {
    batchNormCalls.tfjs++;
    return fallback(args);
  }
  batchNormCalls.simd++;
  const backend = args.backend as unknown as WasmBackend;
  const out = backend.makeOutput([...x.shape], "float32");
  const size = x.shape.reduce((a, b) => a * b, 1);
  if (size === 0) return out;
  // Read after makeOutput: allocating may have grown the heap and replaced the view.
  const heap = backend.wasm.HEAPF32;
  const at = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset / 4;
  const vector = (t: tf.TensorInfo) => heap.slice(at(t), at(t) + channels);
  kernel.run(heap, at(x), at(out), size, {
    mean: vector(mean!),
    variance: vector(variance!),
    offset: offset ? vector(offset) : new Float32Array(channels),
    scale: scale ? vector(scale) : new Float32Array(channels).fill(1),
    epsilon: (args.attrs as { varianceEpsilon: number }).varianceEpsilon,
  });
  return out;
}
