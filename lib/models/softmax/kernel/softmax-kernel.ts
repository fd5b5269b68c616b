/**
 * The Part 4/5 training step on the WebAssembly SIMD kernel of softmax-kernel.c: forward,
 * softmax, hand-written gradient and momentum update of the softmax network, visiting only
 * the nonzero pixels of each row.
 *
 * The kernel keeps each set as its rows' nonzero pixels: their numbers and values side by
 * side (6 bytes per nonzero pixel, 55 MB for MNIST's 60,000 rows, against 188 MB dense),
 * built once per set, shared by every run in the process and copied into the kernel's memory
 * once per run. A step then hands the kernel only where each of its rows starts: no pixel is
 * copied per step (numpy's `x[idx]` copies the minibatch), and a row drawn at random is
 * about 900 contiguous bytes to fetch from main memory instead of 3 KB.
 *
 * The kernel's memory is shared, so a step may have a second thread (runtime/wasm-thread.ts)
 * compute the gradient of half of its minibatch in the same memory, with no copies; the
 * gradient is always formed as first half + second half, so the weights are the same bit
 * for bit with one thread or two.
 */
import * as fs from "fs";
import { isMainThread } from "worker_threads";
import { usableCores } from "../../../runtime/cores";
import { wasmKernelPath } from "../../../runtime/wasm";
import { instantiateShared, startWasmThread, THREAD_STACK_BYTES, WasmThread } from "../../../runtime/wasm-thread";
import type { LabelledMatrix } from "../../../data/labelled";

/** Rows evaluated per call when measuring accuracy (their starts, lengths and labels: 9 bytes a row). */
const EVAL_ROWS = 1024;
/** The kernel keeps each row's outputs in four SIMD registers. */
export const MAX_CLASSES = 16;
/** Pixel numbers are stored in 16 bits. */
export const MAX_INPUTS = 65536;

/** Where scripts/build-wasm.mjs puts the compiled kernel. */
export function kernelPath(): string {
  return wasmKernelPath("models", "softmax", "kernel", "softmax-kernel.wasm");
}

/** True when the compiled kernel is present. */
export function kernelAvailable(file = kernelPath()): boolean {
  return fs.existsSync(file);
}

/**
 * Row r's nonzero pixels are pixels[offsets[r] .. offsets[r + 1]), in increasing order, and
 * their values are values[offsets[r] .. offsets[r + 1]).
 */
export interface NonzeroIndex {
  offsets: Int32Array;
  pixels: Uint16Array;
  values: Float32Array;
}

const indexCache = new WeakMap<Float32Array, NonzeroIndex>();

/** The nonzero pixels of every row of `set` and their values, cached per images array (so the set must not be changed afterwards). */
export function nonzeroIndex(set: LabelledMatrix): NonzeroIndex {
  const cached = indexCache.get(set.x);
  if (cached) return cached;
  const { rows: count, x: images } = set;
  const d = images.length / count;
  if (!Number.isInteger(d) || d < 1 || d > MAX_INPUTS)
    throw new Error(`nonzeroIndex: rows of ${d} inputs (the kernel takes 1..${MAX_INPUTS})`);
  const offsets = new Int32Array(count + 1);
  let n = 0;
  for (let r = 0; r < count; r++) {
    offsets[r] = n;
    for (let o = r * d, e = o + d; o < e; o++) if (images[o] !== 0) n++;
  }
  offsets[count] = n;
  const pixels = new Uint16Array(n);
  const values = new Float32Array(n);
  for (let r = 0, t = 0; r < count; r++)
    for (let p = 0, o = r * d; p < d; p++, o++)
      if (images[o] !== 0) {
        pixels[t] = p;
        values[t++] = images[o];
      }
  const index = { offsets, pixels, values };
  indexCache.set(images, index);
  return index;
}

interface KernelExports {
  __heap_base: WebAssembly.Global;
  softmax_rows(
    rows: number,
    istart: number,
    ilen: number,
    idx: number,
    vals: number,
    label: number,
    Wt: number,
    b: number,
    G: number,
    gb: number,
    rowS: number,
    rowM: number,
    k: number,
  ): void;
  momentum_update(n: number, w: number, v: number, g: number, rate: number, momentum: number, out: number): void;
  zero_floats(p: number, n: number): void;
  add_floats(dst: number, src: number, n: number): void;
  softmax_predict(
    rows: number,
    istart: number,
    ilen: number,
    idx: number,
    vals: number,
    Wt: number,
    b: number,
    pred: number,
    k: number,
  ): void;
}

