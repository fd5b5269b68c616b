/**
 * The settings of Parts 4-6 in one place (as the report states them), and the training
 * runs the notebooks share: Part 5's notebook compares with Part 4's curves and Part 6
 * starts from Part 5's optimum, so each run's weights and history are cached under
 * data/digits/ and retrained deterministically when the cache is missing.
 *
 * Used by: notebooks/02-softmax-network, 03-gradient, 04-gradient-descent, 05-momentum and
 * 06-momentum-contour. Models: models/softmax (and its kernel).
 */
import * as tf from "@tensorflow/tfjs";
import { oneHotRows } from "../data/labelled";
import { DIGITS as CLASSES, loadMnist, PIXELS } from "../data/mnist";
import { byProfile, profile } from "../runtime/profile";
import { countLine, progressLine } from "../runtime/progress";
import { Random, xavierNormal } from "../runtime/random";
import { chooseEngine, HistoryPoint, trainSoftmax, SoftmaxTrainResult } from "../models/softmax/gradient-descent";
import { cachedWeights } from "../models/softmax/weights-cache";
import { forwardAndGradient } from "../models/softmax/softmax";
import { SoftmaxKernel } from "../models/softmax/kernel/softmax-kernel";

export const DIGIT_SETTINGS = {
  /** Report: minibatches of 1000, "a compromise between speed and stability". */
  batchSize: 1000,
  /** Report: the largest power of ten that did not make the weights run away (summed cost). */
  learningRate: 1e-5,
  /** Report's gradient_descent default. */
  epsilon: 1e-8,
  /**
   * Report: ten thousand iterations; the quick profile runs a few hundred. A getter, read at
   * each use, so a profile changed in the parameters cell applies without restarting the kernel.
   */
  get maxIter(): number {
    return byProfile({ full: 10000, quick: 400 });
  },
  /** Accuracy on all 60,000 + 10,000 images every this many iterations. */
  get recordEvery(): number {
    return byProfile({ full: 100, quick: 20 });
  },
  /** Seed of the Xavier initialisation (shared by Parts 4 and 5, so they start equal). */
  initSeed: 411,
  /** Seed of the minibatch order (also shared). */
  batchSeed: 2018,
};

/** Xavier initial weights, N(0, 2 / (784 + 10)) = N(0, 1/397), as 10 x 784; biases zero. */
export function initialWeights(seed = DIGIT_SETTINGS.initSeed): { W0: Float32Array; b0: Float32Array } {
  return { W0: xavierNormal(new Random(seed), PIXELS, CLASSES, CLASSES * PIXELS), b0: new Float32Array(CLASSES) };
}

export interface DigitRun {
  W: Float32Array;
  b: Float32Array;
  momentum: number;
  iterations: number;
  stoppedBy: SoftmaxTrainResult["stoppedBy"];
  history: HistoryPoint[];
  /** Training steps only, excluding the accuracy evaluations. */
  msPerIteration: number;
  /** What computed the steps (see trainSoftmax's `engine`). */
  engine: SoftmaxTrainResult["engine"];
  fromCache: boolean;
}

/**
 * Trains on the MNIST training set with the report's settings and the given momentum
 * (0 = Part 4). `fresh` retrains even when a cached run exists (the notebook that owns
 * the run does that, so its timings are real); otherwise the cache is used if present.
 */
