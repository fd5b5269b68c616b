/**
 * The fault suite (issue 16): each test does one thing wrong on purpose, on small data made
 * here, and checks both the recovery and that nothing wrong was kept. Network faults use a
 * loopback server on 127.0.0.1 only, with bounded bodies and deadlines.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { Worker } from "worker_threads";
import { Jimp } from "jimp";
import { FaceRow } from "../lib/data/facescrub-list";
import { FaceSource, internetSource, mirrorDirSource, MAX_REDIRECTS } from "../lib/data/face-source";
import { cropFile, readCached, rejectedReportFile, runFacePipeline, PipelineOptions } from "../lib/data/face-pipeline";
import { appendFileWhole, displayPath, FileWriteError, writeFileAtomic } from "../lib/runtime/paths";
import { sha256Hex } from "../lib/runtime/integrity";
import { Random } from "../lib/runtime/random";
import { bestResult, configKey, GridConfig, runGridSearch } from "../lib/models/mlp/grid-search";
import { readGridFile } from "../lib/models/mlp/grid-results";
import { chooseMlpEngine, initWeights, weightsToJson } from "../lib/models/mlp/mlp";

/** Temp folders made by the suite, removed when it ends. */
const made: string[] = [];
const tmp = (name: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `faults-${name}-`));
  made.push(dir);
  return dir;
};
after(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

async function jpeg(w: number, h: number, colour: number): Promise<Uint8Array> {
  const img = new Jimp({ width: w, height: h, color: colour });
  for (let y = 0; y < h; y += 5) for (let x = 0; x < w; x++) img.setPixelColor(0x204060ff, x, y);
  return new Uint8Array(await img.getBuffer("image/jpeg"));
}

function row(url: string, sha256: string, bbox: FaceRow["bbox"], line: number): FaceRow {
  return { actor: "A", imageId: String(line), faceId: String(line), url, bbox, sha256, line };
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A loopback server; `hits` counts requests per path; every socket is destroyed on close. */
async function serve(routes: Record<string, Handler>) {
  const sockets = new Set<net.Socket>();
  const hits: Record<string, number> = {};
  const server = http.createServer((req, res) => {
    const p = req.url ?? "";
    hits[p] = (hits[p] ?? 0) + 1;
    (routes[p] ?? ((_q, r) => r.writeHead(404).end()))(req, res);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const close = () =>
    new Promise<void>((done) => {
      for (const s of sockets) s.destroy();
      server.close(() => done());
    });
  return { base, hits, close };
}

const fast: Partial<PipelineOptions> = { decodeWorkers: 0, backoffMs: 5, timeoutMs: 2000, retries: 3 };
const states = (r: Awaited<ReturnType<typeof runFacePipeline>>) =>
  Object.fromEntries(r.outcomes.map((o) => [o.row.line, `${o.state}${o.reason ? `:${o.reason}` : ""}`]));

test("a crop overwritten with same-length garbage is recomputed, and the log names the file", async () => {
  const img = await jpeg(60, 50, 0xc08040ff);
  const dir = tmp("mirror");
  fs.writeFileSync(path.join(dir, "manifest.tsv"), "url\tfile\nhttp://x/a.jpg\ta.jpg\n");
  fs.writeFileSync(path.join(dir, "a.jpg"), img);
  const cacheDir = tmp("cache");
  const rows = [row("http://x/a.jpg", sha256Hex(img), [5, 5, 45, 45], 2)];
  const opts = { source: mirrorDirSource(dir), cacheDir, ...fast };
  await runFacePipeline(rows, opts);
  const file = cropFile(cacheDir, sha256Hex(img), "grey32");
  const good = fs.readFileSync(file);
  fs.writeFileSync(file, Buffer.alloc(good.length, 0x5a));
  const lines: string[] = [];
  const r = await runFacePipeline(rows, { ...opts, warn: (l) => lines.push(l) });
  assert.deepEqual([r.counts.ok, r.counts.cached], [1, 0], "the damaged crop was not used as a cache hit");
  assert.equal(lines.length, 1);
  assert.ok(lines[0].startsWith(`${displayPath(file)}: checksum `) && lines[0].endsWith("; recomputing"), lines[0]);
  assert.deepEqual(fs.readFileSync(file), good, "the garbage was replaced by the real crop");
  const again = await runFacePipeline(rows, opts);
  assert.equal(again.counts.cached, 1);
});

/** A PNG whose header declares width x height, with a little real (zero) image data after it. */
function pngDeclaring(width: number, height: number): Uint8Array {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const v of b) c = crcTable[(c ^ v) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const idat = zlib.deflateSync(Buffer.alloc(4 * 1024 * 1024)); // 4 MB of rows compress to a few KB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", idat),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

test("a pixel bomb (a small PNG declaring 30000x30000) is rejected from its header, not decoded", async () => {
  const bomb = pngDeclaring(30000, 30000);
  assert.ok(bomb.length < 20_000, `the bomb is small (${bomb.length} bytes)`);
  const source: FaceSource = { description: "bomb", key: "bomb", fetch: async () => ({ bytes: bomb }) };
  const cacheDir = tmp("bomb");
  const t0 = performance.now();
  const r = await runFacePipeline([row("http://x/bomb.png", sha256Hex(bomb), [0, 0, 100, 100], 2)], {
    source,
    cacheDir,
    ...fast,
    decodeWorkers: 1,
  });
  const seconds = (performance.now() - t0) / 1000;
  assert.deepEqual(states(r), { 2: "rejected:too-many-pixels" });
  assert.match(r.outcomes[0].detail!, /PNG header declares 30000x30000 \(900,000,000 pixels\)/);
  assert.ok(seconds < 5, `rejected in ${seconds.toFixed(2)} s, without decoding`);
  assert.deepEqual(fs.readdirSync(path.join(cacheDir, "crops")), [], "no crops kept");
});

test("oversized, dripping and short bodies, and redirect loops: stopped at their limits, only verdicts cached", async () => {
  const img = await jpeg(40, 40, 0x4080c0ff);
  const moved = await jpeg(40, 40, 0x40c080ff);
  const limit = 256 * 1024;
  const sent: Record<string, number> = {};
  const stream =
    (name: string, total: number, declare: boolean): Handler =>
    (_req, res) => {
      res.writeHead(200, { "content-type": "image/jpeg", ...(declare ? { "content-length": String(total) } : {}) });
      sent[name] = 0;
      const chunk = Buffer.alloc(64 * 1024, 1);
      const push = () => {
        while (sent[name] < total) {
          sent[name] += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", push);
        }
        res.end();
      };
      res.on("close", () => res.removeAllListeners("drain"));
      push();
    };
  let shortFixed = false;
  const server = await serve({
    // 64 MB without a length: the client must stop reading at the limit.
    "/big-chunked.jpg": stream("chunked", 64 * 1024 * 1024, false),
    // 64 MB declared: refused from the header.
    "/big-declared.jpg": stream("declared", 64 * 1024 * 1024, true),
    // a byte every 50 ms, forever: the deadline covers the body too.
    "/drip.jpg": (_req, res) => {
      res.writeHead(200, { "content-type": "image/jpeg" });
      const t = setInterval(() => res.write(Buffer.from([0xff])), 50);
      res.on("close", () => clearInterval(t));
    },
    // declares the image's length, sends half and hangs up (until fixed)
    "/short.jpg": (_req, res) => {
      res.writeHead(200, { "content-type": "image/jpeg", "content-length": String(img.length) });
      if (shortFixed) return void res.end(img);
      res.write(img.subarray(0, img.length >> 1));
      setTimeout(() => res.destroy(), 10);
    },
    "/loop-a": (_req, res) => res.writeHead(302, { location: "/loop-b" }).end(),
    "/loop-b": (_req, res) => res.writeHead(301, { location: "/loop-a" }).end(),
    "/to-ftp": (_req, res) => res.writeHead(302, { location: "ftp://127.0.0.1/x.jpg" }).end(),
    "/moved": (_req, res) => res.writeHead(307, { location: "/img.jpg" }).end(),
    "/img.jpg": (_req, res) => res.writeHead(200, { "content-type": "image/jpeg" }).end(moved),
  });
  const b = server.base;
  const rows = [
    row(`${b}/big-chunked.jpg`, "1".repeat(64), [0, 0, 10, 10], 2),
    row(`${b}/big-declared.jpg`, "2".repeat(64), [0, 0, 10, 10], 3),
    row(`${b}/short.jpg`, sha256Hex(img), [0, 0, 30, 30], 5),
    row(`${b}/loop-a`, "4".repeat(64), [0, 0, 10, 10], 6),
    row(`${b}/to-ftp`, "5".repeat(64), [0, 0, 10, 10], 7),
    row(`${b}/moved`, sha256Hex(moved), [0, 0, 30, 30], 8),
  ];
  const cacheDir = tmp("http");
  const opts = {
    ...fast,
    source: internetSource(),
    cacheDir,
    maxBytes: limit,
    timeoutMs: 2000,
    retries: 1,
    concurrency: 7,
  };
  try {
    const t0 = performance.now();
    const r = await runFacePipeline(rows, opts);
    const seconds = (performance.now() - t0) / 1000;
    assert.deepEqual(states(r), {
      2: "rejected:too-large",
      3: "rejected:too-large",
      5: "failed:short-body",
      6: "rejected:redirect",
      7: "rejected:redirect",
      8: "ok",
    });
    assert.ok(seconds < 15, `bounded: ${seconds.toFixed(1)} s`);
    // The server could run at most a few socket buffers ahead of the client's limit.
    assert.ok(sent.chunked < 16 * 1024 * 1024, `chunked body stopped after ${sent.chunked} bytes sent`);
    assert.ok((sent.declared ?? 0) < 16 * 1024 * 1024, `declared body stopped after ${sent.declared} bytes sent`);
    assert.match(r.outcomes[3].detail!, /more than 5 redirects/);
    assert.match(r.outcomes[4].detail!, /only http\(s\) redirects are followed/);
    // A loop is a verdict: followed MAX_REDIRECTS times once, not once more per retry.
    assert.equal(server.hits["/loop-a"] + server.hits["/loop-b"], MAX_REDIRECTS + 1);
    assert.match(r.outcomes[2].detail!, /ended after \d+ of its \d+ bytes/);
    // Rejections are cached (a rerun asks the server nothing for them); failures are tried again.
    const report = fs.readFileSync(rejectedReportFile(cacheDir), "utf8").trim().split("\n");
    assert.deepEqual(
      report.map((l) => l.split("\t").slice(0, 4).join(" ")),
      [
        "line actor state reason",
        "2 A rejected too-large",
        "3 A rejected too-large",
        "5 A failed short-body",
        "6 A rejected redirect",
        "7 A rejected redirect",
      ],
    );
    shortFixed = true;
    const hitsBefore = { ...server.hits };
    const r2 = await runFacePipeline(rows, opts);
    assert.deepEqual(states(r2), { ...states(r), 5: "ok" });
    assert.equal(server.hits["/loop-a"], hitsBefore["/loop-a"], "cached redirect verdict");
    assert.equal(server.hits["/big-declared.jpg"], hitsBefore["/big-declared.jpg"], "cached size verdict");
    assert.equal(fs.statSync(cropFile(cacheDir, sha256Hex(img), "grey64")).size, 64 * 64);

    // A body that drips forever ends at the deadline, which covers the body too; a timeout is
    // not a verdict, so the next run asks again.
    const drip = [row(`${b}/drip.jpg`, "3".repeat(64), [0, 0, 10, 10], 4)];
    const dripOpts = { ...opts, timeoutMs: 500, retries: 0 };
    const t1 = performance.now();
    assert.deepEqual(states(await runFacePipeline(drip, dripOpts)), { 4: "failed:timeout" });
    assert.ok(performance.now() - t1 < 3000, "stopped at the deadline");
    assert.deepEqual(states(await runFacePipeline(drip, dripOpts)), { 4: "failed:timeout" });
    assert.equal(server.hits["/drip.jpg"], 2, "tried again on the second run");
  } finally {
    await server.close();
  }
});

test("a fixed bounding box and a mirror file added later take effect on the next run, without --retry-rejected", async () => {
  const a = await jpeg(60, 40, 0x30c060ff);
  const bImg = await jpeg(50, 50, 0xc03060ff);
  const dir = tmp("mirror");
  fs.writeFileSync(path.join(dir, "manifest.tsv"), "url\tfile\nhttp://x/a.jpg\ta.jpg\nhttp://x/b.jpg\tb.jpg\n");
  fs.writeFileSync(path.join(dir, "a.jpg"), a);
  const cacheDir = tmp("cache");
  const opts = { source: mirrorDirSource(dir), cacheDir, ...fast };
  const outside = [
    row("http://x/a.jpg", sha256Hex(a), [30, 10, 90, 40], 2),
    row("http://x/b.jpg", sha256Hex(bImg), [0, 0, 50, 50], 3),
  ];
  const r1 = await runFacePipeline(outside, opts);
  assert.deepEqual(states(r1), { 2: "rejected:bbox-outside", 3: "failed:mirror-missing" });
  const r2 = await runFacePipeline(outside, opts);
  assert.deepEqual(states(r2), states(r1));
  assert.equal(r2.outcomes[0].cached, true, "the same box: the cached verdict stands");
  fs.writeFileSync(path.join(dir, "b.jpg"), bImg);
  const fixed = [{ ...outside[0], bbox: [10, 10, 50, 40] as FaceRow["bbox"] }, outside[1]];
  const r3 = await runFacePipeline(fixed, opts);
  assert.deepEqual(states(r3), { 2: "ok", 3: "ok" });
  assert.deepEqual(fs.readdirSync(path.join(cacheDir, "rejected")), [], "no stale rejection kept");
  assert.equal(fs.readFileSync(rejectedReportFile(cacheDir), "utf8"), "line\tactor\tstate\treason\turl\tdetail\n");
});

test("a crashed decode worker is a retryable failure, never a cached rejection", async () => {
  const img = await jpeg(40, 40, 0x8080ffff);
  const source: FaceSource = { description: "one", key: "one", fetch: async () => ({ bytes: img }) };
  const cacheDir = tmp("crash");
  const rows = [row("http://x/a.jpg", sha256Hex(img), [0, 0, 30, 30], 2)];
  const crashing = () =>
    new Worker(`require("worker_threads").parentPort.on("message", () => { throw new Error("simulated crash"); });`, {
      eval: true,
    });
  const r1 = await runFacePipeline(rows, { source, cacheDir, ...fast, decodeWorkers: 1, startDecodeWorker: crashing });
  assert.deepEqual(states(r1), { 2: "failed:decoder-crash" });
  assert.match(r1.outcomes[0].detail!, /simulated crash/);
  assert.deepEqual(fs.readdirSync(path.join(cacheDir, "rejected")), []);
  // A worker that exits without an error event (as when the thread is stopped) fails its job the same way.
  const exiting = () =>
    new Worker(`require("worker_threads").parentPort.on("message", () => process.exit(3));`, { eval: true });
  const rExit = await runFacePipeline(rows, {
    source,
    cacheDir,
    ...fast,
    decodeWorkers: 1,
    startDecodeWorker: exiting,
  });
  assert.deepEqual(states(rExit), { 2: "failed:decoder-crash" });
  assert.match(rExit.outcomes[0].detail!, /exited with code 3/);
  const r2 = await runFacePipeline(rows, { source, cacheDir, ...fast, decodeWorkers: 1 });
  assert.deepEqual(states(r2), { 2: "ok" });
});

test("SIGTERM to the notebook runner ends the notebook it runs; nothing rewrites the notebook later", async () => {
  const root = path.resolve(__dirname, "..");
  // Inside the project, as runner.test.ts does, so the notebook's process resolves the project's modules.
  fs.mkdirSync(path.join(root, "build"), { recursive: true });
  const dir = fs.mkdtempSync(path.join(root, "build", "faults-runner-"));
  fs.mkdirSync(path.join(dir, "notebooks"));
  const started = path.join(dir, "started");
  const late = path.join(dir, "late");
  const cell = (source: string, i: number) => ({
    cell_type: "code",
    id: `c${i}`,
    source,
    metadata: {},
    outputs: [],
    execution_count: null,
  });
  const nb = {
    cells: [
      `import * as fs from "fs";\nfs.writeFileSync(${JSON.stringify(started)}, String(process.pid));\nawait new Promise((r) => setTimeout(r, 2000));`,
      `fs.writeFileSync(${JSON.stringify(late)}, "the orphan ran on");`,
    ].map(cell),
    metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  const notebook = path.join(dir, "notebooks", "01-sleep.ipynb");
  const text = JSON.stringify(nb);
  fs.writeFileSync(notebook, text);
  // The full profile writes back into the notebook itself: what an orphan would do to a committed one.
  const runner = spawn(
    process.execPath,
    [
      "-e",
      `require(${JSON.stringify(path.join(root, "tools", "dist", "run-notebooks.js"))})
        .runNotebooks({ profile: "full", names: [], keepGoing: false, params: {} }, ${JSON.stringify(dir)})
        .then((code) => process.exit(code));`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  runner.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => runner.on("exit", (code) => r(code)));
  try {
    const t0 = Date.now();
    while (!fs.existsSync(started)) {
      assert.ok(Date.now() - t0 < 60_000, `the notebook never started: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const notebookPid = Number(fs.readFileSync(started, "utf8"));
    const t1 = Date.now();
    runner.kill("SIGTERM");
    const code = await exited;
    assert.equal(code, 128 + 15, stderr);
    assert.ok(Date.now() - t1 < 5000, "the runner stopped promptly");
    assert.match(stderr, /SIGTERM received; stopping the running notebook/);
    assert.throws(() => process.kill(notebookPid, 0), /ESRCH/, "the notebook process is gone");
    // Longer than the cell's sleep: an orphan would have run cell 2 and written the notebook by now.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(fs.existsSync(late), false, "no cell ran after the runner was stopped");
    assert.equal(fs.readFileSync(notebook, "utf8"), text, "the notebook was not rewritten");
  } finally {
    runner.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Six separable classes of noisy images for the grid, 48 training and 24 validation rows per size. */
function tinyGridData() {
  const rng = new Random(3);
  const tiny = (n: number, dim: number) => {
    const x = new Float32Array(n * dim);
    const labels = new Uint8Array(n);
    for (let r = 0; r < n; r++) {
      labels[r] = r % 6;
      for (let i = 0; i < dim; i++) x[r * dim + i] = rng.normal(i % 6 === labels[r] ? 1.5 : 0, 0.5);
    }
    return { rows: n, dim, x, labels };
  };
  return {
    32: { train: tiny(48, 32 * 32), validation: tiny(24, 32 * 32) },
    64: { train: tiny(48, 64 * 64), validation: tiny(24, 64 * 64) },
  };
}

/** A tmpfs of `kb` KB mounted on a fresh folder, or why one cannot be mounted here. */
function smallDisk(kb: number): { dir: string; unmount: () => void } | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: "mounting a tmpfs needs root" };
  const dir = tmp("disk");
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${kb}k`, "tmpfs", dir], { encoding: "utf8" });
  if (r.status !== 0) return { skip: `mount -t tmpfs failed here: ${(r.stderr || r.error?.message || "").trim()}` };
  return {
    dir,
    unmount: () => {
      spawnSync("umount", [dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

test("a full disk: every write names its file, and nothing half-written is left or trusted", async (t) => {
  const disk = smallDisk(256);
  if ("skip" in disk) return t.skip(disk.skip);
  try {
    // An atomic write too big for the disk: named, no temp file, the previous version intact.
    const file = path.join(disk.dir, "cache.json");
    writeFileAtomic(file, "previous");
    assert.throws(
      () => writeFileAtomic(file, Buffer.alloc(300 * 1024, 1)),
      (e: unknown) =>
        e instanceof FileWriteError &&
        e.code === "ENOSPC" &&
        e.message === `could not write ${file}: no space left on device (ENOSPC); the previous file is unchanged`,
    );
    assert.deepEqual(fs.readdirSync(disk.dir), ["cache.json"]);
    assert.equal(fs.readFileSync(file, "utf8"), "previous");

    // An append that does not fit (the grid's results file): cut back, so no torn line.
    const results = path.join(disk.dir, "results.jsonl");
    appendFileWhole(results, '{"key":"a"}\n');
    assert.throws(
      () => appendFileWhole(results, `{"key":"b","pad":"${"x".repeat(300 * 1024)}"}\n`),
      (e: unknown) => {
        return (
          e instanceof FileWriteError && /could not write .*results\.jsonl: no space left on device/.test(e.message)
        );
      },
    );
    assert.equal(fs.readFileSync(results, "utf8"), '{"key":"a"}\n');
    fs.rmSync(results);
    fs.rmSync(file);

    // The face pipeline on a full disk stops with the file it could not write; no crops are trusted after.
    const img = await jpeg(60, 60, 0x6040a0ff);
    const source: FaceSource = { description: "one", key: "one", fetch: async () => ({ bytes: img }) };
    fs.writeFileSync(path.join(disk.dir, "filler"), Buffer.alloc(200 * 1024));
    const cacheDir = path.join(disk.dir, "faces");
    const rows = [row("http://x/a.jpg", sha256Hex(img), [0, 0, 60, 60], 2)];
    await assert.rejects(
      runFacePipeline(rows, { source, cacheDir, ...fast }),
      /could not write .*faces\/crops\/[0-9a-f]{64}\.\w+\.u8: no space left on device \(ENOSPC\); nothing was written/,
    );
    assert.equal(readCached(cacheDir, rows[0]), null, "nothing trusted after the failed run");
    assert.deepEqual(
      fs.readdirSync(path.join(cacheDir, "crops")).filter((f) => f.endsWith(".tmp") || f.endsWith(".json")),
      [],
    );
    // With space again, the rerun completes.
    fs.rmSync(path.join(disk.dir, "filler"));
    const r = await runFacePipeline(rows, { source, cacheDir, ...fast });
    assert.deepEqual(states(r), { 2: "ok" });

    // The grid's results file on a full disk: the search stops naming the file, with no torn line.
    const full = path.join(disk.dir, "filler");
    fs.writeFileSync(full, Buffer.alloc(0));
    try {
      for (;;) fs.appendFileSync(full, Buffer.alloc(4096)); // fill the disk to the last block
    } catch {
      // ENOSPC: full
    }
    const gridFile = path.join(disk.dir, "results.jsonl");
    const configs: GridConfig[] = [
      { size: 32, hidden: 3, epochs: 2, batchSize: 8, activation: "relu", learningRate: 1e-3 },
    ];
    await assert.rejects(
      runGridSearch(configs, tinyGridData(), { resultsFile: gridFile, workers: 1, log: () => {} }),
      (e: unknown) => e instanceof FileWriteError && e.file === gridFile && /no space left on device/.test(e.message),
    );
    assert.equal(fs.existsSync(gridFile) ? fs.readFileSync(gridFile, "utf8") : "", "", "no torn line");
  } finally {
    disk.unmount();
  }
});

test("a diverging MLP configuration is recorded as diverged, never ranked or retrained; the others still count", async () => {
  const data = tinyGridData();
  const base: GridConfig = { size: 32, hidden: 4, epochs: 4, batchSize: 16, activation: "relu", learningRate: 1e-3 };
  // On the kernel the first two train together as one job, so the divergence must not take the other down.
  const configs = [base, { ...base, learningRate: 1e30 }, { ...base, activation: "leaky_relu" as const }];
  for (const engine of ["tfjs", "kernel"] as const) {
    if (engine === "kernel" && chooseMlpEngine("auto", 6).engine !== "kernel") continue; // kernel not built
    const resultsFile = path.join(tmp(`grid-${engine}`), "results.jsonl");
    const logs: string[] = [];
    const results = await runGridSearch(configs, data, { resultsFile, workers: 1, engine, log: (l) => logs.push(l) });
    const bad = configKey(configs[1]);
    assert.deepEqual(
      results.map((r) => r.key),
      [configKey(configs[0]), configKey(configs[2])],
      engine,
    );
    assert.ok(results.every((r) => r.validationAccuracy >= 0 && r.validationAccuracy <= 1));
    assert.notEqual(bestResult(results).key, bad);
    assert.ok(
      logs.some((l) => l.includes(`${bad}: diverged at epoch `) && l.endsWith("recorded, not ranked")),
      logs.join("\n"),
    );
    const file = readGridFile(resultsFile);
    assert.deepEqual(file.problems, []);
    assert.equal(file.diverged.get(bad)?.diverged.epoch !== undefined, true);
    // A rerun trains nothing: the divergence is a recorded outcome.
    logs.length = 0;
    const again = await runGridSearch(configs, data, { resultsFile, workers: 1, engine, log: (l) => logs.push(l) });
    assert.match(logs[0], /3 configurations, 3 already done/);
    assert.deepEqual(again, results);
  }
  // Non-finite weights are never saved (JSON would write null, read back as 0).
  const w = initWeights(4, 2, 6, "relu", 0);
  w.W1[3] = NaN;
  assert.throws(() => weightsToJson(w, "part8.json"), /part8\.json: not saved, W1\[3\] is NaN/);
});
