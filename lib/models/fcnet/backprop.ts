/**
 * Gradients with cached derivatives. Both cache e^(l) = dC/dz^(l) (the derivative with
 * respect to a layer's pre-activation, i.e. dC/dy^(l) already multiplied by a'), layer
 * by layer from the output back:
 *
 * - `perWeightBackprop` is the scheme the report counts in eq. (11): for each weight
 *   w_nm^(p) it recomputes the K-term sum  sum_i e_i^(p+2) w_in^(p+1)  before using it,
 *   so each weight costs t_a + (K+2) t_m + (K-1) t_+ and the total is O(N K^3).
 * - `backprop` computes that sum once per node n (it does not depend on m), so each
 *   weight costs one multiply and the total is O(N K^2) - the usual backpropagation.
 */
import {
  Example,
  FcNet,
  GradientResult,
  GradientWorkspace,
  activationDerivative,
  checkGradientInputs,
  costDerivative,
  forward,
  gradientWorkspace,
} from "./fc-net";

export function perWeightBackprop(
  net: FcNet,
  ex: Example,
  ys: Float64Array[] = forward(net, ex.x),
  ws: GradientWorkspace = gradientWorkspace(net.K, net.N),
): GradientResult {
  checkGradientInputs(net, ex, ys, ws);
  const { K, N, weights } = net;
  let mul = 0;
  let add = 0;
  let act = 0;
  let cst = 0;
  const grads = ws.grads;
  // eNext holds dC/dz of layer p+2 while the weights w^(p) are done; e collects layer p+1's.
  let [eNext, e] = ws.vectors;
  for (let p = N - 2; p >= 0; p--) {
    const g = grads[p];
    const yOut = ys[p + 1];
    const yIn = ys[p];
    for (let n = 0; n < K; n++) {
      for (let m = 0; m < K; m++) {
        let upstream: number; // dC/dy_n^(p+1)
        if (p === N - 2) {
          upstream = costDerivative(yOut[n], ex.target[n]);
          cst++;
        } else {
          const w = weights[p + 1];
          upstream = eNext[0] * w[n];
          mul++;
          for (let i = 1; i < K; i++) {
            upstream += eNext[i] * w[i * K + n];
            mul++;
            add++;
          }
        }
        const en = upstream * activationDerivative(yOut[n]);
        act++;
        mul++;
        e[n] = en; // cached for the next layer down (the same value for every m)
        g[n * K + m] = en * yIn[m];
        mul++;
      }
    }
    const done = eNext;
    eNext = e;
    e = done;
  }
  return { grads, ops: { mul, add, act, cost: cst } };
}

export function backprop(
  net: FcNet,
  ex: Example,
  ys: Float64Array[] = forward(net, ex.x),
  ws: GradientWorkspace = gradientWorkspace(net.K, net.N),
): GradientResult {
  checkGradientInputs(net, ex, ys, ws);
  const { K, N, weights } = net;
  let mul = 0;
  let add = 0;
  let act = 0;
  let cst = 0;
  const grads = ws.grads;
  // upstream = dC/dy of the layer whose incoming weights come next; next receives the layer below's.
  let [upstream, next] = ws.vectors;
  const e = ws.vectors[2];
  const out = ys[N - 1];
  for (let i = 0; i < K; i++) {
    upstream[i] = costDerivative(out[i], ex.target[i]);
    cst++;
  }
  for (let p = N - 2; p >= 0; p--) {
    const yOut = ys[p + 1];
    const yIn = ys[p];
    for (let n = 0; n < K; n++) {
      e[n] = upstream[n] * activationDerivative(yOut[n]);
      act++;
      mul++;
    }
    const g = grads[p];
    for (let n = 0; n < K; n++) {
      const en = e[n];
      for (let m = 0; m < K; m++) g[n * K + m] = en * yIn[m];
      mul += K;
    }
    if (p > 0) {
      // dC/dy^(p) = W^(p)^T e: needed only while there is a layer of weights below.
      const w = weights[p];
      for (let m = 0; m < K; m++) next[m] = w[m] * e[0];
      mul += K;
      for (let n = 1; n < K; n++) {
        const en = e[n];
        const row = n * K;
        for (let m = 0; m < K; m++) next[m] += w[row + m] * en;
        mul += K;
        add += K;
      }
      const spare = upstream;
      upstream = next;
      next = spare;
    }
  }
  return { grads, ops: { mul, add, act, cost: cst } };
}
