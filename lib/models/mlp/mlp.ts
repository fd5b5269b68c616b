/**
 * The report's Part 8 network: flattened image -> linear -> ReLU or LeakyReLU(0.01) ->
 * linear -> 6 outputs, softmax cross-entropy, Xavier-normal initialisation, Adam.
 * Forward and backward are written out by hand on tfjs tensors: the wasm backend's
 * matMul with transpose flags (what tf.grad and tf.layers produce) is the slow path, so
 * every product here takes explicitly transposed inputs.
 */
import { isMainThread } from "worker_threads";
import * as tf from "@tensorflow/tfjs";
import { usableCores } from "../../runtime/cores";
import { Random, xavierNormal } from "../../runtime/random";
import type { LabelledMatrix } from "../../data/labelled";
import { MAX_KERNEL_CLASSES, mlpKernelAvailable, mlpKernelPath } from "./kernel/mlp-kernel";
import { trainVariants } from "./kernel/train-variants";

// Adam's constants as in torch.optim.Adam's defaults, which the report used.
const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;
export const LEAKY_SLOPE = 0.01;
/** The same constants for the kernel engine. */
export const ADAM = { beta1: BETA1, beta2: BETA2, epsilon: EPSILON };

/**
 * How trainMlp computes a step. "kernel": the WebAssembly SIMD kernel of
 * kernel/mlp-kernel.c (several times faster, see scripts/bench-faces.ts; needs the compiled
 * kernel and at most 8 classes). "tfjs": TensorFlow.js ops on the current backend.
 * "auto": the kernel when it can run, else tfjs. Both follow the same batches and agree to
 * float32 rounding.
 */
export type MlpEngine = "auto" | "kernel" | "tfjs";

/** The engine "auto" picks for `outputs` classes, and why when it is not the kernel. */
export function chooseMlpEngine(
  engine: MlpEngine,
  outputs: number,
  file = mlpKernelPath(),
): { engine: "kernel" | "tfjs"; note?: string } {
  if (engine !== "auto") return { engine };
  if (outputs > MAX_KERNEL_CLASSES)
    return { engine: "tfjs", note: `${outputs} classes (the kernel takes at most ${MAX_KERNEL_CLASSES})` };
  if (!mlpKernelAvailable(file))
    return { engine: "tfjs", note: `${file} is not built (npm run build; needs clang and lld)` };
  return { engine: "kernel" };
}

const warned = new Set<string>();

/** The slope of the activation below zero, as the kernel takes it. */
export function activationSlope(activation: Activation): number {
  return activation === "relu" ? 0 : LEAKY_SLOPE;
}

export type Activation = "relu" | "leaky_relu";

/**
 * Training stopped because the loss or a weight stopped being finite: it names the
 * configuration, the epoch and the learning rate, as trainSoftmax's DivergenceError does.
 * Both engines throw it, so a caller (the grid search) can record the configuration as
 * diverged instead of ranking NaN.
 */
export class MlpDivergenceError extends Error {
  constructor(
    readonly config: MlpConfig,
    readonly epoch: number,
    readonly reason: string,
  ) {
    super(
      `trainMlp: ${config.hidden} hidden ${config.activation}, batch ${config.batchSize}, learning rate ${config.learningRate} ` +
        `diverged at epoch ${epoch}: ${reason}. Lower the learning rate.`,
    );
    this.name = "MlpDivergenceError";
  }
}

export interface MlpConfig {
  hidden: number;
  activation: Activation;
  learningRate: number;
  batchSize: number;
  epochs: number;
  seed: number;
}

/** Plain arrays, so weights travel between threads and into JSON. W1 is inputSize x hidden, row-major. */
export interface MlpWeights {
  inputSize: number;
  hidden: number;
  outputs: number;
  activation: Activation;
  W1: Float32Array;
  b1: Float32Array;
  W2: Float32Array;
  b2: Float32Array;
}

export interface CurvePoint {
  epoch: number;
  train: number;
  validation: number;
}

export interface MlpTrainResult {
  weights: MlpWeights;
  curve: CurvePoint[];
  trainAccuracy: number;
  validationAccuracy: number;
  seconds: number;
  steps: number;
  /** The engine that computed the steps. */
  engine: "kernel" | "tfjs";
}

export function initWeights(
  inputSize: number,
  hidden: number,
  outputs: number,
  activation: Activation,
  seed: number,
): MlpWeights {
  const rng = new Random(seed);
  return {
    inputSize,
    hidden,
    outputs,
    activation,
    W1: xavierNormal(rng, inputSize, hidden),
    b1: new Float32Array(hidden),
    W2: xavierNormal(rng, hidden, outputs),
    b2: new Float32Array(outputs),
  };
}

