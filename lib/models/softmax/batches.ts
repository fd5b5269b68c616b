/**
 * Minibatches without copying the training set and without slow wasm paths.
 *
 * The training set stays where loadMnist put it (one Float32Array). Each step copies the
 * chosen rows into one preallocated batch, in two layouts: X (B x 784) for the forward
 * product X W^T and X^T (784 x B) for the gradient X^T (P - Y). Measured on the wasm
 * backend of tfjs 4.22 on the project's machines: tf.slice of a batch out of a 60000 x 784
 * tensor took about 400 ms, and matMul with a transpose flag 75 ms against 1.8 ms for the
 * same product on a pre-transposed input, each slower than a whole step (3.4 ms; the
 * TensorFlow.js rows of `npm run bench:softmax` time that step); a fresh tf.tensor2d per
 * step costs a 3 MB malloc and copy. So on wasm the batch tensors are allocated once and their
 * memory in the wasm heap is overwritten in place.
 *
 * In-place writes are safe only because these tensors are always the LEFT operand of
 * matMul: the wasm BatchMatMul caches the packed right operand ("weights") by tensor id,
 * so a right operand whose memory changed under the same id would give stale results.
 */
import * as tf from "@tensorflow/tfjs";
import type { LabelledMatrix } from "../../data/labelled";

interface WasmBackendLike {
  wasm: { HEAPF32: Float32Array };
  dataIdMap: { get(id: object): { memoryOffset: number } | undefined };
}

function wasmBackend(): WasmBackendLike | null {
  if (tf.getBackend() !== "wasm") return null;
  const be = tf.backend() as unknown as Partial<WasmBackendLike>;
  return be.wasm?.HEAPF32 && be.dataIdMap ? (be as WasmBackendLike) : null;
}

/** X^T of a row-major rows x d block into a d x stride block, eight rows at a time (contiguous writes). */
function transposeInto(src: Float32Array, rows: number, d: number, dst: Float32Array, stride: number): void {
  let r0 = 0;
  for (; r0 + 8 <= rows; r0 += 8) {
    const o0 = r0 * d,
      o1 = o0 + d,
      o2 = o1 + d,
      o3 = o2 + d,
      o4 = o3 + d,
      o5 = o4 + d,
      o6 = o5 + d,
      o7 = o6 + d;
    for (let p = 0, q = r0; p < d; p++, q += stride) {
      dst[q] = src[o0 + p];
      dst[q + 1] = src[o1 + p];
      dst[q + 2] = src[o2 + p];
      dst[q + 3] = src[o3 + p];
      dst[q + 4] = src[o4 + p];
      dst[q + 5] = src[o5 + p];
      dst[q + 6] = src[o6 + p];
      dst[q + 7] = src[o7 + p];
    }
  }
  for (; r0 < rows; r0++) for (let p = 0; p < d; p++) dst[p * stride + r0] = src[r0 * d + p];
}

/** One reusable minibatch: X (B x d), XT (d x B), Y (B x k). */
export class BatchBuffers {
  X!: tf.Tensor2D;
  XT!: tf.Tensor2D;
  Y!: tf.Tensor2D;
  /** How many rows of the last fill are real (the rest are zero). */
  rows = 0;
  private readonly wasm: WasmBackendLike | null;
  private readonly hostX: Float32Array | null;
  private readonly hostXT: Float32Array | null;
  private readonly hostY: Float32Array | null;

  constructor(
    readonly batchSize: number,
    readonly d: number,
    readonly k: number,
    readonly withTranspose = true,
  ) {
    if (!(Number.isInteger(batchSize) && batchSize > 0))
      throw new Error(`BatchBuffers: batch size must be a positive integer, got ${batchSize}`);
    this.wasm = wasmBackend();
    if (this.wasm) {
      this.X = tf.keep(tf.zeros([batchSize, d]));
      this.XT = tf.keep(tf.zeros(withTranspose ? [d, batchSize] : [1, 1]));
      this.Y = tf.keep(tf.zeros([batchSize, k]));
      this.hostX = this.hostXT = this.hostY = null;
    } else {
      this.hostX = new Float32Array(batchSize * d);
      this.hostXT = withTranspose ? new Float32Array(batchSize * d) : null;
      this.hostY = new Float32Array(batchSize * k);
    }
  }

  /** True when fills write straight into the wasm heap. */
  get inPlace(): boolean {
    return this.wasm !== null;
  }

  private view(t: tf.Tensor): Float32Array {
    const entry = this.wasm!.dataIdMap.get(t.dataId);
    if (!entry) throw new Error("BatchBuffers: batch tensor was disposed while still in use");
    // Re-read HEAPF32 every time: growing the wasm memory replaces its buffer.
    return new Float32Array(this.wasm!.wasm.HEAPF32.buffer, entry.memoryOffset, t.size);
  }

  /** Copies rows `index[0..]` of `set` into the batch (at most batchSize rows; the rest are zeroed). */
  fill(set: LabelledMatrix, index: ArrayLike<number>, start = 0, end = index.length): void {
    const n = end - start;
    if (n > this.batchSize || n < 0)
      throw new Error(`BatchBuffers.fill: ${n} rows do not fit a batch of ${this.batchSize}`);
    const { d, k } = this;
    if (set.x.length !== set.rows * d)
      throw new Error(`BatchBuffers.fill: images hold ${set.x.length} values, expected ${set.rows} x ${d}`);
    const x = this.wasm ? this.view(this.X) : this.hostX!;
    const y = this.wasm ? this.view(this.Y) : this.hostY!;
    for (let r = 0; r < n; r++) {
      const j = index[start + r];
      if (!(j >= 0 && j < set.rows))
        throw new Error(`BatchBuffers.fill: row ${j} is outside the set (0..${set.rows - 1})`);
      x.set(set.x.subarray(j * d, j * d + d), r * d);
      const c = set.labels[j];
      if (!(c < k)) throw new Error(`BatchBuffers.fill: row ${j} has label ${c}, expected 0..${k - 1}`);
      y.fill(0, r * k, r * k + k);
      y[r * k + c] = 1;
    }
    if (n < this.batchSize) {
      x.fill(0, n * d);
      y.fill(0, n * k);
    }
    if (this.withTranspose)
      transposeInto(x, this.batchSize, d, this.wasm ? this.view(this.XT) : this.hostXT!, this.batchSize);
    this.rows = n;
    if (!this.wasm) {
      this.disposeTensors();
      this.X = tf.tensor2d(this.hostX!, [this.batchSize, d]);
      this.XT = this.withTranspose ? tf.tensor2d(this.hostXT!, [d, this.batchSize]) : tf.zeros([1, 1]);
      this.Y = tf.tensor2d(this.hostY!, [this.batchSize, k]);
    }
  }

  private disposeTensors(): void {
    for (const t of [this.X, this.XT, this.Y]) t?.dispose();
  }

  dispose(): void {
    this.disposeTensors();
  }
}
