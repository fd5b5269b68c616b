/**
 * Operation counts for the gradient of a fully-connected net, following the cost model of
 * the report's Part 7: a multiply costs t_m, an add t_+, one activation derivative a'(y)
 * t_a and one derivative of the cost with respect to an output node t_C. The gradient
 * code counts these as it runs; the closed forms below are the algebra of the notebook,
 * and the specs check that the two agree exactly.
 *
 * Network: N layers of K units (layer 1 is the input, layer N the output), so N - 1
 * weight matrices of K x K, no biases.
 */

export interface OpCounts {
  mul: number;
  add: number;
  /** Evaluations of the activation derivative a'. */
  act: number;
  /** Evaluations of dC/dy_i for an output node i. */
  cost: number;
}

export function zeroCounts(): OpCounts {
  return { mul: 0, add: 0, act: 0, cost: 0 };
}

/** All four kinds together, each weighted 1 (the unit-time version of the cost model). */
export function totalOps(c: OpCounts): number {
  return c.mul + c.add + c.act + c.cost;
}

export type GradientMethod = "naive" | "perWeight" | "backprop";

export function checkShape(K: number, N: number): void {
  if (!Number.isInteger(K) || K < 1) throw new Error(`layer width K must be a positive integer, got ${K}`);
  if (!Number.isInteger(N) || N < 2)
    throw new Error(`layer count N must be an integer >= 2 (input and output), got ${N}`);
}

/** S(d) = 1 + K + ... + K^(d-1) = (K^d - 1)/(K - 1): the number of eq.-9 evaluations below one of depth d. */
export function geometric(K: number, d: number): number {
  let s = 0;
  for (let q = 0; q < d; q++) s += K ** q;
  return s;
}

/**
 * The naive method: for each weight w_nm^(p), sum over output nodes i of
 * dC/dy_i^(N) * dy_i^(N)/dy_n^(p+1) * dy_n^(p+1)/dw_nm^(p), where the middle factor is
 * recomputed by eq. (9) recursively down to dy^(p+1)/dy^(p+1) = identity.
 * One eq.-9 step costs c = t_a + (K+1) t_m + (K-1) t_+ plus K recursive calls, so a
 * derivative of depth d costs c * S(d).
 */
export function naiveCount(K: number, N: number): OpCounts {
  checkShape(K, N);
  let sumS = 0; // sum over p = 1..N-1 of S(N - p - 1)
  for (let d = 0; d <= N - 2; d++) sumS += geometric(K, d);
  const weights = (N - 1) * K * K;
  return {
    cost: weights * K,
    act: weights * K + K ** 3 * sumS,
    mul: 3 * weights * K + K ** 3 * (K + 1) * sumS,
    add: weights * (K - 1) + K ** 3 * (K - 1) * sumS,
  };
}

/**
 * The report's eq. (11): dC/dz of layer p+2 is cached, but each weight w_nm^(p) redoes
 * the K-term sum  sum_i dC/dz_i^(p+2) w_in^(p+1)  (t_a + (K+2) t_m + (K-1) t_+ per weight);
 * the output layer's weights cost t_C + t_a + 2 t_m each.
 */
export function perWeightCount(K: number, N: number): OpCounts {
  checkShape(K, N);
  const hidden = (N - 2) * K * K;
  return {
    cost: K * K,
    act: K * K + hidden,
    mul: 2 * K * K + hidden * (K + 2),
    add: hidden * (K - 1),
  };
}

/**
 * Backpropagation proper: dC/dz is computed once per node (the sum is hoisted out of the
 * loop over incoming weights), then each weight's gradient is one multiply.
 */
export function backpropCount(K: number, N: number): OpCounts {
  checkShape(K, N);
  return {
    cost: K,
    act: K * (N - 1),
    mul: K * (N - 1) + K * K * (N - 1) + K * K * (N - 2),
    add: K * (K - 1) * (N - 2),
  };
}

export const CLOSED_FORMS: Record<GradientMethod, (K: number, N: number) => OpCounts> = {
  naive: naiveCount,
  perWeight: perWeightCount,
  backprop: backpropCount,
};
