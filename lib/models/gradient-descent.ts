/**
 * Parts 4 and 5: minibatch gradient descent on the summed cross-entropy, with the
 * momentum and stopping rule of the report's `gradient_descent`:
 *
 *     while ||W - last|| > epsilon and i < max_iter:
 *         dW = dW * momentum - grad_W * learning_rate;  W += dW   (same for b)
 *
 * Plain gradient descent is momentum 0. The gradient is the hand-written one of
 * softmax.ts; accuracies on the whole training and test sets are recorded every
 * `recordEvery` iterations (evaluating 70,000 images every step would cost more than
 * the training itself).
 */
import * as tf from "@tensorflow/tfjs";
import { Random } from "../runtime/random";
import { BatchBuffers, LabelledSet } from "./batches";

/** Training produced NaN or Infinity: stop with the iteration and learning rate, never draw NaN curves. */
export class DivergenceError extends Error {
  constructor(readonly iteration: number, readonly learningRate: number, readonly momentum: number, what: string) {
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
export function momentumStep(p: Params, v: Velocity, g: { dW: tf.Tensor2D; db: tf.Tensor1D }, learningRate: number, momentum: number): Params & Velocity {
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
export function accuracy(W: tf.Tensor2D, b: tf.Tensor1D, set: LabelledSet, batch: BatchBuffers): number {
  const B = batch.batchSize;
  const index = new Int32Array(B);
  let correct = 0;
  for (let start = 0; start < set.count; start += B) {
    const n = Math.min(B, set.count - start);
    for (let r = 0; r < n; r++) index[r] = start + r;
    batch.fill(set, index, 0, n);
    const predicted = tf.tidy(() => tf.argMax(tf.add(tf.matMul(batch.X, tf.transpose(W)), b), 1).dataSync());
    for (let r = 0; r < n; r++) if (predicted[r] === set.labels[start + r]) correct++;
  }
  return correct / set.count;
}

export interface TrainOptions {
  train: LabelledSet;
  /** Also tracked in the history when given (never used for training). */
  test?: LabelledSet;
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
}

export interface HistoryPoint {
  iteration: number;
  trainAccuracy: number;
  testAccuracy: number;
  /** Summed cost of the last minibatch (NaN at iteration 0). */
  batchCost: number;
}

export interface TrainResult {
  W: Float32Array;
  b: Float32Array;
  iterations: number;
  stoppedBy: "maxIter" | "epsilon";
  history: HistoryPoint[];
  /** Wall time of the training steps alone (history evaluation excluded). */
  stepMs: number;
}

function validate(o: TrainOptions, k: number, d: number): void {
  const bad = (what: string) => {
    throw new Error(`trainSoftmax: ${what}`);
  };
  if (!(o.learningRate > 0 && Number.isFinite(o.learningRate))) bad(`learningRate must be a positive number, got ${o.learningRate}`);
  if (!(o.momentum >= 0 && o.momentum < 1)) bad(`momentum must be in [0, 1), got ${o.momentum}`);
  if (!(Number.isInteger(o.batchSize) && o.batchSize > 0 && o.batchSize <= o.train.count)) bad(`batchSize must be an integer in 1..${o.train.count}, got ${o.batchSize}`);
  if (!(Number.isInteger(o.maxIter) && o.maxIter >= 0)) bad(`maxIter must be a non-negative integer, got ${o.maxIter}`);
  if (!(o.epsilon >= 0)) bad(`epsilon must be >= 0, got ${o.epsilon}`);
  if (o.b0.length !== k) bad(`b0 has ${o.b0.length} entries, expected ${k}`);
  if (o.W0.length !== k * d) bad(`W0 has ${o.W0.length} values, expected ${k} x ${d}`);
}

/** Minibatch gradient descent with momentum, following the report's gradient_descent. */
export function trainSoftmax(o: TrainOptions): TrainResult {
  const k = o.train.oneHot.length / o.train.count;
  const d = o.train.images.length / o.train.count;
  validate(o, k, d);
  const rng = new Random(o.seed);
  const B = o.batchSize;
  const batch = new BatchBuffers(B, d, k);
  const evalBatch = new BatchBuffers(1000, d, k, false);
  let p: Params = { W: tf.tensor2d(o.W0, [k, d]), b: tf.tensor1d(o.b0) };
  let v: Velocity = { vW: tf.zeros([k, d]), vb: tf.zeros([k]) };
  const history: HistoryPoint[] = [];
  const record = (iteration: number, batchCost: number) => {
    const h = {
      iteration,
      trainAccuracy: accuracy(p.W, p.b, o.train, evalBatch),
      testAccuracy: o.test ? accuracy(p.W, p.b, o.test, evalBatch) : NaN,
      batchCost,
    };
    history.push(h);
    o.onRecord?.(h);
  };
  let order = rng.permutation(o.train.count);
  let pos = 0;
  let i = 0;
  let stoppedBy: TrainResult["stoppedBy"] = "maxIter";
  let stepMs = 0;
  let cost = NaN;
  try {
    if (o.recordEvery > 0) record(0, NaN);
    while (i < o.maxIter) {
      const t0 = performance.now();
      if (pos + B > o.train.count) {
        order = rng.permutation(o.train.count);
        pos = 0;
      }
      batch.fill(o.train, order, pos, pos + B);
      pos += B;
      const next = tf.tidy(() => {
        // Forward once, reused by the gradient and the batch cost.
        const z = tf.add(tf.matMul(batch.X, tf.transpose(p.W)), p.b);
        const m = tf.max(z, 1, true);
        const e = tf.exp(tf.sub(z, m));
        const s = tf.sum(e, 1, true);
        const dz = tf.sub(tf.div(e, s), batch.Y);
        const g = { dW: tf.transpose(tf.matMul(batch.XT, dz)) as tf.Tensor2D, db: tf.sum(dz, 0) as tf.Tensor1D };
        const c = tf.sub(tf.sum(tf.add(m, tf.log(s))), tf.sum(tf.mul(batch.Y, z)));
        const step = momentumStep(p, v, g, o.learningRate, o.momentum);
        return { ...step, stats: tf.stack([tf.norm(step.vW), c]) };
      });
      const [norm, c] = next.stats.dataSync();
      next.stats.dispose();
      for (const t of [p.W, p.b, v.vW, v.vb]) t.dispose();
      p = { W: next.W, b: next.b };
      v = { vW: next.vW, vb: next.vb };
      i++;
      cost = c;
      stepMs += performance.now() - t0;
      if (!Number.isFinite(c)) throw new DivergenceError(i, o.learningRate, o.momentum, `the minibatch cost became ${c}`);
      if (!Number.isFinite(norm)) throw new DivergenceError(i, o.learningRate, o.momentum, `the weights became ${norm} (norm of the step)`);
      if (o.recordEvery > 0 && i % o.recordEvery === 0) record(i, cost);
      if (norm <= o.epsilon) {
        stoppedBy = "epsilon";
        break;
      }
    }
    if (o.recordEvery > 0 && history[history.length - 1].iteration !== i) record(i, cost);
    return { W: Float32Array.from(p.W.dataSync()), b: Float32Array.from(p.b.dataSync()), iterations: i, stoppedBy, history, stepMs };
  } finally {
    for (const t of [p.W, p.b, v.vW, v.vb]) t.dispose();
    batch.dispose();
    evalBatch.dispose();
  }
}
