/**
 * Trained weights cached under data/ so a later notebook (Part 6 needs Part 5's optimum)
 * does not retrain. The cache is keyed by everything that determines the weights; the file
 * also records the SHA-256 of W and b. A file is used only if its key matches and it proves
 * its contents: it parses, the checksum matches, W and b have the expected lengths and every
 * value is finite. Otherwise the weights are recomputed (training is seeded, so the same
 * settings give the same weights), with one line naming the file and why, and written
 * atomically. Non-finite weights are never written.
 */
import * as fs from "fs";
import * as path from "path";
import { dataDir, displayPath, writeFileAtomic } from "../../runtime/paths";
import { bytesOf, nonFiniteProblem, sha256Hex } from "../../runtime/integrity";

export interface CachedWeights {
  W: Float32Array;
  b: Float32Array;
  /** Extra numbers worth keeping with the weights (iterations, accuracies...). */
  info: Record<string, unknown>;
}

/** The lengths W and b must have (e.g. 10 x 784 and 10); a cached file of another shape is recomputed. */
export interface WeightsShape {
  W: number;
  b: number;
}

interface FileFormat {
  key: Record<string, unknown>;
  W: string;
  b: string;
  /** SHA-256 of W's bytes followed by b's. */
  sha256: string;
  info: Record<string, unknown>;
}

const toBase64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
function fromBase64(s: string): Float32Array {
  const buf = Buffer.from(s, "base64");
  if (buf.length % 4 !== 0) throw new Error(`${buf.length} bytes is not a whole number of float32`);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}
const checksum = (W: Float32Array, b: Float32Array) => sha256Hex(bytesOf(W), bytesOf(b));

export function weightsCacheFile(name: string): string {
  if (!/^[\w.-]+$/.test(name))
    throw new Error(`weights cache name ${JSON.stringify(name)} must be letters, digits, '.', '-' or '_'`);
  return path.join(dataDir("digits"), `${name}.json`);
}

/** Why the weights cannot be trusted, or "" (shape checked only when given). */
function weightsProblem(W: Float32Array, b: Float32Array, shape?: WeightsShape): string {
  if (shape && (W.length !== shape.W || b.length !== shape.b))
    return `W has ${W.length} values and b ${b.length}, expected ${shape.W} and ${shape.b}`;
  return nonFiniteProblem("W", W) || nonFiniteProblem("b", b);
}

/**
 * The cached weights if the file exists, matches `key` and proves its contents; else null.
 * `warn` gets one line naming the file and why whenever a file was there but not used
 * (a different key is not a problem, just another cache entry, and is silent).
 */
export function readCachedWeights(
  name: string,
  key: Record<string, unknown>,
  shape?: WeightsShape,
  warn: (line: string) => void = (l) => console.warn(l),
): CachedWeights | null {
  const file = weightsCacheFile(name);
  if (!fs.existsSync(file)) return null;
  let problem: string;
  try {
    const f = JSON.parse(fs.readFileSync(file, "utf8")) as FileFormat;
    if (JSON.stringify(f.key) !== JSON.stringify(key)) return null;
    const W = fromBase64(f.W);
    const b = fromBase64(f.b);
    if (typeof f.sha256 !== "string") problem = "written before weights files carried a checksum";
    else if (f.sha256 !== checksum(W, b)) problem = "checksum does not match W and b";
    else problem = weightsProblem(W, b, shape);
    if (!problem) return { W, b, info: f.info ?? {} };
  } catch (e) {
    problem = `unreadable weights cache (${(e as Error).message})`;
  }
  warn(`${displayPath(file)}: ${problem}; recomputing`);
  return null;
}

/** The cached weights for `key`, or the result of `compute()` (then cached, if finite and of `shape`). */
export async function cachedWeights(
  name: string,
  key: Record<string, unknown>,
  compute: () => CachedWeights | Promise<CachedWeights>,
  shape?: WeightsShape,
): Promise<CachedWeights & { fromCache: boolean }> {
  const hit = readCachedWeights(name, key, shape);
  if (hit) return { ...hit, fromCache: true };
  const w = await compute();
  const file = weightsCacheFile(name);
  const problem = weightsProblem(w.W, w.b, shape);
  if (problem) throw new Error(`${displayPath(file)}: not written, the computed weights are unusable: ${problem}`);
  const f: FileFormat = { key, W: toBase64(w.W), b: toBase64(w.b), sha256: checksum(w.W, w.b), info: w.info };
  writeFileAtomic(file, JSON.stringify(f));
  return { ...w, fromCache: false };
}