/** What one step reports: the summed cost of its minibatch and the squared norm of the weight step. */
export interface KernelStepStats {
  cost: number;
  stepNormSq: number;
  /** False when a weight became NaN or infinite. */
  weightsFinite: boolean;
}

export interface KernelOptions {
  /** The compiled kernel (default: kernelPath()). */
  file?: string;
  /**
   * 2: a second thread computes the second half of each minibatch (and of each block of
   * rows whose accuracy is measured). The results are bit-identical either way (see minibatch()).
   */
  threads?: 1 | 2;
}

/** Threads trainSoftmax uses by default: 2 on the main thread when two cores are usable (runtime/cores.ts). */
export function defaultThreads(): 1 | 2 {
  return isMainThread && usableCores() >= 2 ? 2 : 1;
}

/** One training run's state (weights, velocity, gradient) in the kernel's own memory. */
export class SoftmaxKernel {
  readonly d: number;
  readonly kp: number;
  readonly index: NonzeroIndex;
  private readonly ex: KernelExports;
  /** The kernel's memory, shared so that a second thread can work on it. */
  private readonly memory: WebAssembly.Memory;
  private readonly at: Record<string, number> = {};
  private readonly f32: (name: string, n: number) => Float32Array;
  private readonly i32: (name: string, n: number) => Int32Array;
  private thread: WasmThread | null = null;
  /** Rows the staging arrays hold. */
  private readonly stageRows: number;
  /** End of the allocated part of the kernel's memory. */
  private top = 0;
  /** The nonzero index of another set (accuracy on a test set), and how many pixels its regions hold. */
  private evalIndex: { index: NonzeroIndex; capacity: number } | null = null;

  /** W0 is k x d row-major (as elsewhere in lib), b0 has k entries; neither is modified. */
  constructor(
    readonly set: LabelledMatrix,
    readonly k: number,
    readonly batchSize: number,
    W0: Float32Array,
    b0: Float32Array,
    options: KernelOptions = {},
  ) {
    const d = set.x.length / set.rows;
    this.d = d;
    if (!(Number.isInteger(k) && k >= 1 && k <= MAX_CLASSES))
      throw new Error(`SoftmaxKernel: ${k} classes (the kernel takes 1..${MAX_CLASSES})`);
    if (W0.length !== k * d) throw new Error(`SoftmaxKernel: W0 has ${W0.length} values, expected ${k} x ${d}`);
    if (b0.length !== k) throw new Error(`SoftmaxKernel: b0 has ${b0.length} values, expected ${k}`);
    if (!(Number.isInteger(batchSize) && batchSize >= 1))
      throw new Error(`SoftmaxKernel: batch size ${batchSize} is not a positive integer`);
    for (let r = 0; r < set.rows; r++) {
      if (!(set.labels[r] < k))
        throw new Error(`SoftmaxKernel: label ${set.labels[r]} of row ${r} is not a class 0..${k - 1}`);
    }
    this.index = nonzeroIndex(set);
    const kp = (this.kp = 4 * Math.ceil(k / 4));
    const C = (this.stageRows = Math.max(batchSize, EVAL_ROWS));
    const file = options.file ?? kernelPath();
    const { kernel, memory, exports: ex } = instantiateShared<KernelExports>(file, "softmax kernel");
    this.ex = ex;
    this.memory = memory;
    // Bump allocation, 16-byte aligned for the v128 loads, then one grow of the memory.
    const bytes: Record<string, number> = {
      idx: this.index.pixels.byteLength,
      vals: this.index.values.byteLength,
      istart: C * 4,
      ilen: C * 4,
      label: C,
      pred: C * 4,
      Wt: d * kp * 4,
      V: d * kp * 4,
      G: d * kp * 4,
      G2: d * kp * 4,
      b: kp * 4,
      vb: kp * 4,
      gb: kp * 4,
      gb2: kp * 4,
      rowS: C * 4,
      rowM: C * 4,
      out: 16,
      threadStack: options.threads === 2 ? THREAD_STACK_BYTES : 0,
    };
    this.top = ex.__heap_base.value as number;
    for (const [name, size] of Object.entries(bytes)) this.allocate(name, size);
    // Views are made on demand: growing the memory would detach views made earlier.
    this.f32 = (name, n) => new Float32Array(memory.buffer, this.at[name], n);
    this.i32 = (name, n) => new Int32Array(memory.buffer, this.at[name], n);
    new Uint16Array(memory.buffer, this.at.idx, this.index.pixels.length).set(this.index.pixels);
    this.f32("vals", this.index.values.length).set(this.index.values);
    const Wt = this.f32("Wt", d * kp);
    for (let c = 0; c < k; c++) for (let p = 0; p < d; p++) Wt[p * kp + c] = W0[c * d + p];
    this.f32("b", kp).set(b0);
    if (options.threads === 2) this.startThread(kernel);
  }

