/**
 * The report's one-layer network (Part 2) and its cost and hand-written gradient (Part 3).
 *
 * Layout: a batch X is N x 784 with one example per row (as the report's code holds it),
 * W is 10 x 784 with row i holding the weights into output i (the W of the report's
 * equations, o = Wx + b), b has 10 entries. So the batch of outputs is X W^T + b.
 * Keeping W as 10 x 784 means every product the gradient needs has a small operand to
 * transpose (W or P - Y) and never the 1000 x 784 batch; see batches.ts for why that
 * matters on the wasm backend.
 */
import * as tf from "@tensorflow/tfjs";

function checkShapes(W: tf.Tensor, X: tf.Tensor, b: tf.Tensor, Y?: tf.Tensor): void {
  if (W.rank !== 2) throw new Error(`W must be 2-D (outputs x inputs), got shape [${W.shape}]`);
  if (X.rank !== 2) throw new Error(`X must be 2-D (examples x inputs), got shape [${X.shape}]`);
  const [k, d] = W.shape as [number, number];
  if (X.shape[1] !== d)
    throw new Error(`X has ${X.shape[1]} inputs per example but W expects ${d} (W [${W.shape}], X [${X.shape}])`);
  if (b.rank !== 1 || b.shape[0] !== k)
    throw new Error(`b must have ${k} entries (one per output), got shape [${b.shape}]`);
  if (Y && (Y.rank !== 2 || Y.shape[0] !== X.shape[0] || Y.shape[1] !== k)) {
    throw new Error(`Y must be [${X.shape[0]}, ${k}] one-hot rows, got shape [${Y.shape}]`);
  }
}

/** o = X W^T + b, the outputs before the softmax (one row per example). */
export function softmaxLogits(W: tf.Tensor2D, X: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  checkShapes(W, X, b);
  return tf.tidy(() => tf.add(tf.matMul(X, tf.transpose(W)), b));
}

/**
 * Row-wise softmax, stable: subtracting each row's maximum leaves the result unchanged
 * (the factor exp(-max) cancels) and keeps exp from overflowing for large outputs.
 */
export function stableSoftmax(o: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const e = tf.exp(tf.sub(o, tf.max(o, 1, true)));
    return tf.div(e, tf.sum(e, 1, true));
  });
}

/** Part 2: basic_network(W, x, b) = softmax(Wx + b), for a batch (rows of X). */
export function basicNetwork(W: tf.Tensor2D, X: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => stableSoftmax(softmaxLogits(W, X, b)));
}

/**
 * log p = o - logsumexp(o), with the maximum taken out before exp so that a confident
 * wrong answer gives a large finite cost instead of log(0) = -Infinity.
 */
export function logSoftmax(o: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const m = tf.max(o, 1, true);
    const lse = tf.add(m, tf.log(tf.sum(tf.exp(tf.sub(o, m)), 1, true)));
    return tf.sub(o, lse);
  });
}

/** The summed cross-entropy C = -sum_k sum_l y_l^(k) log p_l^(k) of the report. */
export function crossEntropy(W: tf.Tensor2D, X: tf.Tensor2D, b: tf.Tensor1D, Y: tf.Tensor2D): tf.Scalar {
  checkShapes(W, X, b, Y);
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(Y, logSoftmax(softmaxLogits(W, X, b))))) as tf.Scalar);
}

export interface Gradient {
  dW: tf.Tensor2D;
  db: tf.Tensor1D;
}

/**
 * Part 3(b), by hand, with the cost from the same forward pass: the one place the Part 3
 * math is written for TensorFlow.js (the training step and the kernel check both call it).
 * o = X W^T + b; P = softmax(o) with each row's maximum m taken out; dC/dW = (P - Y)^T X
 * (eq. 7 summed over the batch, 10 x 784); dC/db = column sums of P - Y; and
 * C = -sum(Y (o - lse)) with lse = m + log sum exp(o - m), the same operations as
 * crossEntropy (so both report the same float32 cost). `XT` (784 x N, the batch transposed) may be
 * passed when the caller already has it; then (X^T (P - Y))^T is formed, which avoids making
 * the 784 x N operand the "weights" of the wasm matrix product (see batches.ts).
 */
export function forwardAndGradient(
  W: tf.Tensor2D,
  X: tf.Tensor2D,
  b: tf.Tensor1D,
  Y: tf.Tensor2D,
  XT?: tf.Tensor2D,
): Gradient & { cost: tf.Scalar } {
  checkShapes(W, X, b, Y);
  return tf.tidy(() => {
    const o = tf.add(tf.matMul(X, tf.transpose(W)), b);
    const m = tf.max(o, 1, true);
    const e = tf.exp(tf.sub(o, m));
    const s = tf.sum(e, 1, true);
    const d = tf.sub(tf.div(e, s), Y);
    const dW = XT ? tf.transpose(tf.matMul(XT, d)) : tf.matMul(tf.transpose(d), X);
    const cost = tf.neg(tf.sum(tf.mul(Y, tf.sub(o, tf.add(m, tf.log(s)))))) as tf.Scalar;
    return { dW: dW as tf.Tensor2D, db: tf.sum(d, 0) as tf.Tensor1D, cost };
  });
}

/** The gradient of forwardAndGradient alone (Part 3(b)). */
export function softmaxGradient(
  W: tf.Tensor2D,
  X: tf.Tensor2D,
  b: tf.Tensor1D,
  Y: tf.Tensor2D,
  XT?: tf.Tensor2D,
): Gradient {
  return tf.tidy(() => {
    const { dW, db } = forwardAndGradient(W, X, b, Y, XT);
    return { dW, db };
  });
}

/** The same gradient by TensorFlow.js automatic differentiation, as an independent check. */
export function autodiffGradient(W: tf.Tensor2D, X: tf.Tensor2D, b: tf.Tensor1D, Y: tf.Tensor2D): Gradient {
  checkShapes(W, X, b, Y);
  return tf.tidy(() => {
    const [dW, db] = tf.grads((w: tf.Tensor, c: tf.Tensor) => crossEntropy(w as tf.Tensor2D, X, c as tf.Tensor1D, Y))([
      W,
      b,
    ]);
    return { dW: dW as tf.Tensor2D, db: db as tf.Tensor1D };
  });
}

/** Index of the largest output per row: the predicted digit. */
export function softmaxPredict(W: tf.Tensor2D, X: tf.Tensor2D, b: tf.Tensor1D): Int32Array {
  return tf.tidy(() => tf.argMax(softmaxLogits(W, X, b), 1).dataSync() as Int32Array);
}
