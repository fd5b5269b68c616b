/**
 * The Part 8 network's training on the WebAssembly SIMD kernel of mlp-kernel.c: forward,
 * backward and Adam over both layers in three passes per step, no per-operation tensors.
 *
 * One MlpKernel trains one or more variants together: networks with the same inputs and
 * hidden size that see the same batches in the same order, each with its own initial
 * weights, activation slope and learning rate (the grid's activation x rate configurations
 * share a seed, hence initial weights and batch order). The training set and the sets whose
 * accuracy is recorded are copied once into the kernel's memory.
 *
 * With `threads: 2` a second thread (runtime/wasm-thread.ts) shares that memory and each step
 * is split in two: the first layer's product over half of the batch's rows, and its gradient
 * and Adam update over half of the inputs, the small middle part staying on this thread. A
 * row's products and an input's gradient do not depend on how the work is split, so the
 * weights are the same bit for bit with one thread or two (mlp-kernel.spec.ts checks).
 */
import * as fs from "fs";
import { wasmKernelPath } from "../../../runtime/wasm";
import { instantiateShared, startWasmThread, THREAD_STACK_BYTES, WasmThread } from "../../../runtime/wasm-thread";
import type { LabelledMatrix } from "../../../data/labelled";
import type { MlpWeights } from "../mlp";

/** Classes the kernel handles (its per-row scores live in eight registers). */
export const MAX_KERNEL_CLASSES = 8;

/** Where scripts/build-wasm.mjs puts the compiled kernel. */
export function mlpKernelPath(): string {
  return wasmKernelPath("models", "mlp", "kernel", "mlp-kernel.wasm");
}

export function mlpKernelAvailable(file = mlpKernelPath()): boolean {
  return fs.existsSync(file);
}

interface Exports {
  __heap_base: WebAssembly.Global;
  mlp_forward(n: number, rows: number, X: number, d: number, W1: number, b1: number, hw: number, Z1: number): void;
  mlp_head(
    n: number,
    labels: number,
    Z1: number,
    slope: number,
    W2T: number,
    b2: number,
    variants: number,
    nq: number,
    k: number,
    dZ1: number,
    G2: number,
    gb2: number,
    gb1: number,
    loss: number,
  ): void;
  mlp_adam(rows: number, width: number, P: number, M: number, V: number, G: number, rate: number, ...c: number[]): void;
  mlp_panel_floats(n: number): number;
  mlp_backward_adam(
    n: number,
    rows: number,
    X: number,
    d: number,
    p0: number,
    p1: number,
    panel: number,
    dZ1: number,
    hw: number,
    W1: number,
    M1: number,
    V1: number,
    rate: number,
    ...c: number[]
  ): void;
  mlp_predict(
    n: number,
    Z1: number,
    slope: number,
    W2T: number,
    b2: number,
    variants: number,
    nq: number,
    k: number,
    pred: number,
  ): void;
  mlp_nonfinite(x: number, n: number): number;
}

/** One network of a group: its initial weights, its activation's slope below zero (0 for ReLU), its rate. */
export interface KernelVariant {
  init: MlpWeights;
  slope: number;
  learningRate: number;
}

/** Adam's constants (mlp.ts passes its own, so both engines use the same). */
export interface AdamConstants {
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** Rows evaluated per call when measuring accuracy. */
const EVAL_ROWS = 96;

export interface MlpKernelOptions {
  /** The compiled kernel (default: mlpKernelPath()). */
  file?: string;
  /** 2: a second thread does half of each step (default 1). */
  threads?: 1 | 2;
}

export class MlpKernel {
  readonly d: number;
  readonly hidden: number;
  /** Hidden columns per variant, rounded up to whole SIMD vectors. */
  readonly hp: number;
  readonly hw: number;
  readonly k: number;
  readonly variants: number;
  /** Adam steps taken. */
  steps = 0;
  private readonly ex: Exports;
  /** The kernel's memory, shared so that a second thread can work on it. */
  private readonly memory: WebAssembly.Memory;
  private readonly at: Record<string, number> = {};
  private top: number;
  private readonly sets: LabelledMatrix[];
  private readonly rates: number[];
  private thread: WasmThread | null = null;

