/**
 * Part 9 (notebook 09-hidden-units): which hidden units of the chosen network tell two
 * actors A and B apart. For unit j with mean activations hA, hB over each actor's training
 * images and output weights wA = W2[j, A], wB = W2[j, B]:
 *
 * - the report's score: the percentage difference of the contributions cA = hA wA and
 *   cB = hB wB, 100 |cA - cB| / ((|cA| + |cB|) / 2). It saturates: it is exactly 200%
 *   whenever cA and cB have opposite signs or one of them is 0, however small the other,
 *   so near-dead units tie with the strongest ones.
 * - the separation: (hA - hB)(wA - wB), the unit's share of how much larger the margin
 *   o_A - o_B is on A's images than on B's (the shares of all units sum to that difference,
 *   the biases cancel). It does not saturate, is 0 for a unit equally active on both
 *   actors, and negative for a unit that works against telling them apart.
 */
import { hiddenActivations, MlpWeights } from "../models/mlp/mlp";

/** Mean of each hidden unit's activation over the rows of x. */
export function meanHidden(w: MlpWeights, x: Float32Array, rows: number): Float64Array {
  if (rows <= 0) throw new Error(`meanHidden: no rows (x has ${x.length} values)`);
  const h = hiddenActivations(w, x, rows);
  const mean = new Float64Array(w.hidden);
  for (let r = 0; r < rows; r++) for (let j = 0; j < w.hidden; j++) mean[j] += h[r * w.hidden + j] / rows;
  return mean;
}

/** The report's percentage difference, 100 |a - b| / ((|a| + |b|) / 2); 0 when both are 0. */
export function percentDifference(a: number, b: number): number {
  const sum = Math.abs(a) + Math.abs(b);
  // The ratio first: with opposite signs (or a zero) |a - b| and |a| + |b| are the same
  // floating-point sum, so the score is exactly 200, not 200 give or take a rounding.
  return sum === 0 ? 0 : 200 * (Math.abs(a - b) / sum);
}

export interface UnitScore {
  unit: number;
  meanA: number;
  meanB: number;
  weightA: number;
  weightB: number;
  /** meanA * weightA and meanB * weightB: the report's contributions. */
  contributionA: number;
  contributionB: number;
  percentDifference: number;
  /** (meanA - meanB)(weightA - weightB). */
  separation: number;
  /** Place by the report's score (1 = first; equal scores keep unit order, as a plain sort does). */
  reportRank: number;
  /** Place by separation (equal separations keep unit order). */
  separationRank: number;
  /** The actor a larger activation of this unit speaks for: the one whose output weight is larger. */
  favours: "A" | "B";
}

/** Every hidden unit scored both ways, ordered by separation (largest first). */
export function rankUnits(
  w: MlpWeights,
  meanA: ArrayLike<number>,
  meanB: ArrayLike<number>,
  labelA: number,
  labelB: number,
): UnitScore[] {
  if (meanA.length !== w.hidden || meanB.length !== w.hidden)
    throw new Error(`rankUnits: ${w.hidden} hidden units but ${meanA.length} and ${meanB.length} mean activations`);
  for (const label of [labelA, labelB])
    if (!(Number.isInteger(label) && label >= 0 && label < w.outputs))
      throw new Error(`rankUnits: label ${label} is not an output of the network (0..${w.outputs - 1})`);
  const units: UnitScore[] = [];
  for (let j = 0; j < w.hidden; j++) {
    const weightA = w.W2[j * w.outputs + labelA];
    const weightB = w.W2[j * w.outputs + labelB];
    const contributionA = meanA[j] * weightA;
    const contributionB = meanB[j] * weightB;
    units.push({
      unit: j,
      meanA: meanA[j],
      meanB: meanB[j],
      weightA,
      weightB,
      contributionA,
      contributionB,
      percentDifference: percentDifference(contributionA, contributionB),
      separation: (meanA[j] - meanB[j]) * (weightA - weightB),
      reportRank: 0,
      separationRank: 0,
      favours: weightA >= weightB ? "A" : "B",
    });
  }
  const byReport = [...units].sort((a, b) => b.percentDifference - a.percentDifference || a.unit - b.unit);
  byReport.forEach((u, i) => (u.reportRank = i + 1));
  const bySeparation = [...units].sort((a, b) => b.separation - a.separation || a.unit - b.unit);
  bySeparation.forEach((u, i) => (u.separationRank = i + 1));
  return bySeparation;
}

/** How many of the first k scores (in the given order) equal another score among those k: 0 means no ties at the top. */
export function tiesAmongFirst(scores: readonly number[], k: number): number {
  const top = scores.slice(0, k);
  return top.filter((s, i) => top.some((t, j) => j !== i && t === s)).length;
}

/** Column j of W1 (the unit's input weights), as an image. */
export function unitInputWeights(w: MlpWeights, unit: number): Float32Array {
  if (!(Number.isInteger(unit) && unit >= 0 && unit < w.hidden))
    throw new Error(`unitInputWeights: unit ${unit} is not in 0..${w.hidden - 1}`);
  const img = new Float32Array(w.inputSize);
  for (let i = 0; i < w.inputSize; i++) img[i] = w.W1[i * w.hidden + unit];
  return img;
}
