/**
 * The one labelled-matrix type of the project: `rows` examples of `dim` inputs each, held
 * row-major in one Float32Array, with one class label per row. MNIST (Parts 1-6), the face
 * crops (Parts 8-9) and CNN features (Part 10) all come as this, and every model trains on
 * it: the softmax kernel reads the labels, the TensorFlow.js paths build one-hot rows from
 * them per minibatch, so there is no second copy of the truth to disagree with.
 */
export interface LabelledMatrix {
  rows: number;
  /** Inputs per row. */
  dim: number;
  /** rows x dim, row-major. */
  x: Float32Array;
  /** One class per row, 0..classes-1. */
  labels: Uint8Array;
}

/** Checks shape and labels once, naming the set and the first bad row. */
export function checkLabelled(m: LabelledMatrix, classes: number, name = "set"): void {
  if (!(Number.isInteger(m.rows) && m.rows >= 0)) throw new Error(`${name}: rows must be a whole number, got ${m.rows}`);
  if (!(Number.isInteger(m.dim) && m.dim > 0)) throw new Error(`${name}: dim must be a positive whole number, got ${m.dim}`);
  if (m.x.length !== m.rows * m.dim)
    throw new Error(`${name}: x has ${m.x.length} values, expected ${m.rows} rows x ${m.dim} inputs`);
  if (m.labels.length !== m.rows) throw new Error(`${name}: ${m.labels.length} labels for ${m.rows} rows`);
  for (let r = 0; r < m.rows; r++)
    if (m.labels[r] >= classes) throw new Error(`${name}: row ${r} has label ${m.labels[r]}, expected 0..${classes - 1}`);
}

/** One-hot rows (rows x classes) of the given rows' labels, into `out` at row offset `at`. */
export function oneHotRows(
  labels: Uint8Array,
  rows: ArrayLike<number>,
  classes: number,
  out = new Float32Array(rows.length * classes),
  at = 0,
): Float32Array {
  out.fill(0, at * classes, (at + rows.length) * classes);
  for (let i = 0; i < rows.length; i++) out[(at + i) * classes + labels[rows[i]]] = 1;
  return out;
}

/** All one-hot rows of a set, rows x classes. */
export function oneHot(m: Pick<LabelledMatrix, "rows" | "labels">, classes: number): Float32Array {
  return oneHotRows(
    m.labels,
    Array.from({ length: m.rows }, (_, r) => r),
    classes,
  );
}