  /**
   * `train` is what step() draws rows from; `evalSets` (e.g. the validation set) can be
   * passed to accuracies() by index, 0 being the training set. All sets must not change.
   */
  constructor(
    readonly train: LabelledMatrix,
    evalSets: LabelledMatrix[],
    variants: KernelVariant[],
    readonly batchSize: number,
    private readonly adam: AdamConstants,
    options: MlpKernelOptions = {},
  ) {
    const { file = mlpKernelPath(), threads = 1 } = options;
    if (variants.length === 0) throw new Error("MlpKernel: no variants to train");
    const first = variants[0].init;
    const { inputSize: d, hidden, outputs: k } = first;
    for (const [i, v] of variants.entries()) {
      const w = v.init;
      if (w.inputSize !== d || w.hidden !== hidden || w.outputs !== k)
        throw new Error(
          `MlpKernel: variant ${i} is ${w.inputSize} -> ${w.hidden} -> ${w.outputs}, variant 0 is ${d} -> ${hidden} -> ${k}`,
        );
      if (!(v.learningRate > 0 && Number.isFinite(v.learningRate)))
        throw new Error(`MlpKernel: variant ${i} has learning rate ${v.learningRate}`);
    }
    if (!(k >= 1 && k <= MAX_KERNEL_CLASSES))
      throw new Error(`MlpKernel: ${k} classes (the kernel takes 1..${MAX_KERNEL_CLASSES})`);
    if (!(Number.isInteger(batchSize) && batchSize >= 1))
      throw new Error(`MlpKernel: batch size ${batchSize} is not a positive integer`);
    this.sets = [train, ...evalSets];
    for (const [i, s] of this.sets.entries()) {
      if (s.dim !== d || s.x.length !== s.rows * d || s.labels.length !== s.rows)
        throw new Error(`MlpKernel: set ${i} has rows of ${s.dim} values (${s.rows} rows), the network takes ${d}`);
      for (let r = 0; r < s.rows; r++)
        if (!(s.labels[r] < k))
          throw new Error(`MlpKernel: label ${s.labels[r]} of row ${r} of set ${i} is not below ${k}`);
    }
    this.d = d;
    this.hidden = hidden;
    this.k = k;
    this.variants = variants.length;
    const hp = (this.hp = 4 * Math.ceil(hidden / 4));
    const hw = (this.hw = hp * variants.length);
    this.rates = variants.map((v) => v.learningRate);
    const { kernel, memory, exports: kernelExports } = instantiateShared<Exports>(file, "mlp kernel");
    this.ex = kernelExports;
    this.memory = memory;
    this.top = this.ex.__heap_base.value as number;
    const V = variants.length,
      K8 = V * MAX_KERNEL_CLASSES,
      B = Math.max(batchSize, EVAL_ROWS);
    const sizes: Record<string, number> = {
      rows: B * 4,
      labels: B,
      pred: B * V * 4,
      Z1: B * hw * 4,
      dZ1: B * hw * 4,
      W1: d * hw * 4,
      M1: d * hw * 4,
      V1: d * hw * 4,
      b1: hw * 4,
      mb1: hw * 4,
      vb1: hw * 4,
      gb1: hw * 4,
      slope: hw * 4,
      rate: hw * 4,
      W2T: k * hw * 4,
      M2: k * hw * 4,
      V2: k * hw * 4,
      G2: k * hw * 4,
      b2: K8 * 4,
      mb2: K8 * 4,
      vb2: K8 * 4,
      gb2: K8 * 4,
      rateB2: K8 * 4,
      loss: V * 4,
      // Scratch of mlp_backward_adam, one per thread: the batch's values of a tile of inputs, transposed.
      panel0: this.ex.mlp_panel_floats(batchSize) * 4,
      panel1: threads === 2 ? this.ex.mlp_panel_floats(batchSize) * 4 : 0,
      threadStack: threads === 2 ? THREAD_STACK_BYTES : 0,
    };
    for (const [name, bytes] of Object.entries(sizes)) this.allocate(name, bytes);
    for (const [i, s] of this.sets.entries()) {
      this.allocate(`X${i}`, s.x.byteLength);
      this.f32(`X${i}`, s.x.length).set(s.x);
    }
    // Zero-initialised memory: moments, gradients and padding columns start at 0.
    const W1 = this.f32("W1", d * hw),
      b1 = this.f32("b1", hw),
      W2T = this.f32("W2T", k * hw),
      b2 = this.f32("b2", K8),
      slope = this.f32("slope", hw);
    for (const [v, { init, slope: s }] of variants.entries()) {
      const c0 = v * hp;
      for (let p = 0; p < d; p++) for (let j = 0; j < hidden; j++) W1[p * hw + c0 + j] = init.W1[p * hidden + j];
      for (let j = 0; j < hidden; j++) {
        b1[c0 + j] = init.b1[j];
        for (let c = 0; c < k; c++) W2T[c * hw + c0 + j] = init.W2[j * k + c];
      }
      for (let c = 0; c < k; c++) b2[v * MAX_KERNEL_CLASSES + c] = init.b2[c];
      slope.fill(s, c0, c0 + hp);
    }
    // (A shared memory may grow with the thread running: it never moves.)
    if (threads === 2)
      this.thread = startWasmThread(
        kernel,
        memory,
        this.at.threadStack,
        ["mlp_forward", "mlp_backward_adam"],
        "mlp kernel",
      );
  }