  /** The second thread (a shared memory may grow under it: it never moves). */
  private startThread(kernel: WebAssembly.Module): void {
    this.thread = startWasmThread(
      kernel,
      this.memory,
      this.at.threadStack,
      ["softmax_rows", "softmax_predict"],
      "softmax kernel",
    );
  }

  /** 2 when a second thread does half of each minibatch. */
  get threads(): 1 | 2 {
    return this.thread ? 2 : 1;
  }

  /** Bump allocation, 16-byte aligned for the v128 loads; growing the memory as needed. */
  private allocate(name: string, bytes: number): void {
    const { memory } = this;
    this.top = (this.top + 15) & ~15;
    this.at[name] = this.top;
    this.top += bytes;
    if (this.top > memory.buffer.byteLength) memory.grow(Math.ceil((this.top - memory.buffer.byteLength) / 65536));
  }

  /**
   * Tells the kernel where rows rowOf(0), ..., rowOf(n - 1) of `set` are (n <= stageRows; nz
   * is its nonzero index): istart, ilen and label of each.
   */
  private stage(set: LabelledMatrix, nz: NonzeroIndex, rowOf: (r: number) => number, n: number): void {
    const istart = this.i32("istart", n),
      ilen = this.i32("ilen", n);
    const label = new Uint8Array(this.memory.buffer, this.at.label, n);
    const { offsets } = nz;
    for (let r = 0; r < n; r++) {
      const j = rowOf(r);
      if (!(j >= 0 && j < set.rows)) throw new Error(`SoftmaxKernel: row ${j} is outside the set (0..${set.rows - 1})`);
      istart[r] = offsets[j];
      ilen[r] = offsets[j + 1] - offsets[j];
      label[r] = set.labels[j];
    }
  }

  /**
   * The kernel call for staged rows r0 .. r0 + n - 1 into gradient regions G and gb (which
   * the caller zeroed): its arguments, so that this thread or the second one can run it.
   */
  private rowsCall(r0: number, n: number, G: string, gb: string): number[] {
    const { at } = this;
    return [
      n,
      at.istart + 4 * r0,
      at.ilen + 4 * r0,
      at.idx,
      at.vals,
      at.label + r0,
      at.Wt,
      at.b,
      at[G],
      at[gb],
      at.rowS + 4 * r0,
      at.rowM + 4 * r0,
      this.k,
    ];
  }

  /** The summed cost of staged rows r0 .. r1 - 1, in row order, from what the kernel wrote. */
  private rowsCost(r0: number, r1: number): number {
    const rowS = this.f32("rowS", r1),
      rowM = this.f32("rowM", r1);
    let cost = 0;
    for (let r = r0; r < r1; r++) cost += Math.log(rowS[r]) + rowM[r];
    return cost;
  }

  /** Fraction of `set` (the training set or another with the same inputs) whose argmax of z is its label. */
  accuracy(set: LabelledMatrix): number {
    const { ex, at, d, k } = this;
    if (set.x.length !== set.rows * d)
      throw new Error(`SoftmaxKernel.accuracy: rows of ${set.x.length / set.rows} inputs, the network takes ${d}`);
    let nz = this.index,
      idxAt = at.idx,
      valsAt = at.vals;
    if (set.x !== this.set.x) {
      // Another set's index goes into regions of its own, copied once while it is the same set.
      nz = nonzeroIndex(set);
      if (this.evalIndex?.index !== nz) {
        const n = nz.pixels.length;
        if (!this.evalIndex || this.evalIndex.capacity < n) {
          this.allocate("evalIdx", n * 2);
          this.allocate("evalVals", n * 4);
        }
        new Uint16Array(this.memory.buffer, at.evalIdx, n).set(nz.pixels);
        this.f32("evalVals", n).set(nz.values);
        this.evalIndex = { index: nz, capacity: Math.max(n, this.evalIndex?.capacity ?? 0) };
      }
      idxAt = at.evalIdx;
      valsAt = at.evalVals;
    }
    let correct = 0;
    const { thread } = this;
    const predict = (r0: number, n: number) =>
      [n, at.istart + 4 * r0, at.ilen + 4 * r0, idxAt, valsAt, at.Wt, at.b, at.pred + 4 * r0, k] as const;
    for (let r0 = 0; r0 < set.rows; r0 += EVAL_ROWS) {
      const m = Math.min(EVAL_ROWS, set.rows - r0);
      this.stage(set, nz, (r) => r0 + r, m);
      if (thread && m >= 2) {
        const h = m >> 1;
        thread.start("softmax_predict", [...predict(h, m - h)]);
        ex.softmax_predict(...predict(0, h));
        thread.wait();
      } else ex.softmax_predict(...predict(0, m));
      const pred = this.i32("pred", m);
      for (let r = 0; r < m; r++) if (pred[r] === set.labels[r0 + r]) correct++;
    }
    return correct / set.rows;
  }