function activate(z: tf.Tensor2D, activation: Activation): tf.Tensor2D {
  return activation === "relu" ? tf.relu(z) : tf.leakyRelu(z, LEAKY_SLOPE);
}

/** d activation / dz as a 0/1 (or slope/1) mask. */
function activationGrad(z: tf.Tensor2D, activation: Activation): tf.Tensor2D {
  const positive = tf.cast(tf.greater(z, 0), "float32") as tf.Tensor2D;
  return activation === "relu" ? positive : (tf.add(tf.mul(positive, 1 - LEAKY_SLOPE), LEAKY_SLOPE) as tf.Tensor2D);
}

function checkData(d: LabelledMatrix, inputSize: number, name: string): number {
  if (d.dim !== inputSize) throw new Error(`${name}: rows have ${d.dim} values but the network takes ${inputSize}`);
  if (d.x.length !== d.labels.length * d.dim)
    throw new Error(`${name}: ${d.x.length} values is not ${d.labels.length} rows of ${d.dim}`);
  return d.labels.length;
}

/** Class scores (logits) for all rows, in chunks so memory stays flat. */
export function mlpLogits(w: MlpWeights, x: Float32Array, rows: number): Float32Array {
  const out = new Float32Array(rows * w.outputs);
  const chunk = 512;
  tf.tidy(() => {
    const W1 = tf.tensor2d(w.W1, [w.inputSize, w.hidden]);
    const b1 = tf.tensor1d(w.b1);
    const W2 = tf.tensor2d(w.W2, [w.hidden, w.outputs]);
    const b2 = tf.tensor1d(w.b2);
    for (let r = 0; r < rows; r += chunk) {
      const n = Math.min(chunk, rows - r);
      const s = tf.tidy(() => {
        const X = tf.tensor2d(x.subarray(r * w.inputSize, (r + n) * w.inputSize), [n, w.inputSize]);
        const H = activate(tf.add(tf.matMul(X, W1), b1) as tf.Tensor2D, w.activation);
        return tf.add(tf.matMul(H, W2), b2);
      });
      out.set(s.dataSync(), r * w.outputs);
      s.dispose();
    }
  });
  return out;
}

/** Hidden-layer activations (rows x hidden), for Part 9. */
export function hiddenActivations(w: MlpWeights, x: Float32Array, rows: number): Float32Array {
  return tf.tidy(() => {
    const X = tf.tensor2d(x, [rows, w.inputSize]);
    return activate(
      tf.add(tf.matMul(X, tf.tensor2d(w.W1, [w.inputSize, w.hidden])), tf.tensor1d(w.b1)) as tf.Tensor2D,
      w.activation,
    ).dataSync() as Float32Array;
  });
}

export function mlpPredict(w: MlpWeights, x: Float32Array, rows: number): Uint8Array {
  const s = mlpLogits(w, x, rows);
  const out = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let k = 1; k < w.outputs; k++) if (s[r * w.outputs + k] > s[r * w.outputs + best]) best = k;
    out[r] = best;
  }
  return out;
}

export function mlpAccuracy(w: MlpWeights, d: LabelledMatrix): number {
  const rows = checkData(d, w.inputSize, "accuracy");
  if (rows === 0) return NaN;
  const p = mlpPredict(w, d.x, rows);
  let right = 0;
  for (let r = 0; r < rows; r++) if (p[r] === d.labels[r]) right++;
  return right / rows;
}

type Params = { W1: tf.Tensor2D; b1: tf.Tensor1D; W2: tf.Tensor2D; b2: tf.Tensor1D };

/**
 * Mean softmax cross-entropy of a batch and its gradients, by hand: dL/dZ2 = (softmax - Y) / B,
 * then back through the second layer, the activation and the first layer.
 */