  /** 2 when a second thread does half of each step. */
  get threads(): 1 | 2 {
    return this.thread ? 2 : 1;
  }

  /** Stops the second thread, if any. */
  dispose(): void {
    this.thread?.dispose();
    this.thread = null;
  }

  private allocate(name: string, bytes: number): void {
    const { memory } = this;
    this.top = (this.top + 15) & ~15;
    this.at[name] = this.top;
    this.top += bytes;
    if (this.top > memory.buffer.byteLength) memory.grow(Math.ceil((this.top - memory.buffer.byteLength) / 65536));
  }

  /** A view made on demand (a grown memory detaches older views). */
  private f32(name: string, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, this.at[name], n);
  }

  /** One Adam step of every variant on training rows order[start..end). */
  step(order: ArrayLike<number>, start: number, end: number): void {
    const { ex, at, d, hw, k, train } = this;
    const n = end - start;
    if (!(n >= 1 && n <= this.batchSize))
      throw new Error(`MlpKernel: ${n} rows do not fit a batch of ${this.batchSize}`);
    const rows = new Int32Array(this.memory.buffer, at.rows, n),
      labels = new Uint8Array(this.memory.buffer, at.labels, n);
    for (let r = 0; r < n; r++) {
      const j = order[start + r];
      if (!(j >= 0 && j < train.rows)) throw new Error(`MlpKernel: row ${j} is outside the training set`);
      rows[r] = j;
      labels[r] = train.labels[j];
    }
    const V = this.variants,
      nq = this.hp / 4;
    const { thread } = this;
    if (thread && n >= 2) {
      const h = n >> 1;
      thread.start("mlp_forward", [n - h, at.rows + 4 * h, at.X0, d, at.W1, at.b1, hw, at.Z1 + 4 * h * hw]);
      ex.mlp_forward(h, at.rows, at.X0, d, at.W1, at.b1, hw, at.Z1);
      thread.wait();
    } else ex.mlp_forward(n, at.rows, at.X0, d, at.W1, at.b1, hw, at.Z1);
    ex.mlp_head(n, at.labels, at.Z1, at.slope, at.W2T, at.b2, V, nq, k, at.dZ1, at.G2, at.gb2, at.gb1, at.loss);
    // Adam as mlp.ts does it: rate lr / (1 - beta1^t) and sqrt(1 - beta2^t), each rounded to float32 once.
    const t = ++this.steps;
    const { beta1, beta2, epsilon } = this.adam;
    const c1 = 1 - beta1 ** t,
      c2 = 1 - beta2 ** t;
    const rate = this.f32("rate", hw),
      rateB2 = this.f32("rateB2", V * MAX_KERNEL_CLASSES);
    for (let v = 0; v < V; v++) {
      rate.fill(this.rates[v] / c1, v * this.hp, (v + 1) * this.hp);
      rateB2.fill(this.rates[v] / c1, v * MAX_KERNEL_CLASSES, (v + 1) * MAX_KERNEL_CLASSES);
    }
    const c = [beta1, 1 - beta1, beta2, 1 - beta2, Math.sqrt(c2), epsilon];
    const backward = (p0: number, p1: number, panel: number) =>
      [n, at.rows, at.X0, d, p0, p1, panel, at.dZ1, hw, at.W1, at.M1, at.V1, at.rate, ...c] as const;
    if (thread && d >= 8) {
      const pm = (d >> 3) << 2; // half of the inputs, whole blocks of 4
      thread.start("mlp_backward_adam", [...backward(pm, d, at.panel1)]);
      ex.mlp_backward_adam(...backward(0, pm, at.panel0));
      thread.wait();
    } else ex.mlp_backward_adam(...backward(0, d, at.panel0));
    ex.mlp_adam(1, hw, at.b1, at.mb1, at.vb1, at.gb1, at.rate, ...c);
    ex.mlp_adam(k, hw, at.W2T, at.M2, at.V2, at.G2, at.rate, ...c);
    ex.mlp_adam(1, V * MAX_KERNEL_CLASSES, at.b2, at.mb2, at.vb2, at.gb2, at.rateB2, ...c);
  }

