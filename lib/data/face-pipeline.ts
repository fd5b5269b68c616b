/**
 * The FaceScrub pipeline: for each list row, get the bytes (source), check the SHA-256,
 * decode, crop the bounding box and resample (decode workers), and cache the crops under
 * data/faces keyed by hash. Every bad input ends as a *rejection* with a reason, every
 * unreachable one as a *failure*; neither stops the run, and every one of them is listed
 * with its reason in data/faces/rejected.tsv.
 *
 * What is cached, and when it is trusted:
 * - Crops, with a metadata file written (atomically) after them that records the box they
 *   were cut from and each crop's SHA-256. A rerun uses them only when the metadata exists,
 *   the box is the list's box and every crop's checksum matches; otherwise it recomputes,
 *   saying which file and why. A run killed halfway leaves nothing trusted.
 * - Rejections, only for final verdicts (a 404, a body over the size limit, a redirect
 *   loop, an HTML page, a hash mismatch, an image that does not decode or whose box lies
 *   outside it), keyed by everything that decided them: source, URL, box and hash. Fixing
 *   a row's box or hash in the list therefore takes effect on the next run, and
 *   `retryRejected` rechecks them all. Failures (timeouts, 5xx, a body cut short, a mirror
 *   file missing or unreadable, a crashed decoder) are never cached.
 */
import * as fs from "fs";
import * as path from "path";
import type { Worker } from "worker_threads";
import { displayPath, writeFileAtomic } from "../runtime/paths";
import { sha256Hex } from "../runtime/integrity";
import { FaceRow } from "./facescrub-list";
import { FaceSource, FetchError, MAX_BODY_BYTES } from "./face-source";
import { CROP_KINDS, CROP_SHAPE, CropKind, ImageRejection } from "./face-image";
import { createDecodePool } from "./face-decode-pool";

export type RejectReason =
  | "http-404"
  | "http-4xx"
  | "too-large"
  | "redirect"
  | "empty"
  | "html"
  | "hash-mismatch"
  | "undecodable"
  | "too-many-pixels"
  | "bbox-outside";
export type FailReason =
  | "timeout"
  | "dead-host"
  | "network"
  | "http-5xx"
  | "short-body"
  | "mirror-missing"
  | "decoder-crash";

export interface FaceRecord {
  row: FaceRow;
  width: number;
  height: number;
  /** SHA-256 of each crop's bytes, as recorded when it was written (the grey64 one identifies the face's pixels). */
  crops: Record<CropKind, string>;
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
  /** One line per row that ends rejected or failed in this run. */
  log?: (line: string) => void;
  /** One line per cache file not trusted (which file, why), and one for all that were merely out of date; default `log`. */
  warn?: (line: string) => void;
  /** Ignore cached rejections (e.g. after the mirror gained files). */
  retryRejected?: boolean;
  /** Largest body read per image (default MAX_BODY_BYTES). */
  maxBytes?: number;
  /** Starts one decode worker (tests use it to make one crash). */
  startDecodeWorker?: () => Worker;
}

/** Version 2 records each crop's checksum; crops of version 1 cannot prove what they hold and are recomputed. */
const META_VERSION = 2;
const REJECTION_VERSION = 2;

export function cropFile(cacheDir: string, sha256: string, kind: CropKind): string {
  return path.join(cacheDir, "crops", `${sha256}.${kind}.u8`);
}

function metaFile(cacheDir: string, sha256: string): string {
  return path.join(cacheDir, "crops", `${sha256}.json`);
}

function rejectionFile(cacheDir: string, sha256: string): string {
  return path.join(cacheDir, "rejected", `${sha256}.json`);
}

/** The list of every row not ok after a run, with its reason, rewritten at the end of each run. */
export function rejectedReportFile(cacheDir: string): string {
  return path.join(cacheDir, "rejected.tsv");
}

interface CropMeta {
  version: number;
  sha256: string;
  bbox: number[];
  width: number;
  height: number;
  crops: Record<CropKind, string>;
}

function readMeta(cacheDir: string, sha256: string): { meta?: CropMeta; problem?: string } {
  const file = metaFile(cacheDir, sha256);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return {}; // never computed
  }
  try {
    return { meta: JSON.parse(text) as CropMeta };
  } catch (e) {
    return { problem: `${displayPath(file)}: unreadable metadata (${(e as Error).message})` };
  }
}