function backward(
  p: Params,
  X: tf.Tensor2D,
  Y: tf.Tensor2D,
  activation: Activation,
  withLoss = false,
): { loss: tf.Scalar | null; grads: Record<keyof Params, tf.Tensor> } {
  const B = X.shape[0];
  const Z1 = tf.add(tf.matMul(X, p.W1), p.b1) as tf.Tensor2D;
  const H = activate(Z1, activation);
  const Z2 = tf.add(tf.matMul(H, p.W2), p.b2) as tf.Tensor2D;
  const loss = withLoss ? (tf.neg(tf.div(tf.sum(tf.mul(Y, tf.logSoftmax(Z2))), B)) as tf.Scalar) : null;
  const dZ2 = tf.div(tf.sub(tf.softmax(Z2), Y), B) as tf.Tensor2D;
  const dW2 = tf.matMul(tf.transpose(H), dZ2);
  const db2 = tf.sum(dZ2, 0);
  const dH = tf.matMul(dZ2, tf.transpose(p.W2));
  const dZ1 = tf.mul(dH, activationGrad(Z1, activation)) as tf.Tensor2D;
  const dW1 = tf.matMul(tf.transpose(X), dZ1);
  const db1 = tf.sum(dZ1, 0);
  return { loss, grads: { W1: dW1, b1: db1, W2: dW2, b2: db2 } };
}

/** Loss and gradients for given weights and labelled rows (what training uses; exposed for tests). */
export function lossAndGradients(
  w: MlpWeights,
  x: Float32Array,
  y: Uint8Array,
): { loss: number; W1: Float32Array; b1: Float32Array; W2: Float32Array; b2: Float32Array } {
  const B = y.length;
  const onehot = new Float32Array(B * w.outputs);
  for (let i = 0; i < B; i++) onehot[i * w.outputs + y[i]] = 1;
  return tf.tidy(() => {
    const p: Params = {
      W1: tf.tensor2d(w.W1, [w.inputSize, w.hidden]),
      b1: tf.tensor1d(w.b1),
      W2: tf.tensor2d(w.W2, [w.hidden, w.outputs]),
      b2: tf.tensor1d(w.b2),
    };
    const r = backward(p, tf.tensor2d(x, [B, w.inputSize]), tf.tensor2d(onehot, [B, w.outputs]), w.activation, true);
    const get = (t: tf.Tensor) => t.dataSync() as Float32Array;
    return {
      loss: r.loss!.dataSync()[0],
      W1: get(r.grads.W1),
      b1: get(r.grads.b1),
      W2: get(r.grads.W2),
      b2: get(r.grads.b2),
    };
  });
}

/**
 * First-layer multiply-adds (forward and gradient, over all epochs) below which a second
 * thread is not worth starting: about 0.1 s of the kernel on one core, against the tens of
 * milliseconds a thread takes to start.
 */
const THREAD_WORTH_MACS = 1e9;

/**
 * Threads the kernel engine uses by default: 2 on the main thread when two cores are usable
 * (runtime/cores.ts) and the run is long enough; 1 inside worker threads (the grid search
 * already keeps every core busy with one job each). Either gives the same weights.
 */
export function defaultMlpThreads(train: LabelledMatrix, cfg: Pick<MlpConfig, "hidden" | "epochs">): 1 | 2 {
  const macs = 2 * cfg.epochs * train.rows * train.dim * 4 * Math.ceil(cfg.hidden / 4);
  return isMainThread && usableCores() >= 2 && macs >= THREAD_WORTH_MACS ? 2 : 1;
}

/**
 * Trains with minibatch Adam, shuffling each epoch from the seed (the last batch of an
 * epoch may be smaller, as with torch's DataLoader). `curveEvery` epochs (and at the end)
 * the training and validation accuracies are recorded. `threads` applies to the kernel
 * engine (default: defaultMlpThreads).
 */
