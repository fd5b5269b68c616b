/** Small seeded problems for the specs and for the gradient-check notebook. */
import { Random } from "../../runtime/random";
import type { Problem } from "./gradient-check";
import type { LabelledMatrix } from "../../data/labelled";

/** n random examples with d inputs in [0, 1), k classes, random labels and weights of scale `scale`. */
export function randomProblem(seed: number, n: number, d: number, k: number, scale = 0.5): Problem {
  const rng = new Random(seed);
  const X = new Float32Array(n * d).map(() => rng.uniform());
  const Y = new Float32Array(n * k);
  for (let r = 0; r < n; r++) Y[r * k + rng.int(k)] = 1;
  return { n, d, k, W: rng.normalArray(k * d, 0, scale), b: rng.normalArray(k, 0, scale), X, Y };
}

/**
 * A linearly separable set: class c lights up input c (plus noise on the others), so a
 * softmax layer can classify it perfectly.
 */
export function separableSet(seed: number, n: number, d: number, k: number): LabelledMatrix {
  if (d < k) throw new Error(`separableSet: need at least as many inputs (${d}) as classes (${k})`);
  const rng = new Random(seed);
  const images = new Float32Array(n * d);
  const labels = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const c = rng.int(k);
    labels[r] = c;
    for (let j = 0; j < d; j++) images[r * d + j] = 0.2 * rng.uniform();
    images[r * d + c] = 1;
  }
  return { rows: n, dim: d, x: images, labels };
}

/**
 * n rows of d inputs in [0, 1), about `density` of them nonzero; row 0 is all zero and row 1
 * all nonzero.
 */
export function sparseSet(seed: number, n: number, d: number, k: number, density: number): LabelledMatrix {
  const rng = new Random(seed);
  const images = new Float32Array(n * d);
  const labels = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    for (let p = 0; p < d; p++) if (r === 1 || (r !== 0 && rng.uniform() < density)) images[r * d + p] = rng.uniform();
    labels[r] = rng.int(k);
  }
  return { rows: n, dim: d, x: images, labels };
}