/** The crop's bytes if its checksum matches the one recorded in the metadata; otherwise why not (naming the file). */
function checkedCrop(cacheDir: string, meta: CropMeta, kind: CropKind): { bytes?: Uint8Array; problem?: string } {
  const file = cropFile(cacheDir, meta.sha256, kind);
  const { size, channels } = CROP_SHAPE[kind];
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    return { problem: `${displayPath(file)}: missing (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
  if (bytes.length !== size * size * channels)
    return { problem: `${displayPath(file)}: ${bytes.length} bytes, expected ${size * size * channels}` };
  const sum = sha256Hex(bytes);
  if (sum !== meta.crops?.[kind])
    return { problem: `${displayPath(file)}: checksum ${sum.slice(0, 12)}... does not match the recorded ${String(meta.crops?.[kind]).slice(0, 12)}...` };
  return { bytes };
}

/**
 * The cached record for a row if its crops prove what they hold (see the header); otherwise
 * null, with `problem` saying which file is wrong and how when something was there but not
 * trusted (`stale` when it was merely made by an older pipeline version or from another box).
 */
export function checkCached(cacheDir: string, row: FaceRow): { record: FaceRecord | null; problem?: string; stale?: boolean } {
  const { meta, problem } = readMeta(cacheDir, row.sha256);
  if (!meta) return { record: null, problem };
  const file = metaFile(cacheDir, row.sha256);
  if (meta.version !== META_VERSION) return { record: null, stale: true, problem: `${displayPath(file)}: made by pipeline version ${meta.version}, not ${META_VERSION}` };
  if (meta.sha256 !== row.sha256) return { record: null, problem: `${displayPath(file)}: records hash ${meta.sha256}, not ${row.sha256}` };
  if (meta.bbox?.join(",") !== row.bbox.join(",")) return { record: null, stale: true, problem: `${displayPath(file)}: cut from box ${meta.bbox}, the list now says ${row.bbox.join(",")}` };
  for (const kind of CROP_KINDS) {
    const c = checkedCrop(cacheDir, meta, kind);
    if (!c.bytes) return { record: null, problem: c.problem };
  }
  return { record: { row, width: meta.width, height: meta.height, crops: meta.crops } };
}

/** The cached record for a row, or null (see checkCached for why not). */
export function readCached(cacheDir: string, row: FaceRow): FaceRecord | null {
  return checkCached(cacheDir, row).record;
}

/** One crop's bytes, checked against the checksum recorded with it; an error names the file and what is wrong. */
export function readCrop(cacheDir: string, sha256: string, kind: CropKind): Uint8Array {
  const { meta, problem } = readMeta(cacheDir, sha256);
  if (!meta || meta.version !== META_VERSION) {
    throw new Error(`${problem ?? `no current crops for image ${sha256} in ${path.join(cacheDir, "crops")}`}; run loadFaceSplits() or npm run faces first`);
  }
  const c = checkedCrop(cacheDir, meta, kind);
  if (!c.bytes) throw new Error(`${c.problem}; run loadFaceSplits() or npm run faces again to recompute it`);
  return c.bytes;
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

interface CachedRejection {
  version: number;
  reason: RejectReason;
  detail: string;
  source: string;
  url: string;
  bbox: number[];
  sha256: string;
}

/** A cached rejection, if one exists that was decided by this very source, URL, box and hash. */
function cachedRejection(cacheDir: string, row: FaceRow, sourceKey: string): CachedRejection | null {
  let r: CachedRejection;
  try {
    r = JSON.parse(fs.readFileSync(rejectionFile(cacheDir, row.sha256), "utf8"));
  } catch {
    return null; // none, or unreadable: decide again
  }
  const same =
    r.version === REJECTION_VERSION &&
    r.source === sourceKey &&
    r.url === row.url &&
    r.sha256 === row.sha256 &&
    r.bbox?.join(",") === row.bbox.join(",");
  return same ? r : null;
}

const tsvField = (v: unknown) => String(v ?? "").replace(/[\t\r\n]+/g, " ");

/** Every row not ok, with its list line, reason and detail, as a tab-separated report. */
export function rejectedReport(outcomes: readonly Outcome[]): string {
  const lines = ["line\tactor\tstate\treason\turl\tdetail"];
  for (const o of [...outcomes].sort((a, b) => a.row.line - b.row.line)) {
    if (o.state === "ok") continue;
    lines.push([o.row.line, o.row.actor, o.state, o.reason, o.row.url, o.detail].map(tsvField).join("\t"));
  }
  return lines.join("\n") + "\n";
}

export async function runFacePipeline(rows: FaceRow[], opts: PipelineOptions): Promise<PipelineResult> {
  const { source, cacheDir } = opts;
  const concurrency = opts.concurrency ?? 8;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const retries = opts.retries ?? 3;
  const backoffMs = opts.backoffMs ?? 1000;
  const maxBytes = opts.maxBytes ?? MAX_BODY_BYTES;
  const log = opts.log ?? (() => {});
  const warn = opts.warn ?? log;
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
  const records: (FaceRecord | null)[] = new Array(unique.length).fill(null);
  const progress: Progress = { done: 0, total: unique.length, ok: 0, rejected: 0, failed: 0 };
  const pool = createDecodePool(opts.decodeWorkers ?? 2, opts.startDecodeWorker);
  const wall0 = performance.now();
  // Caches from an older pipeline version or another box are recomputed quietly, counted in one line;
  // a damaged one gets a line of its own.
  const stale: string[] = [];

  const finish = (i: number, o: Outcome) => {
    outcomes[i] = o;
    progress.done++;
    progress[o.state]++;
    if (o.state !== "ok" && !o.cached) log(`${o.state} (${o.reason}) ${o.row.actor} line ${o.row.line}: ${o.detail}`);
    opts.onProgress?.({ ...progress });
  };

  const reject = (i: number, row: FaceRow, reason: RejectReason, detail: string) => {
    const r: CachedRejection = { version: REJECTION_VERSION, reason, detail, source: source.key, url: row.url, bbox: row.bbox, sha256: row.sha256 };
    writeFileAtomic(rejectionFile(cacheDir, row.sha256), JSON.stringify(r));
    finish(i, { row, state: "rejected", reason, detail, cached: false });
  };

  const fail = (i: number, row: FaceRow, reason: FailReason, detail: string) => {
    // Not a verdict on the image: nothing is cached, and the next run tries again.
    fs.rmSync(rejectionFile(cacheDir, row.sha256), { force: true });
    finish(i, { row, state: "failed", reason, detail, cached: false });
  };

  async function fetchWithRetry(url: string) {
    for (let attempt = 0; ; attempt++) {
      const t = performance.now();
      try {
        return await source.fetch(url, timeoutMs, maxBytes);
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
    const cached = checkCached(cacheDir, row);
    if (cached.record) {
      records[i] = cached.record;
      return finish(i, { row, state: "ok", cached: true });
    }
    if (cached.problem) {
      if (cached.stale) stale.push(cached.problem);
      else warn(`${cached.problem}; recomputing`);
    }
    if (!opts.retryRejected) {
      const r = cachedRejection(cacheDir, row, source.key);
      if (r) return finish(i, { row, state: "rejected", reason: r.reason, detail: r.detail, cached: true });
    }
    let fetched;
    try {
      fetched = await fetchWithRetry(row.url);
    } catch (e) {
      const err = e as FetchError;
      if (err.final) return reject(i, row, err.reason as RejectReason, err.message);
      return fail(i, row, err.reason as FailReason, err.message);
    }
    const { bytes, contentType } = fetched;
    if (bytes.length === 0) return reject(i, row, "empty", `empty body from ${row.url}`);
    if (looksLikeHtml(bytes, contentType)) return reject(i, row, "html", `an HTML page (${contentType ?? "no content-type"}, ${bytes.length} bytes) instead of an image`);
    let t = performance.now();
    const sha = sha256Hex(bytes);
    ms.hash += performance.now() - t;
    if (sha !== row.sha256) return reject(i, row, "hash-mismatch", `SHA-256 ${sha.slice(0, 12)}... of ${bytes.length} bytes, list says ${row.sha256.slice(0, 12)}...`);
    let result;
    try {
      result = await pool.run(bytes, row.bbox);
    } catch (e) {
      if (e instanceof ImageRejection) return reject(i, row, e.reason, e.message);
      // A crashed decoder (see face-decode-pool.ts) is not the image's fault.
      return fail(i, row, "decoder-crash", String((e as Error).message ?? e));
    }
    ms.decode += result.ms.decode;
    ms.crop += result.ms.crop;
    ms.resize += result.ms.resize;
    t = performance.now();
    const sums = {} as Record<CropKind, string>;
    for (const kind of CROP_KINDS) {
      writeFileAtomic(cropFile(cacheDir, row.sha256, kind), result.crops[kind]);
      sums[kind] = sha256Hex(result.crops[kind]);
    }
    // The metadata goes last: its presence (with the checksums) is what makes the crops trusted.
    const meta: CropMeta & { actor: string } = { version: META_VERSION, sha256: row.sha256, bbox: row.bbox, width: result.width, height: result.height, crops: sums, actor: row.actor };
    writeFileAtomic(metaFile(cacheDir, row.sha256), JSON.stringify(meta));
    fs.rmSync(rejectionFile(cacheDir, row.sha256), { force: true });
    ms.write += performance.now() - t;
    records[i] = { row, width: result.width, height: result.height, crops: sums };
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
  if (stale.length > 0) warn(`${stale.length} cached crop set(s) recomputed because they were out of date, e.g. ${displayPath(stale[0])}`);
  writeFileAtomic(rejectedReportFile(cacheDir), rejectedReport(outcomes));

  const reasons: Record<string, number> = {};
  for (const o of outcomes) if (o.state !== "ok") reasons[o.reason!] = (reasons[o.reason!] ?? 0) + 1;
  const ok = records.filter((r): r is FaceRecord => r !== null);
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
export function summarisePipeline(r: PipelineResult, reportFile?: string): string {
  const s = (v: number) => (v / 1000).toFixed(1);
  const reasons = Object.entries(r.reasons)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  return [
    `ok ${r.counts.ok}, rejected ${r.counts.rejected}, failed ${r.counts.failed} (${r.counts.cached} from cache, ${r.counts.duplicates} duplicate rows skipped)`,
    `not ok by reason: ${reasons || "none"}${reportFile && reasons ? ` (each row listed in ${reportFile})` : ""}`,
    `stage seconds: fetch ${s(r.ms.fetch)}, hash ${s(r.ms.hash)}, decode ${s(r.ms.decode)}, crop ${s(r.ms.crop)}, resize ${s(r.ms.resize)}, write ${s(r.ms.write)}; wall ${s(r.ms.wall)}`,
  ].join("\n");
}
