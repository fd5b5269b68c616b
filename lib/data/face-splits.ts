/**
 * Training, validation and test sets as in the report: per actor 64 / 20 / 20 images,
 * and when an actor has fewer than 104 images, validation and test shrink in proportion
 * (20/104 of the images each) and training keeps the rest; for the report's 86 Peri
 * Gilpin images that is its 54 / 16 / 16. Deterministic in the seed, and independent of
 * the order in which downloads finished: images are sorted by hash before shuffling.
 */
import { Random } from "../runtime/random";

export const SPLIT_SIZES = { train: 64, validation: 20, test: 20 } as const;

export interface SplitSizes {
  train: number;
  validation: number;
  test: number;
}

/** How many of an actor's n images go to each set. */
export function splitSizes(n: number, full: SplitSizes = SPLIT_SIZES): SplitSizes {
  if (!Number.isInteger(n) || n < 0) throw new Error(`splitSizes: image count must be a non-negative integer, got ${n}`);
  const total = full.train + full.validation + full.test;
  if (n >= total) return { ...full };
  const validation = Math.floor((n * full.validation) / total);
  const test = Math.floor((n * full.test) / total);
  return { train: n - validation - test, validation, test };
}

export interface Splittable {
  actor: string;
  sha256: string;
  /**
   * Hash of the cropped pixels. Different source files can crop to the same face (a photo
   * re-hosted or re-encoded under another URL): the list's sha256 differs, the pixels do not.
   */
  contentHash?: string;
}

const byHash = (x: Splittable, y: Splittable) => (x.sha256 < y.sha256 ? -1 : x.sha256 > y.sha256 ? 1 : 0);

/**
 * One item per distinct image: the same source hash, or the same cropped pixels, count once
 * (the item with the smallest source hash is kept, whatever the input order), so that no
 * face can sit in two sets. Returns the kept items and how many were dropped.
 */
export function dedupeImages<T extends Splittable>(items: readonly T[]): { kept: T[]; dropped: number } {
  const seen = new Set<string>();
  const kept: T[] = [];
  for (const it of [...items].sort(byHash)) {
    const keys = [`file:${it.sha256}`, ...(it.contentHash ? [`pixels:${it.contentHash}`] : [])];
    if (keys.some((k) => seen.has(k))) continue;
    keys.forEach((k) => seen.add(k));
    kept.push(it);
  }
  return { kept, dropped: items.length - kept.length };
}

/**
 * Splits distinct images (see dedupeImages) per actor. Actors are processed in the given
 * order, each with its own stream forked from the seed, so adding an actor at the end does
 * not move anyone else's images.
 */
export function splitByActor<T extends Splittable>(items: readonly T[], actors: readonly string[], seed: number, full: SplitSizes = SPLIT_SIZES): { train: T[]; validation: T[]; test: T[] } {
  const byActor = new Map<string, T[]>(actors.map((a) => [a, []]));
  for (const it of dedupeImages(items).kept) byActor.get(it.actor)?.push(it);
  const rng = new Random(seed);
  const out = { train: [] as T[], validation: [] as T[], test: [] as T[] };
  for (const a of actors) {
    const actorRng = rng.fork();
    const list = byActor.get(a)!; // already in hash order, so the shuffle does not depend on download order
    actorRng.shuffle(list);
    const s = splitSizes(list.length, full);
    out.train.push(...list.slice(0, s.train));
    out.validation.push(...list.slice(s.train, s.train + s.validation));
    out.test.push(...list.slice(s.train + s.validation, s.train + s.validation + s.test));
  }
  return out;
}