  /**
   * The minibatch gradient into G and gb, always as (gradient of the first half) +
   * (gradient of the second half), so one thread and two threads add the same floats in
   * the same order. With a second thread the second half runs there while this thread
   * does the first, both in the shared memory. Returns the minibatch's summed cost.
   */
  private minibatch(index: ArrayLike<number>, start: number, end: number): number {
    const { ex, at, d, kp, thread } = this;
    const n = end - start;
    if (!(n >= 1 && n <= this.batchSize))
      throw new Error(`SoftmaxKernel: ${n} rows do not fit a batch of ${this.batchSize}`);
    this.stage(this.set, this.index, (r) => index[start + r], n);
    const h = Math.ceil(n / 2);
    for (const [G, gb] of [
      [at.G, at.gb],
      [at.G2, at.gb2],
    ]) {
      ex.zero_floats(G, d * kp);
      ex.zero_floats(gb, kp);
    }
    const second = this.rowsCall(h, n - h, "G2", "gb2");
    if (thread && n > h) thread.start("softmax_rows", second);
    ex.softmax_rows(...(this.rowsCall(0, h, "G", "gb") as Parameters<KernelExports["softmax_rows"]>));
    if (thread && n > h) thread.wait();
    else ex.softmax_rows(...(second as Parameters<KernelExports["softmax_rows"]>));
    ex.add_floats(at.G, at.G2, d * kp);
    ex.add_floats(at.gb, at.gb2, kp);
    return this.rowsCost(0, h) + this.rowsCost(h, n);
  }

  /** The hand-written gradient of the summed cost over rows index[start..end), as dW (k x d) and db. */
  gradient(
    index: ArrayLike<number>,
    start = 0,
    end = index.length,
  ): { dW: Float32Array; db: Float32Array; cost: number } {
    const cost = this.minibatch(index, start, end);
    return { dW: this.fromPixelMajor(this.f32("G", this.d * this.kp)), db: this.f32("gb", this.k).slice(), cost };
  }

  /** One step of the report's gradient_descent on rows index[start..end). */
  step(index: ArrayLike<number>, start: number, end: number, learningRate: number, momentum: number): KernelStepStats {
    const { ex, at } = this;
    const cost = this.minibatch(index, start, end);
    ex.momentum_update(this.d * this.kp, at.Wt, at.V, at.G, learningRate, momentum, at.out);
    const [stepNormSq, weightsBad] = this.f32("out", 2);
    ex.momentum_update(this.kp, at.b, at.vb, at.gb, learningRate, momentum, at.out);
    const [, biasBad] = this.f32("out", 2); // the report's stopping rule looks at the step of W only
    return { cost, stepNormSq, weightsFinite: weightsBad === 0 && biasBad === 0 };
  }

  /** The current weights, W as k x d row-major, and b. */
  weights(): { W: Float32Array; b: Float32Array } {
    return { W: this.fromPixelMajor(this.f32("Wt", this.d * this.kp)), b: this.f32("b", this.k).slice() };
  }

  /** Stops the second thread, if any. */
  dispose(): void {
    this.thread?.dispose();
    this.thread = null;
  }

  private fromPixelMajor(M: Float32Array): Float32Array {
    const { d, k, kp } = this;
    const out = new Float32Array(k * d);
    for (let c = 0; c < k; c++) for (let p = 0; p < d; p++) out[c * d + p] = M[p * kp + c];
    return out;
  }
}
