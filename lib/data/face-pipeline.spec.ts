import { test } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Jimp } from "jimp";
import { FaceRow } from "./facescrub-list";
import { FaceSource, FetchError } from "./face-source";
import { cropFile, progressPrinter, rejectedReport, runFacePipeline } from "./face-pipeline";

const sha = (b: Uint8Array) => crypto.createHash("sha256").update(b).digest("hex");

async function png(seed: number): Promise<Uint8Array> {
  const img = new Jimp({ width: 40, height: 30, color: ((seed * 40) << 24 | 0x3080ff) >>> 0 });
  return new Uint8Array(await img.getBuffer("image/png"));
}

/** An in-memory source that answers from a table and counts calls and concurrency. */
function fakeSource(answers: Record<string, (attempt: number) => Uint8Array | Error>) {
  const calls: Record<string, number> = {};
  let inFlight = 0;
  const stats = { maxInFlight: 0, calls };
  const source: FaceSource = {
    description: "fake",
    key: "fake",
    async fetch(url) {
      inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      calls[url] = (calls[url] ?? 0) + 1;
      const a = answers[url]?.(calls[url]) ?? new FetchError("http-404", `404 ${url}`, false);
      if (a instanceof Error) throw a;
      return { bytes: a };
    },
  };
  return { source, stats };
}

function row(url: string, bytesSha: string, bbox: FaceRow["bbox"] = [0, 0, 20, 20], line = 2): FaceRow {
  return { actor: "A", imageId: "1", faceId: "1", url, bbox, sha256: bytesSha, line };
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "faces-"));
const quiet = { decodeWorkers: 0, backoffMs: 1, timeoutMs: 1000 };

test("good images are cached; a rerun fetches nothing; rejections are cached too", async () => {
  const a = await png(1);
  const b = await png(2);
  const { source, stats } = fakeSource({ "http://h/a": () => a, "http://h/b": () => b, "http://h/bad": () => a });
  const rows = [row("http://h/a", sha(a)), row("http://h/b", sha(b)), row("http://h/dead", "0".repeat(64)), row("http://h/bad", "1".repeat(64)), row("http://h/a2", sha(a))];
  const cacheDir = tmp();
  const r1 = await runFacePipeline(rows, { source, cacheDir, ...quiet });
  assert.deepEqual(r1.counts, { ok: 2, rejected: 2, failed: 0, cached: 0, duplicates: 1 });
  assert.deepEqual(r1.reasons, { "http-404": 1, "hash-mismatch": 1 });
  assert.equal(fs.statSync(cropFile(cacheDir, sha(a), "rgb227")).size, 227 * 227 * 3);
  const before = JSON.stringify(stats.calls);
  const r2 = await runFacePipeline(rows, { source, cacheDir, ...quiet });
  assert.equal(JSON.stringify(stats.calls), before, "rerun fetched again");
  assert.deepEqual(r2.counts, { ok: 2, rejected: 2, failed: 0, cached: 4, duplicates: 1 });
  await runFacePipeline(rows, { source, cacheDir, ...quiet, retryRejected: true });
  assert.equal(stats.calls["http://h/dead"], 2);
});

test("crops without their metadata file (a run killed mid-write) are not trusted", async () => {
  const a = await png(3);
  const { source, stats } = fakeSource({ "http://h/a": () => a });
  const cacheDir = tmp();
  fs.mkdirSync(path.join(cacheDir, "crops"), { recursive: true });
  fs.writeFileSync(cropFile(cacheDir, sha(a), "grey32"), new Uint8Array(1024));
  const r = await runFacePipeline([row("http://h/a", sha(a))], { source, cacheDir, ...quiet });
  assert.equal(stats.calls["http://h/a"], 1);
  assert.equal(r.counts.cached, 0);
  assert.equal(r.counts.ok, 1);
});

test("transient errors are retried with back-off; past the limit the row fails and is not cached", async () => {
  const a = await png(4);
  const flaky = (okAfter: number) => (n: number) => (n <= okAfter ? new FetchError("timeout", "slow", true) : a);
  const { source, stats } = fakeSource({ "http://h/flaky": flaky(2), "http://h/down": flaky(99) });
  const cacheDir = tmp();
  const rows = [row("http://h/flaky", sha(a)), row("http://h/down", "2".repeat(64))];
  const r = await runFacePipeline(rows, { source, cacheDir, ...quiet, retries: 2 });
  assert.deepEqual([stats.calls["http://h/flaky"], stats.calls["http://h/down"]], [3, 3]);
  assert.deepEqual(r.outcomes.map((o) => [o.state, o.reason]), [["ok", undefined], ["failed", "timeout"]]);
  await runFacePipeline(rows, { source, cacheDir, ...quiet, retries: 0 });
  assert.equal(stats.calls["http://h/down"], 4);
});

test("no more than `concurrency` requests are in flight", async () => {
  const answers: Record<string, () => Uint8Array> = {};
  const rows: FaceRow[] = [];
  for (let i = 0; i < 12; i++) rows.push(row(`http://h/${i}`, String(i).padStart(64, "0")));
  const { source, stats } = fakeSource(answers);
  await runFacePipeline(rows, { source, cacheDir: tmp(), ...quiet, concurrency: 3 });
  assert.equal(stats.maxInFlight, 3);
});

test("progress printer: a line per tenth when not a terminal, counts included", () => {
  const lines: string[] = [];
  const p = progressPrinter((s) => lines.push(s), false);
  for (let done = 1; done <= 20; done++) p({ done, total: 20, ok: done, rejected: 0, failed: 0 });
  assert.equal(lines.length, 11);
  assert.match(lines[10], /20\/20 ok 20 rejected 0 failed 0/);
});

test("rejected report: every row not ok, in list order, one line each even when details hold tabs or newlines", () => {
  const r = (line: number, url: string) => row(url, "0".repeat(64), [0, 0, 1, 1], line);
  const report = rejectedReport([
    { row: r(9, "http://h/b"), state: "failed", reason: "timeout", detail: "no answer\nwithin 1 ms", cached: false },
    { row: r(3, "http://h/ok"), state: "ok", cached: true },
    { row: r(2, "http://h/a"), state: "rejected", reason: "http-404", detail: "HTTP 404\tfor a", cached: true },
  ]);
  assert.equal(
    report,
    "line\tactor\tstate\treason\turl\tdetail\n" +
      "2\tA\trejected\thttp-404\thttp://h/a\tHTTP 404 for a\n" +
      "9\tA\tfailed\ttimeout\thttp://h/b\tno answer within 1 ms\n",
  );
});