export async function digitRun(
  momentum: number,
  opts: { fresh?: boolean; onRecord?: (h: HistoryPoint) => void } = {},
): Promise<DigitRun> {
  const s = DIGIT_SETTINGS;
  // The engines agree to float32 rounding, not bit for bit, so each caches its own run.
  const engine = chooseEngine("auto", CLASSES).engine;
  const key = { ...s, momentum, profile: profile(), engine, version: 2 };
  const name = `softmax-momentum-${momentum}-${profile()}`;
  const train = () => {
    const { train, test } = loadMnist();
    const { W0, b0 } = initialWeights(s.initSeed);
    // One line updated in place while training (a cached run shows none).
    const line = progressLine();
    const t0 = performance.now();
    const status = (h: HistoryPoint, total = s.maxIter, end = "") =>
      countLine(
        `training, momentum ${momentum}`,
        h.iteration,
        total,
        (performance.now() - t0) / 1000,
        `test accuracy ${h.testAccuracy.toFixed(4)}${end}`,
      );
    const r = trainSoftmax({
      train,
      test,
      W0,
      b0,
      learningRate: s.learningRate,
      momentum,
      batchSize: s.batchSize,
      maxIter: s.maxIter,
      epsilon: s.epsilon,
      seed: s.batchSeed,
      recordEvery: s.recordEvery,
      onRecord: (h) => {
        opts.onRecord?.(h);
        line.update(status(h));
      },
      // "auto" resolves as above, and says why when it falls back to TensorFlow.js.
      engine: "auto",
    });
    const last = r.history[r.history.length - 1];
    // The final line counts the iterations run (fewer than maxIter when stopped by epsilon).
    if (last) line.done(status({ ...last, iteration: r.iterations }, r.iterations, ` (stopped by ${r.stoppedBy})`));
    return {
      W: r.W,
      b: r.b,
      info: {
        iterations: r.iterations,
        stoppedBy: r.stoppedBy,
        history: r.history,
        msPerIteration: r.stepMs / Math.max(1, r.iterations),
        engine: r.engine,
      },
    };
  };
  if (opts.fresh) {
    const { weightsCacheFile } = await import("../models/softmax/weights-cache");
    const fs = await import("fs");
    fs.rmSync(weightsCacheFile(name), { force: true });
  }
  const w = await cachedWeights(name, key, train, { W: CLASSES * PIXELS, b: CLASSES });
  const info = w.info as {
    iterations: number;
    stoppedBy: SoftmaxTrainResult["stoppedBy"];
    history: HistoryPoint[];
    msPerIteration: number;
    engine: SoftmaxTrainResult["engine"];
  };
  return { W: w.W, b: w.b, momentum, ...info, fromCache: w.fromCache };
}

/** The ten weight vectors (rows of W) as 784-value images, for weightImages. */
export function weightVectors(W: Float32Array): Float32Array[] {
  if (W.length !== CLASSES * PIXELS)
    throw new Error(`weightVectors: W has ${W.length} values, expected ${CLASSES} x ${PIXELS}`);
  return Array.from({ length: CLASSES }, (_, i) => W.subarray(i * PIXELS, (i + 1) * PIXELS));
}

/** The last recorded accuracies of a run. */
export function finalAccuracy(run: DigitRun): { train: number; test: number } {
  const h = run.history[run.history.length - 1];
  return { train: h.trainAccuracy, test: h.testAccuracy };
}

export interface KernelCheck {
  rows: number;
  /** Largest |dW| entry (TensorFlow.js), the scale of the comparison. */
  scale: number;
  /** Largest difference between the kernel's and TensorFlow.js's dW and db entries. */
  maxDiff: number;
  costKernel: number;
  costTfjs: number;
}

/**
 * The WebAssembly kernel's gradient against the hand-written TensorFlow.js gradient of
 * Part 3 on the first minibatch of the Part 4 run (initial weights), so a notebook can show
 * that both engines compute the same thing on the real data. Skipped, with the reason, when
 * training does not use the kernel (it is not built).
 */
export function kernelCheck(): KernelCheck | { skipped: string } {
  const { engine, note } = chooseEngine("auto", CLASSES);
  if (engine !== "kernel") return { skipped: note ?? "the kernel is not used" };
  const s = DIGIT_SETTINGS;
  const { train } = loadMnist();
  const { W0, b0 } = initialWeights(s.initSeed);
  const rows = new Random(s.batchSeed).permutation(train.rows).subarray(0, s.batchSize);
  const kernel = new SoftmaxKernel(train, CLASSES, s.batchSize, W0, b0).gradient(rows);
  const X = new Float32Array(s.batchSize * PIXELS);
  rows.forEach((j, r) => X.set(train.x.subarray(j * PIXELS, (j + 1) * PIXELS), r * PIXELS));
  const Y = oneHotRows(train.labels, rows, CLASSES);
  return tf.tidy(() => {
    const [W, Xt, b, Yt] = [
      tf.tensor2d(W0, [CLASSES, PIXELS]),
      tf.tensor2d(X, [s.batchSize, PIXELS]),
      tf.tensor1d(b0),
      tf.tensor2d(Y, [s.batchSize, CLASSES]),
    ];
    const g = forwardAndGradient(W, Xt, b, Yt);
    const dW = g.dW.dataSync(),
      db = g.db.dataSync();
    let scale = 0,
      maxDiff = 0;
    dW.forEach((v, i) => {
      scale = Math.max(scale, Math.abs(v));
      maxDiff = Math.max(maxDiff, Math.abs(v - kernel.dW[i]));
    });
    db.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - kernel.db[i]))));
    return {
      rows: s.batchSize,
      scale,
      maxDiff,
      costKernel: kernel.cost,
      costTfjs: g.cost.dataSync()[0],
    };
  });
}