export function trainMlp(
  train: LabelledMatrix,
  validation: LabelledMatrix,
  cfg: MlpConfig,
  opts: { outputs?: number; curveEvery?: number; engine?: MlpEngine; threads?: 1 | 2 } = {},
): MlpTrainResult {
  const outputs = opts.outputs ?? 6;
  const D = train.dim;
  const N = checkData(train, D, "training set");
  checkData(validation, D, "validation set");
  for (const [k, v] of Object.entries({ hidden: cfg.hidden, batchSize: cfg.batchSize, epochs: cfg.epochs })) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`trainMlp: ${k} must be a positive integer, got ${v}`);
  }
  if (!(cfg.learningRate > 0 && Number.isFinite(cfg.learningRate)))
    throw new Error(`trainMlp: learningRate must be a positive finite number, got ${cfg.learningRate}`);
  if (cfg.activation !== "relu" && cfg.activation !== "leaky_relu")
    throw new Error(`trainMlp: activation must be relu or leaky_relu, got ${cfg.activation}`);
  for (let i = 0; i < N; i++)
    if (train.labels[i] >= outputs)
      throw new Error(`trainMlp: label ${train.labels[i]} at row ${i} is not below ${outputs}`);

  const t0 = performance.now();
  const init = initWeights(D, cfg.hidden, outputs, cfg.activation, cfg.seed);
  const { engine, note } = chooseMlpEngine(opts.engine ?? "auto", outputs);
  if (note && !warned.has(note)) {
    warned.add(note);
    console.warn(`trainMlp: training with TensorFlow.js, not the faster WebAssembly kernel: ${note}`);
  }
  if (engine === "kernel") {
    const threads = opts.threads ?? defaultMlpThreads(train, cfg);
    return trainOnKernel(train, validation, cfg, init, opts.curveEvery ?? 0, threads, t0);
  }
  const params = {
    W1: tf.variable(tf.tensor2d(init.W1, [D, cfg.hidden])) as tf.Variable<tf.Rank.R2>,
    b1: tf.variable(tf.tensor1d(init.b1)) as tf.Variable<tf.Rank.R1>,
    W2: tf.variable(tf.tensor2d(init.W2, [cfg.hidden, outputs])) as tf.Variable<tf.Rank.R2>,
    b2: tf.variable(tf.tensor1d(init.b2)) as tf.Variable<tf.Rank.R1>,
  };
  type Name = keyof typeof params;
  const names = Object.keys(params) as Name[];
  const m = Object.fromEntries(names.map((k) => [k, tf.variable(tf.zerosLike(params[k]))])) as Record<
    Name,
    tf.Variable
  >;
  const v = Object.fromEntries(names.map((k) => [k, tf.variable(tf.zerosLike(params[k]))])) as Record<
    Name,
    tf.Variable
  >;

  const shuffleRng = new Random(cfg.seed + 1);
  const batchX = new Float32Array(cfg.batchSize * D);
  const batchY = new Float32Array(cfg.batchSize * outputs);
  const snapshot = (): MlpWeights => ({
    inputSize: D,
    hidden: cfg.hidden,
    outputs,
    activation: cfg.activation,
    W1: params.W1.dataSync() as Float32Array,
    b1: params.b1.dataSync() as Float32Array,
    W2: params.W2.dataSync() as Float32Array,
    b2: params.b2.dataSync() as Float32Array,
  });
  const curve: CurvePoint[] = [];
  let step = 0;
  /** Summed batch losses of the current epoch (a tensor, read once per epoch). */
  let epochLoss: tf.Scalar = tf.scalar(0);
  /** The loss, then every parameter, must be finite after each epoch. */
  const checkEpoch = (epoch: number) => {
    const loss = epochLoss.dataSync()[0];
    if (!Number.isFinite(loss)) throw new MlpDivergenceError(cfg, epoch, `the training loss became ${loss}`);
    for (const k of names) {
      const finite = tf.tidy(() => tf.all(tf.isFinite(params[k])).dataSync()[0]);
      if (!finite) throw new MlpDivergenceError(cfg, epoch, `a weight in ${k} became NaN or infinite`);
    }
  };

  const adamStep = (grads: Record<Name, tf.Tensor>) => {
    step++;
    const c1 = 1 - BETA1 ** step;
    const c2 = 1 - BETA2 ** step;
    for (const k of names) {
      tf.tidy(() => {
        const g = grads[k];
        const mk = tf.add(tf.mul(m[k], BETA1), tf.mul(g, 1 - BETA1));
        const vk = tf.add(tf.mul(v[k], BETA2), tf.mul(tf.square(g), 1 - BETA2));
        m[k].assign(mk);
        v[k].assign(vk);
        // torch's form: p -= lr/c1 * m / (sqrt(v)/sqrt(c2) + eps)
        const denom = tf.add(tf.div(tf.sqrt(vk), Math.sqrt(c2)), EPSILON);
        params[k].assign(tf.sub(params[k], tf.mul(tf.div(mk, denom), cfg.learningRate / c1)));
      });
    }
  };

  try {
    for (let epoch = 1; epoch <= cfg.epochs; epoch++) {
      const order = shuffleRng.permutation(N);
      for (let start = 0; start < N; start += cfg.batchSize) {
        const B = Math.min(cfg.batchSize, N - start);
        batchY.fill(0);
        for (let b = 0; b < B; b++) {
          const r = order[start + b];
          batchX.set(train.x.subarray(r * D, (r + 1) * D), b * D);
          batchY[b * outputs + train.labels[r]] = 1;
        }
        const before = epochLoss;
        epochLoss = tf.tidy(() => {
          const X = tf.tensor2d(batchX.subarray(0, B * D), [B, D]);
          const Y = tf.tensor2d(batchY.subarray(0, B * outputs), [B, outputs]);
          const r = backward(params, X, Y, cfg.activation, true);
          adamStep(r.grads);
          return tf.add(before, r.loss!) as tf.Scalar;
        });
        before.dispose();
      }
      checkEpoch(epoch);
      epochLoss.dispose();
      epochLoss = tf.scalar(0);
      const every = opts.curveEvery ?? 0;
      if ((every > 0 && epoch % every === 0) || epoch === cfg.epochs) {
        const w = snapshot();
        curve.push({ epoch, train: mlpAccuracy(w, train), validation: mlpAccuracy(w, validation) });
      }
    }
    const weights = snapshot();
    const last = curve[curve.length - 1];
    return {
      weights,
      curve,
      trainAccuracy: last.train,
      validationAccuracy: last.validation,
      seconds: (performance.now() - t0) / 1000,
      steps: step,
      engine: "tfjs",
    };
  } finally {
    epochLoss.dispose();
    for (const k of names) {
      params[k].dispose();
      m[k].dispose();
      v[k].dispose();
    }
  }
}

