/**
 * Parts 4 and 5: minibatch gradient descent on the summed cross-entropy, with the
 * momentum and stopping rule of the report's `gradient_descent`:
 *
 *     while ||W - last|| > epsilon and i < max_iter:
 *         dW = dW * momentum - grad_W * learning_rate;  W += dW   (same for b)
 *
 * Plain gradient descent is momentum 0. The gradient is the hand-written one of
 * softmax.ts, computed by the WebAssembly kernel of softmax-kernel.ts or by TensorFlow.js
 * ops (the `engine` option); accuracies on the whole training and test sets are recorded
 * every `recordEvery` iterations (evaluating 70,000 images every step would cost more than
 * the training itself).
 */
import * as tf from "@tensorflow/tfjs";
import { Random } from "../../runtime/random";
import { BatchBuffers } from "./batches";
import { forwardAndGradient } from "./softmax";
import { checkLabelled, LabelledMatrix } from "../../data/labelled";
import { defaultThreads, kernelAvailable, kernelPath, MAX_CLASSES, SoftmaxKernel } from "./kernel/softmax-kernel";

/** Training produced NaN or Infinity: stop with the iteration and learning rate, never draw NaN curves. */
export class DivergenceError extends Error {
  constructor(
    readonly iteration: number,
    readonly learningRate: number,
    readonly momentum: number,
    what: string,
  ) {
    super(
      `training diverged at iteration ${iteration} with learning rate ${learningRate} (momentum ${momentum}): ${what}. ` +
        `Lower the learning rate.`,
    );
    this.name = "DivergenceError";
  }
}

export interface Params {
  W: tf.Tensor2D;
  b: tf.Tensor1D;
}

export interface Velocity {
  vW: tf.Tensor2D;
  vb: tf.Tensor1D;
}

/** One update of the report's loop: v <- momentum v - rate g; w <- w + v. Returns new tensors. */
export function momentumStep(
  p: Params,
  v: Velocity,
  g: { dW: tf.Tensor2D; db: tf.Tensor1D },
  learningRate: number,
  momentum: number,
): Params & Velocity {
  return tf.tidy(() => {
    const vW = tf.sub(tf.mul(v.vW, momentum), tf.mul(g.dW, learningRate)) as tf.Tensor2D;
    const vb = tf.sub(tf.mul(v.vb, momentum), tf.mul(g.db, learningRate)) as tf.Tensor1D;
    return { W: tf.add(p.W, vW) as tf.Tensor2D, b: tf.add(p.b, vb) as tf.Tensor1D, vW, vb };
  });
}

/**
 * Fraction of `set` classified correctly, in chunks through one reusable batch (no copy
 * of the set). `batch` must be built without the transposed layout or with; only X is used.
 */
export function softmaxAccuracy(W: tf.Tensor2D, b: tf.Tensor1D, set: LabelledMatrix, batch: BatchBuffers): number {
  const B = batch.batchSize;
  const index = new Int32Array(B);
  let correct = 0;
  for (let start = 0; start < set.rows; start += B) {
    const n = Math.min(B, set.rows - start);
    for (let r = 0; r < n; r++) index[r] = start + r;
    batch.fill(set, index, 0, n);
    const predicted = tf.tidy(() => tf.argMax(tf.add(tf.matMul(batch.X, tf.transpose(W)), b), 1).dataSync());
    for (let r = 0; r < n; r++) if (predicted[r] === set.labels[start + r]) correct++;
  }
  return correct / set.rows;
}

export interface TrainOptions {
  train: LabelledMatrix;
  /** Also tracked in the history when given (never used for training). */
  test?: LabelledMatrix;
  /** Initial weights, k x d row-major, and biases (k). Not modified. */
  W0: Float32Array;
  b0: Float32Array;
  learningRate: number;
  momentum: number;
  batchSize: number;
  maxIter: number;
  /** Stop when the norm of the change of W in one step is at most this (report: 1e-8). */
  epsilon: number;
  /** Seed of the minibatch order. */
  seed: number;
  /** Record accuracies every this many iterations (and at 0 and at the end); 0 = never. */
  recordEvery: number;
  onRecord?: (h: HistoryPoint) => void;
  /** How steps are computed (default "auto"); both engines follow the same minibatch order. */
  engine?: Engine;
  /**
   * Kernel engine only: 2 splits each minibatch over two threads (the default on the main
   * thread of a machine with two or more cores). The weights are bit-identical either way.
   */
  threads?: 1 | 2;
}

