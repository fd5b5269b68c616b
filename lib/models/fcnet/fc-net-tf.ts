/**
 * The same network and cost in TensorFlow.js, differentiated by `tf.grads`: the
 * independent reference the hand-written gradients are checked against. tfjs computes in
 * float32 (the wasm and cpu backends have no float64), so comparisons use a relative
 * tolerance rather than equality.
 */
import * as tf from "@tensorflow/tfjs";
import { Example, FcNet, checkNet } from "./fc-net";

export function tfGradient(net: FcNet, ex: Example): Float64Array[] {
  checkNet(net, ex);
  const { K } = net;
  const grads = tf.tidy(() => {
    const x = tf.tensor2d(Float32Array.from(ex.x), [K, 1]);
    const t = tf.tensor2d(Float32Array.from(ex.target), [K, 1]);
    const ws = net.weights.map((w) => tf.tensor2d(Float32Array.from(w), [K, K]));
    const loss = (...w: tf.Tensor[]) => {
      let y: tf.Tensor = x;
      for (const wl of w) y = tf.tanh(tf.matMul(wl as tf.Tensor2D, y as tf.Tensor2D));
      return tf.mul(0.5, tf.sum(tf.square(tf.sub(y, t)))) as tf.Scalar;
    };
    return tf.grads(loss)(ws);
  });
  const out = grads.map((g) => Float64Array.from(g.dataSync()));
  tf.dispose(grads);
  return out;
}

/** ||a - b|| / ||b|| over all entries of all matrices (b is the reference). */
export function relativeError(a: Float64Array[], b: Float64Array[]): number {
  if (a.length !== b.length) throw new Error(`relativeError: ${a.length} matrices vs ${b.length}`);
  let num = 0;
  let den = 0;
  a.forEach((ai, l) => {
    const bi = b[l];
    if (ai.length !== bi.length) throw new Error(`relativeError: matrix ${l} has ${ai.length} vs ${bi.length} entries`);
    for (let k = 0; k < ai.length; k++) {
      num += (ai[k] - bi[k]) ** 2;
      den += bi[k] ** 2;
    }
  });
  if (den === 0) throw new Error("relativeError: the reference gradient is all zeros");
  return Math.sqrt(num / den);
}
