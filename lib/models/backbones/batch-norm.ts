/**
 * TensorFlow.js's wasm backend runs the nsfwjs models' BatchNormalization layers (52 in
 * MobileNetV2) through a FusedBatchNorm kernel that works one element at a time with a
 * double-precision division each: about 40% of MobileNetV2's time here, more than all its
 * convolutions. batch-norm-kernel.c computes the same operations in the same precisions four
 * channels at a time, on tfjs's own wasm memory (no copies), so its outputs are the same floats
 * bit for bit (batch-norm.spec.ts
 * checks that against the tfjs kernel on random tensors; the activation cache's files stay
 * valid). `useBatchNormKernel` registers it in place of tfjs's kernel for the wasm backend.
 *
 * A missing scale counts as 1 and a missing offset as 0, as tfjs's kernel takes them (Keras's
 * `scale: false` layers in InceptionV3). Cases it does not cover (per-element rather than
 * per-channel parameters, channels not a multiple of 4, a kernel file not built) go to tfjs's
 * kernel.
 * TFJS_BATCH_NORM=tfjs in the environment keeps tfjs's kernel throughout (for comparisons).
 *
 * Notebook 10's backbones no longer run these layers: NsfwjsBackbone folds every
 * BatchNormalization into the convolution before it (fold.ts). This kernel serves the Keras
 * layers run as they are: NSFWJS_BATCH_NORM=keras (the unfolded computation, whose cache files
 * it keeps valid, and the benchmark's figure before folding), a loaded model used directly,
 * and any BatchNormalization fold.ts cannot fold.
 */
import * as fs from "fs";
import { tf } from "../../runtime/backend";
import { compileWasmKernel, wasmKernelPath } from "../../runtime/wasm";

/** Where scripts/build-wasm.mjs puts the compiled kernel. */
export function batchNormKernelPath(): string {
  return wasmKernelPath("models", "backbones", "batch-norm-kernel.wasm");
}

export interface BatchNormKernelExports {
  /**
   * out = BatchNorm(x) for `pixels` rows of `channels` floats (a multiple of 4); all byte
   * offsets in the memory given at instantiation. params: mean and scale as floats, then
   * offset and sqrtf(variance + epsilon) as doubles, `channels` each, 8-byte aligned.
   */
  batch_norm(x: number, out: number, pixels: number, channels: number, params: number): void;
}

/** The compiled kernel instantiated on `memory` (it has none of its own). */
export function instantiateBatchNormKernel(
  memory: WebAssembly.Memory,
  file = batchNormKernelPath(),
): BatchNormKernelExports {
  const kernel = compileWasmKernel(file, "BatchNorm kernel");
  return new WebAssembly.Instance(kernel, { env: { memory } }).exports as unknown as BatchNormKernelExports;
}

/** The parts of tfjs-backend-wasm's BackendWasm this kernel uses (not in its public types). */
interface WasmBackend {
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  wasm: {
    HEAPF32: Float32Array;
    HEAPF64: Float64Array;
    _malloc(bytes: number): number;
    _free(pointer: number): void;
    asm: { memory: WebAssembly.Memory };
  };
}

export interface BatchNormParams {
  mean: Float32Array;
  variance: Float32Array;
  offset: Float32Array;
  scale: Float32Array;
  epsilon: number;
}

/**
 * The kernel instantiated on tfjs's wasm memory: it reads x and writes out where tfjs keeps
 * them; only the per-channel parameters are written, into a block malloc'd from tfjs's heap.
 */
class BatchNormKernel {
  private readonly exports: BatchNormKernelExports;

  constructor(
    private readonly backend: WasmBackend,
    file: string,
  ) {
    this.exports = instantiateBatchNormKernel(backend.wasm.asm.memory, file);
  }

  /** out = the inference BatchNorm of x (pixels x channels, channels last; byte offsets in tfjs's heap). */
  run(x: number, out: number, size: number, p: BatchNormParams): void {
    const channels = p.mean.length;
    const wasm = this.backend.wasm;
    // mean and scale as floats, then offset and factor as doubles; malloc aligns to 8 bytes.
    const params = wasm._malloc(channels * 24);
    try {
      // Views read after malloc: a heap that grew has new ones.
      const f32 = wasm.HEAPF32;
      const f64 = wasm.HEAPF64;
      f32.set(p.mean, params / 4);
      f32.set(p.scale, params / 4 + channels);
      const d = (params + channels * 8) / 8;
      // The C kernel's epsilon parameter is a float: the attribute arrives rounded to float32.
      const epsilon = Math.fround(p.epsilon);
      for (let c = 0; c < channels; c++) {
        f64[d + c] = p.offset[c];
        // sqrtf of a float sum: a double square root rounded to float is the correctly rounded float one.
        f64[d + channels + c] = Math.fround(Math.sqrt(Math.fround(p.variance[c] + epsilon)));
      }
      this.exports.batch_norm(x, out, size / channels, channels, params);
    } finally {
      wasm._free(params);
    }
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
  const kernel = new BatchNormKernel(tf.backend() as unknown as WasmBackend, file);
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
  const at = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
  const heap = backend.wasm.HEAPF32;
  const vector = (t: tf.TensorInfo) => heap.slice(at(t) / 4, at(t) / 4 + channels);
  kernel.run(at(x), at(out), size, {
    mean: vector(mean!),
    variance: vector(variance!),
    offset: offset ? vector(offset) : new Float32Array(channels),
    scale: scale ? vector(scale) : new Float32Array(channels).fill(1),
    epsilon: (args.attrs as { varianceEpsilon: number }).varianceEpsilon,
  });
  return out;
}