export interface HistoryPoint {
  iteration: number;
  trainAccuracy: number;
  testAccuracy: number;
  /** Summed cost of the last minibatch (NaN at iteration 0). */
  batchCost: number;
}

export interface SoftmaxTrainResult {
  W: Float32Array;
  b: Float32Array;
  iterations: number;
  stoppedBy: "maxIter" | "epsilon";
  history: HistoryPoint[];
  /** Wall time of the training steps alone (history evaluation excluded). */
  stepMs: number;
  /** The engine that computed the steps. */
  engine: "kernel" | "tfjs";
}

function validate(o: TrainOptions, k: number, d: number): void {
  const bad = (what: string) => {
    throw new Error(`trainSoftmax: ${what}`);
  };
  if (!(o.learningRate > 0 && Number.isFinite(o.learningRate)))
    bad(`learningRate must be a positive number, got ${o.learningRate}`);
  if (!(o.momentum >= 0 && o.momentum < 1)) bad(`momentum must be in [0, 1), got ${o.momentum}`);
  if (!(Number.isInteger(o.batchSize) && o.batchSize > 0 && o.batchSize <= o.train.rows))
    bad(`batchSize must be an integer in 1..${o.train.rows}, got ${o.batchSize}`);
  if (!(Number.isInteger(o.maxIter) && o.maxIter >= 0)) bad(`maxIter must be a non-negative integer, got ${o.maxIter}`);
  if (!(o.epsilon >= 0)) bad(`epsilon must be >= 0, got ${o.epsilon}`);
  if (o.b0.length !== k) bad(`b0 has ${o.b0.length} entries, expected ${k}`);
  if (o.W0.length !== k * d) bad(`W0 has ${o.W0.length} values, expected ${k} x ${d}`);
  try {
    checkLabelled(o.train, k, "the training set");
    if (o.test) checkLabelled(o.test, k, "the test set");
  } catch (e) {
    bad((e as Error).message);
  }
}

/**
 * How a training step is computed. "kernel": the WebAssembly SIMD kernel of
 * softmax-kernel.ts (several times faster, see scripts/bench-softmax.ts; needs the
 * compiled kernel and at most 16 classes). "tfjs": TensorFlow.js ops on the current
 * backend. "auto": the kernel when it can run, else tfjs.
 */
export type Engine = "auto" | "kernel" | "tfjs";

/** The engine "auto" picks for k classes, and why when it is not the kernel. */
export function chooseEngine(
  engine: Engine,
  k: number,
  file = kernelPath(),
): { engine: "kernel" | "tfjs"; note?: string } {
  if (engine !== "auto") return { engine };
  if (k > MAX_CLASSES) return { engine: "tfjs", note: `${k} classes (the kernel takes at most ${MAX_CLASSES})` };
  if (!kernelAvailable(file))
    return { engine: "tfjs", note: `${file} is not built (npm run build; needs clang and lld)` };
  return { engine: "kernel" };
}

/** Fallback reasons already reported in this process (once each is enough). */
const warned = new Set<string>();

/** How a notebook names the engine that trained a run. */
export function engineLabel(engine: "kernel" | "tfjs", backendName: string): string {
  return engine === "kernel" ? "the WebAssembly SIMD kernel" : `TensorFlow.js (${backendName} backend)`;
}

/** One engine's training state. */
interface Stepper {
  /** One update on rows order[start..end): the minibatch's summed cost and the norm of the change of W. */
  step(order: Int32Array, start: number, end: number): { cost: number; norm: number };
  weights(): { W: Float32Array; b: Float32Array };
  /** Fraction of `set` classified correctly by the current weights. */
  accuracy(set: LabelledMatrix): number;
  dispose(): void;
}

function kernelStepper(o: TrainOptions, k: number): Stepper {
  const threads = o.batchSize >= 2 ? (o.threads ?? defaultThreads()) : 1;
  const kernel = new SoftmaxKernel(o.train, k, o.batchSize, o.W0, o.b0, { threads });
  return {
    step(order, start, end) {
      const s = kernel.step(order, start, end, o.learningRate, o.momentum);
      // A non-finite weight shows as a NaN norm, the same signal the tfjs engine gives.
      return { cost: s.cost, norm: s.weightsFinite ? Math.sqrt(s.stepNormSq) : NaN };
    },
    weights: () => kernel.weights(),
    accuracy: (set) => kernel.accuracy(set),
    dispose: () => kernel.dispose(),
  };
}

