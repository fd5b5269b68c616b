/**
 * Trained weights cached under data/ so a later notebook (Part 6 needs Part 5's optimum)
 * does not retrain. The cache is keyed by everything that determines the weights; on a
 * missing or mismatched file the weights are recomputed (training is seeded, so the same
 * settings give the same weights) and written atomically.
 */
import * as fs from "fs";
import * as path from "path";
import { dataDir, writeFileAtomic } from "../../runtime/paths";

export interface CachedWeights {
  W: Float32Array;
  b: Float32Array;
  /** Extra numbers worth keeping with the weights (iterations, accuracies...). */
  info: Record<string, unknown>;
}

interface FileFormat {
  key: Record<string, unknown>;
  W: string;
  b: string;
  info: Record<string, unknown>;
}

const toBase64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
function fromBase64(s: string): Float32Array {
  const buf = Buffer.from(s, "base64");
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export function weightsCacheFile(name: string): string {
  if (!/^[\w.-]+$/.test(name))
    throw new Error(`weights cache name ${JSON.stringify(name)} must be letters, digits, '.', '-' or '_'`);
  return path.join(dataDir("digits"), `${name}.json`);
}

/** Reads the cache if it exists and matches `key`, else null (a corrupt file is reported and ignored). */
export function readCachedWeights(name: string, key: Record<string, unknown>): CachedWeights | null {
  const file = weightsCacheFile(name);
  if (!fs.existsSync(file)) return null;
  try {
    const f = JSON.parse(fs.readFileSync(file, "utf8")) as FileFormat;
    if (JSON.stringify(f.key) !== JSON.stringify(key)) return null;
    return { W: fromBase64(f.W), b: fromBase64(f.b), info: f.info ?? {} };
  } catch (e) {
    console.warn(`${file}: unreadable weights cache (${(e as Error).message}); recomputing`);
    return null;
  }
}

/** The cached weights for `key`, or the result of `compute()` (then cached). */
export async function cachedWeights(
  name: string,
  key: Record<string, unknown>,
  compute: () => CachedWeights | Promise<CachedWeights>,
): Promise<CachedWeights & { fromCache: boolean }> {
  const hit = readCachedWeights(name, key);
  if (hit) return { ...hit, fromCache: true };
  const w = await compute();
  const f: FileFormat = { key, W: toBase64(w.W), b: toBase64(w.b), info: w.info };
  writeFileAtomic(weightsCacheFile(name), JSON.stringify(f));
  return { ...w, fromCache: false };
}