/** trainMlp on the kernel engine: the same epochs, batches and curve points. */
function trainOnKernel(
  train: LabelledMatrix,
  validation: LabelledMatrix,
  cfg: MlpConfig,
  init: MlpWeights,
  every: number,
  threads: 1 | 2,
  t0: number,
): MlpTrainResult {
  const recordAt = new Set<number>();
  for (let e = 1; e <= cfg.epochs; e++) if ((every > 0 && e % every === 0) || e === cfg.epochs) recordAt.add(e);
  const r = trainVariants(
    train,
    validation,
    [{ init, slope: activationSlope(cfg.activation), learningRate: cfg.learningRate }],
    {
      batchSize: cfg.batchSize,
      epochs: cfg.epochs,
      seed: cfg.seed,
      recordAt,
      snapshotAt: new Set([cfg.epochs]),
      adam: ADAM,
      threads,
    },
  );
  const out = r.outcomes[0];
  if (out.diverged) throw new MlpDivergenceError(cfg, out.diverged.epoch, out.diverged.reason);
  const last = out.curve[out.curve.length - 1];
  return {
    weights: { ...out.snapshots.get(cfg.epochs)!, activation: cfg.activation },
    curve: out.curve,
    trainAccuracy: last.train,
    validationAccuracy: last.validation,
    seconds: (performance.now() - t0) / 1000,
    steps: r.steps,
    engine: "kernel",
  };
}

const WEIGHT_ARRAYS = ["W1", "b1", "W2", "b2"] as const;

/**
 * Weights as JSON-safe plain arrays, and back (with shape and value checks naming what is
 * wrong). Non-finite weights are refused: JSON would write them as null, which reads back as 0.
 */
export function weightsToJson(w: MlpWeights, where = "weights"): string {
  for (const name of WEIGHT_ARRAYS) {
    const i = w[name].findIndex((v) => !Number.isFinite(v));
    if (i >= 0) throw new Error(`${where}: not saved, ${name}[${i}] is ${w[name][i]}`);
  }
  return JSON.stringify({
    ...w,
    W1: Array.from(w.W1),
    b1: Array.from(w.b1),
    W2: Array.from(w.W2),
    b2: Array.from(w.b2),
  });
}

export function weightsFromJson(text: string, where = "weights"): MlpWeights {
  let o;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: not valid JSON (${(e as Error).message}); the file is damaged or was cut short`, {
      cause: e,
    });
  }
  for (const name of WEIGHT_ARRAYS) {
    const a: unknown[] = Array.isArray(o?.[name]) ? o[name] : [];
    const i = a.findIndex((v) => typeof v !== "number" || !Number.isFinite(v));
    if (i >= 0) throw new Error(`${where}: ${name}[${i}] is ${JSON.stringify(a[i])}, not a finite number`);
  }
  const w: MlpWeights = {
    ...o,
    W1: Float32Array.from(o.W1 ?? []),
    b1: Float32Array.from(o.b1 ?? []),
    W2: Float32Array.from(o.W2 ?? []),
    b2: Float32Array.from(o.b2 ?? []),
  };
  const expect: [string, number, number][] = [
    ["W1", w.W1.length, w.inputSize * w.hidden],
    ["b1", w.b1.length, w.hidden],
    ["W2", w.W2.length, w.hidden * w.outputs],
    ["b2", w.b2.length, w.outputs],
  ];
  for (const [name, got, want] of expect)
    if (!(got === want && want > 0)) throw new Error(`${where}: ${name} has ${got} values, expected ${want}`);
  return w;
}
