/**
 * The gradient computed weight by weight with the chain rule, as the report's Part 7
 * first describes it: nothing is shared between weights, and dy_i^(l)/dy_m^(p) is
 * recomputed by eq. (9),
 *   dy_i^(l)/dy_m^(p) = a'(y_i^(l)) * sum_j w_ij^(l-1) dy_j^(l-1)/dy_m^(p),
 * recursively down to dy^(p)/dy^(p) = identity. The count grows like K^(N+1).
 * Every multiply, add, a' and dC/dy evaluation is counted where it happens.
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

export function naiveGradient(
  net: FcNet,
  ex: Example,
  ys: Float64Array[] = forward(net, ex.x),
  ws: GradientWorkspace = gradientWorkspace(net.K, net.N),
): GradientResult {
  checkGradientInputs(net, ex, ys, ws);
  const { K, N, weights } = net;
  const out = ys[N - 1];
  let mul = 0;
  let add = 0;
  let act = 0;
  let cst = 0;

  // dy_i^(l)/dy_m^(p), eq. (9); l >= p.
  function dydy(l: number, i: number, p: number, m: number): number {
    if (l === p) return i === m ? 1 : 0;
    const w = weights[l - 1];
    let s = w[i * K] * dydy(l - 1, 0, p, m);
    mul++;
    for (let j = 1; j < K; j++) {
      s += w[i * K + j] * dydy(l - 1, j, p, m);
      mul++;
      add++;
    }
    const da = activationDerivative(ys[l][i]);
    act++;
    mul++;
    return da * s;
  }

  const grads = ws.grads;
  for (let p = 0; p < N - 1; p++) {
    const g = grads[p];
    for (let n = 0; n < K; n++) {
      for (let m = 0; m < K; m++) {
        let sum = 0;
        for (let i = 0; i < K; i++) {
          const dC = costDerivative(out[i], ex.target[i]);
          cst++;
          const dyy = dydy(N - 1, i, p + 1, n);
          // eq. (8): dy_n^(p+1)/dw_nm^(p) = a'(y_n^(p+1)) y_m^(p)
          const dyw = activationDerivative(ys[p + 1][n]) * ys[p][m];
          act++;
          mul++;
          const term = dC * dyy * dyw;
          mul += 2;
          if (i === 0) sum = term;
          else {
            sum += term;
            add++;
          }
        }
        g[n * K + m] = sum;
      }
    }
  }
  return { grads, ops: { mul, add, act, cost: cst } };
}