  /** Each variant's summed cross-entropy over the rows stepped on since the last call. */
  takeLoss(): number[] {
    const loss = this.f32("loss", this.variants);
    const out = Array.from(loss);
    loss.fill(0);
    return out;
  }

  /** Per variant: true while every weight is finite. */
  finite(): boolean[] {
    const { ex, at, d, hw, k } = this;
    const bad = [
      ex.mlp_nonfinite(at.W1, d * hw),
      ex.mlp_nonfinite(at.b1, hw),
      ex.mlp_nonfinite(at.W2T, k * hw),
      ex.mlp_nonfinite(at.b2, this.variants * MAX_KERNEL_CLASSES),
    ];
    if (bad.every((x) => x === 0)) return new Array(this.variants).fill(true);
    return Array.from({ length: this.variants }, (_, v) => {
      const w = this.weights(v);
      return [w.W1, w.b1, w.W2, w.b2].every((a) => a.every(Number.isFinite));
    });
  }

  /** Per variant, the fraction of set `which` (0: training set, i: evalSets[i - 1]) whose argmax score is the label. */
  accuracies(which: number): number[] {
    const set = this.sets[which];
    if (!set) throw new Error(`MlpKernel.accuracies: no set ${which} (there are ${this.sets.length})`);
    const { ex, at, d, hw, k } = this;
    const V = this.variants;
    const right = new Array(V).fill(0);
    for (let r0 = 0; r0 < set.rows; r0 += EVAL_ROWS) {
      const n = Math.min(EVAL_ROWS, set.rows - r0);
      const rows = new Int32Array(this.memory.buffer, at.rows, n);
      for (let r = 0; r < n; r++) rows[r] = r0 + r;
      ex.mlp_forward(n, at.rows, at[`X${which}`], d, at.W1, at.b1, hw, at.Z1);
      ex.mlp_predict(n, at.Z1, at.slope, at.W2T, at.b2, V, this.hp / 4, k, at.pred);
      const pred = new Int32Array(this.memory.buffer, at.pred, n * V);
      for (let r = 0; r < n; r++) for (let v = 0; v < V; v++) if (pred[r * V + v] === set.labels[r0 + r]) right[v]++;
    }
    return right.map((c) => c / set.rows);
  }

  /** Variant v's current weights in mlp.ts's layout. */
  weights(v: number): Omit<MlpWeights, "activation"> {
    const { d, hidden, hw, k } = this;
    const c0 = v * this.hp;
    const W1 = this.f32("W1", d * hw),
      b1 = this.f32("b1", hw),
      W2T = this.f32("W2T", k * hw),
      b2 = this.f32("b2", this.variants * MAX_KERNEL_CLASSES);
    const out = {
      inputSize: d,
      hidden,
      outputs: k,
      W1: new Float32Array(d * hidden),
      b1: b1.slice(c0, c0 + hidden),
      W2: new Float32Array(hidden * k),
      b2: b2.slice(v * MAX_KERNEL_CLASSES, v * MAX_KERNEL_CLASSES + k),
    };
    for (let p = 0; p < d; p++) out.W1.set(W1.subarray(p * hw + c0, p * hw + c0 + hidden), p * hidden);
    for (let j = 0; j < hidden; j++) for (let c = 0; c < k; c++) out.W2[j * k + c] = W2T[c * hw + c0 + j];
    return out;
  }
}
