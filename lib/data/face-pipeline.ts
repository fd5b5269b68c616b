/**
 * The FaceScrub pipeline: for each list row, get the bytes (source), check the SHA-256,
 * decode, crop the bounding box and resample (decode workers), and cache the crops under
 * data/faces keyed by hash. Every bad input ends as a *rejection* with a reason, every
 * unreachable one as a *failure*; neither stops the run. A rerun reads the cache and
 * does no work: crops are trusted only when their metadata file exists, and that file is
 * written (atomically) after the crops, so a run killed halfway leaves nothing trusted.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { writeFileAtomic } from "../runtime/paths";
import { FaceRow } from "./facescrub-list";
import { FaceSource, FetchError } from "./face-source";
import { CROP_KINDS, CROP_SHAPE, CropKind, ImageRejection } from "./face-image";
import { createDecodePool } from "./face-decode-pool";

export type RejectReason = "http-404" | "http-4xx" | "empty" | "html" | "hash-mismatch" | "undecodable" | "bbox-outside";
export type FailReason = "timeout" | "dead-host" | "network" | "http-5xx" | "decoder-crash";

export interface FaceRecord {
  row: FaceRow;
  width: number;
  height: number;
}

export interface Outcome {
  row: FaceRow;
  state: "ok" | "rejected" | "failed";
  reason?: RejectReason | FailReason;
  detail?: string;
  cached: boolean;
}

export interface StageTimes {
  fetch: number;
  hash: number;
  decode: number;
  crop: number;
  resize: number;
  write: number;
}

export interface PipelineResult {
  ok: FaceRecord[];
  outcomes: Outcome[];
  counts: { ok: number; rejected: number; failed: number; cached: number; duplicates: number };
  reasons: Record<string, number>;
  /** Summed milliseconds per stage (decode/crop/resize summed over workers), and wall time. */
  ms: StageTimes & { wall: number };
}

export interface Progress {
  done: number;
  total: number;
  ok: number;
  rejected: number;
  failed: number;
}

export interface PipelineOptions {
  source: FaceSource;
  /** Folder for crops and cached rejections (normally dataDir("faces")). */
  cacheDir: string;
  /** Requests in flight at once. */
  concurrency?: number;
  timeoutMs?: number;
  /** Extra attempts for transient errors (timeouts, 5xx, network), with doubling back-off. */
  retries?: number;
  backoffMs?: number;
  /** Decode worker threads; 0 decodes on the main thread. */
  decodeWorkers?: number;
  onProgress?: (p: Progress) => void;
  log?: (line: string) => void;
  /** Ignore cached rejections (e.g. after the mirror gained files). */
  retryRejected?: boolean;
}

const META_VERSION = 1;

export function cropFile(cacheDir: string, sha256: string, kind: CropKind): string {
  return path.join(cacheDir, "crops", `${sha256}.${kind}.u8`);
}

function metaFile(cacheDir: string, sha256: string): string {
  return path.join(cacheDir, "crops", `${sha256}.json`);
}

function rejectionFile(cacheDir: string, sha256: string): string {
  return path.join(cacheDir, "rejected", `${sha256}.json`);
}

/** The cached record for a row, if complete and made from the same box; otherwise null. */
export function readCached(cacheDir: string, row: FaceRow): FaceRecord | null {
  let meta: { version: number; sha256: string; bbox: number[]; width: number; height: number };
  try {
    meta = JSON.parse(fs.readFileSync(metaFile(cacheDir, row.sha256), "utf8"));
  } catch {
    return null;
  }
  if (meta.version !== META_VERSION || meta.sha256 !== row.sha256 || meta.bbox.join(",") !== row.bbox.join(",")) return null;
  for (const kind of CROP_KINDS) {
    const { size, channels } = CROP_SHAPE[kind];
    try {
      if (fs.statSync(cropFile(cacheDir, row.sha256, kind)).size !== size * size * channels) return null;
    } catch {
      return null;
    }
  }
  return { row, width: meta.width, height: meta.height };
}