function tfjsStepper(o: TrainOptions, k: number, d: number): Stepper {
  const batch = new BatchBuffers(o.batchSize, d, k);
  const evalBatch = new BatchBuffers(1000, d, k, false);
  let p: Params = { W: tf.tensor2d(o.W0, [k, d]), b: tf.tensor1d(o.b0) };
  let v: Velocity = { vW: tf.zeros([k, d]), vb: tf.zeros([k]) };
  const disposeState = () => {
    for (const t of [p.W, p.b, v.vW, v.vb]) t.dispose();
  };
  return {
    step(order, start, end) {
      batch.fill(o.train, order, start, end);
      const next = tf.tidy(() => {
        const g = forwardAndGradient(p.W, batch.X, p.b, batch.Y, batch.XT);
        const step = momentumStep(p, v, g, o.learningRate, o.momentum);
        return { ...step, stats: tf.stack([tf.norm(step.vW), g.cost]) };
      });
      const [norm, cost] = next.stats.dataSync();
      next.stats.dispose();
      disposeState();
      p = { W: next.W, b: next.b };
      v = { vW: next.vW, vb: next.vb };
      return { cost, norm };
    },
    weights: () => ({ W: Float32Array.from(p.W.dataSync()), b: Float32Array.from(p.b.dataSync()) }),
    accuracy: (set) => softmaxAccuracy(p.W, p.b, set, evalBatch),
    dispose() {
      disposeState();
      batch.dispose();
      evalBatch.dispose();
    },
  };
}

/** Minibatch gradient descent with momentum, following the report's gradient_descent. */
export function trainSoftmax(o: TrainOptions): SoftmaxTrainResult {
  const k = o.b0.length;
  const d = o.train.dim;
  validate(o, k, d);
  const { engine, note } = chooseEngine(o.engine ?? "auto", k);
  if (note && !warned.has(note)) {
    warned.add(note);
    console.warn(`trainSoftmax: training with TensorFlow.js, not the faster WebAssembly kernel: ${note}`);
  }
  const rng = new Random(o.seed);
  const B = o.batchSize;
  const stepper = engine === "kernel" ? kernelStepper(o, k) : tfjsStepper(o, k, d);
  const history: HistoryPoint[] = [];
  const record = (iteration: number, batchCost: number) => {
    const h = {
      iteration,
      trainAccuracy: stepper.accuracy(o.train),
      testAccuracy: o.test ? stepper.accuracy(o.test) : NaN,
      batchCost,
    };
    history.push(h);
    o.onRecord?.(h);
  };
  let order = rng.permutation(o.train.rows);
  let pos = 0;
  let i = 0;
  let stoppedBy: SoftmaxTrainResult["stoppedBy"] = "maxIter";
  let stepMs = 0;
  let cost = NaN;
  try {
    if (o.recordEvery > 0) record(0, NaN);
    while (i < o.maxIter) {
      const t0 = performance.now();
      if (pos + B > o.train.rows) {
        order = rng.permutation(o.train.rows);
        pos = 0;
      }
      const s = stepper.step(order, pos, pos + B);
      pos += B;
      i++;
      cost = s.cost;
      stepMs += performance.now() - t0;
      if (!Number.isFinite(s.cost))
        throw new DivergenceError(i, o.learningRate, o.momentum, `the minibatch cost became ${s.cost}`);
      if (!Number.isFinite(s.norm))
        throw new DivergenceError(i, o.learningRate, o.momentum, `the weights became ${s.norm} (norm of the step)`);
      if (o.recordEvery > 0 && i % o.recordEvery === 0) record(i, cost);
      if (s.norm <= o.epsilon) {
        stoppedBy = "epsilon";
        break;
      }
    }
    if (o.recordEvery > 0 && history[history.length - 1].iteration !== i) record(i, cost);
    return { ...stepper.weights(), iterations: i, stoppedBy, history, stepMs, engine };
  } finally {
    stepper.dispose();
  }
}