function looksLikeHtml(bytes: Uint8Array, contentType?: string): boolean {
  if (contentType && /text\/html|application\/xhtml/i.test(contentType)) return true;
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 256)).trimStart().toLowerCase();
  return head.startsWith("<!doctype html") || head.startsWith("<html") || head.startsWith("<?xml") || head.startsWith("<head") || head.startsWith("<body");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The default progress display: a bar redrawn in place on a terminal, else a line every 10%. */
export function progressPrinter(write: (s: string) => void = (s) => process.stderr.write(s), tty = !!process.stderr.isTTY): (p: Progress) => void {
  let lastDecile = -1;
  return (p) => {
    const frac = p.total === 0 ? 1 : p.done / p.total;
    const width = 30;
    const bar = "#".repeat(Math.round(frac * width)).padEnd(width, ".");
    const text = `faces [${bar}] ${p.done}/${p.total} ok ${p.ok} rejected ${p.rejected} failed ${p.failed}`;
    if (tty) write(`\r${text}${p.done === p.total ? "\n" : ""}`);
    else {
      const decile = Math.floor(frac * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        write(`${text}\n`);
      }
    }
  };
}

export async function runFacePipeline(rows: FaceRow[], opts: PipelineOptions): Promise<PipelineResult> {
  const { source, cacheDir } = opts;
  const concurrency = opts.concurrency ?? 8;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const retries = opts.retries ?? 3;
  const backoffMs = opts.backoffMs ?? 1000;
  const log = opts.log ?? (() => {});
  fs.mkdirSync(path.join(cacheDir, "crops"), { recursive: true });
  fs.mkdirSync(path.join(cacheDir, "rejected"), { recursive: true });

  // One image per hash: a second row with the same bytes would only duplicate work (and a test image).
  const seen = new Set<string>();
  const unique: FaceRow[] = [];
  for (const row of rows) {
    if (seen.has(row.sha256)) continue;
    seen.add(row.sha256);
    unique.push(row);
  }

  const ms: StageTimes = { fetch: 0, hash: 0, decode: 0, crop: 0, resize: 0, write: 0 };
  const outcomes: Outcome[] = new Array(unique.length);
  const progress: Progress = { done: 0, total: unique.length, ok: 0, rejected: 0, failed: 0 };
  const pool = createDecodePool(opts.decodeWorkers ?? 2);
  const wall0 = performance.now();

  const finish = (i: number, o: Outcome) => {
    outcomes[i] = o;
    progress.done++;
    progress[o.state]++;
    if (o.state !== "ok" && !o.cached) log(`${o.state} (${o.reason}) ${o.row.actor} line ${o.row.line}: ${o.detail}`);
    opts.onProgress?.({ ...progress });
  };

  const reject = (i: number, row: FaceRow, reason: RejectReason, detail: string) => {
    writeFileAtomic(rejectionFile(cacheDir, row.sha256), JSON.stringify({ reason, detail, url: row.url, source: source.key }));
    finish(i, { row, state: "rejected", reason, detail, cached: false });
  };

  async function fetchWithRetry(url: string) {
    for (let attempt = 0; ; attempt++) {
      const t = performance.now();
      try {
        return await source.fetch(url, timeoutMs);
      } catch (e) {
        const err = e instanceof FetchError ? e : new FetchError("network", String((e as Error).message ?? e), true);
        if (!err.transient || attempt >= retries) throw err;
        await sleep(backoffMs * 2 ** attempt);
      } finally {
        ms.fetch += performance.now() - t;
      }
    }
  }

  async function handle(i: number): Promise<void> {
    const row = unique[i];
    const cached = readCached(cacheDir, row);
    if (cached) return finish(i, { row, state: "ok", cached: true });
    if (!opts.retryRejected) {
      try {
        const r = JSON.parse(fs.readFileSync(rejectionFile(cacheDir, row.sha256), "utf8"));
        if (r.source === source.key && r.url === row.url) return finish(i, { row, state: "rejected", reason: r.reason, detail: r.detail, cached: true });
      } catch {
        // no cached rejection
      }
    }
    let fetched;
    try {
      fetched = await fetchWithRetry(row.url);
    } catch (e) {
      const err = e as FetchError;
      if (err.reason === "http-404" || err.reason === "http-4xx") return reject(i, row, err.reason, err.message);
      // Failures are not cached: a timeout or a dead host may answer next time.
      return finish(i, { row, state: "failed", reason: err.reason as FailReason, detail: err.message, cached: false });
    }
    const { bytes, contentType } = fetched;
    if (bytes.length === 0) return reject(i, row, "empty", `empty body from ${row.url}`);
    if (looksLikeHtml(bytes, contentType)) return reject(i, row, "html", `an HTML page (${contentType ?? "no content-type"}, ${bytes.length} bytes) instead of an image`);
    let t = performance.now();
    const sha = crypto.createHash("sha256").update(bytes).digest("hex");
    ms.hash += performance.now() - t;
    if (sha !== row.sha256) return reject(i, row, "hash-mismatch", `SHA-256 ${sha.slice(0, 12)}... of ${bytes.length} bytes, list says ${row.sha256.slice(0, 12)}...`);
    let result;
    try {
      result = await pool.run(bytes, row.bbox);
    } catch (e) {
      if (e instanceof ImageRejection) return reject(i, row, e.reason, e.message);
      // Not the image's fault: leave it uncached so the next run tries again.
      return finish(i, { row, state: "failed", reason: "decoder-crash", detail: String((e as Error).message ?? e), cached: false });
    }
    ms.decode += result.ms.decode;
    ms.crop += result.ms.crop;
    ms.resize += result.ms.resize;
    t = performance.now();
    for (const kind of CROP_KINDS) writeFileAtomic(cropFile(cacheDir, row.sha256, kind), result.crops[kind]);
    // The metadata goes last: its presence is what makes the crops trusted.
    writeFileAtomic(metaFile(cacheDir, row.sha256), JSON.stringify({ version: META_VERSION, sha256: row.sha256, bbox: row.bbox, width: result.width, height: result.height, actor: row.actor }));
    ms.write += performance.now() - t;
    finish(i, { row, state: "ok", cached: false });
  }

  // Decoding is the bottleneck, so fetches run ahead of it only as far as `concurrency` allows.
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, concurrency) }, async () => {
    while (next < unique.length) await handle(next++);
  });
  try {
    await Promise.all(lanes);
  } finally {
    await pool.close();
  }

  const reasons: Record<string, number> = {};
  for (const o of outcomes) if (o.state !== "ok") reasons[o.reason!] = (reasons[o.reason!] ?? 0) + 1;
  const ok: FaceRecord[] = [];
  for (const o of outcomes) {
    if (o.state !== "ok") continue;
    const rec = readCached(cacheDir, o.row);
    if (rec) ok.push(rec);
  }
  return {
    ok,
    outcomes,
    counts: {
      ok: progress.ok,
      rejected: progress.rejected,
      failed: progress.failed,
      cached: outcomes.filter((o) => o.cached).length,
      duplicates: rows.length - unique.length,
    },
    reasons,
    ms: { ...ms, wall: performance.now() - wall0 },
  };
}

/** A short plain-text summary: counts, rejections and failures by reason, stage times. */
export function summarisePipeline(r: PipelineResult): string {
  const s = (v: number) => (v / 1000).toFixed(1);
  const reasons = Object.entries(r.reasons)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  return [
    `ok ${r.counts.ok}, rejected ${r.counts.rejected}, failed ${r.counts.failed} (${r.counts.cached} from cache, ${r.counts.duplicates} duplicate rows skipped)`,
    `not ok by reason: ${reasons || "none"}`,
    `stage seconds: fetch ${s(r.ms.fetch)}, hash ${s(r.ms.hash)}, decode ${s(r.ms.decode)}, crop ${s(r.ms.crop)}, resize ${s(r.ms.resize)}, write ${s(r.ms.write)}; wall ${s(r.ms.wall)}`,
  ].join("\n");
}
