/**
 * The face pipeline against a loopback HTTP server started here: good images, a 404, a
 * response that hangs past the timeout, an HTML page, a truncated JPEG, a wrong hash, a
 * box outside the image and a dead host each end in their expected state; the same run
 * through an HTTP mirror (manifest + files) gives the same crops.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { Jimp } from "jimp";
import { FaceRow } from "../lib/data/facescrub-list";
import { internetSource, mirrorHttpSource } from "../lib/data/face-source";
import { cropFile, runFacePipeline } from "../lib/data/face-pipeline";

const sha = (b: Uint8Array) => crypto.createHash("sha256").update(b).digest("hex");

async function image(mime: "image/jpeg" | "image/png", w: number, h: number, colour: number): Promise<Uint8Array> {
  const img = new Jimp({ width: w, height: h, color: colour });
  for (let y = 0; y < h; y += 7) for (let x = 0; x < w; x++) img.setPixelColor(0x102030ff, x, y);
  return new Uint8Array(await img.getBuffer(mime));
}

interface Route {
  status?: number;
  type?: string;
  body?: Uint8Array | string;
  hang?: boolean;
}

function serve(routes: Record<string, Route>): Promise<{ base: string; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const r = routes[req.url ?? ""];
    if (!r) {
      res.writeHead(404, { "content-type": "text/html" }).end("<html>not found</html>");
      return;
    }
    if (r.hang) return; // never answers: the client's timeout must fire
    res.writeHead(r.status ?? 200, { "content-type": r.type ?? "image/jpeg" }).end(r.body ?? "");
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({
        base: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    }),
  );
}

/** A port nothing listens on: bind, note the port, close. */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function row(actor: string, url: string, bbox: FaceRow["bbox"], sha256: string, line: number): FaceRow {
  return { actor, imageId: String(line), faceId: String(line), url, bbox, sha256, line };
}

test("each kind of bad input ends in its expected state, and the run goes on", async () => {
  const jpeg = await image("image/jpeg", 120, 90, 0xc08040ff);
  const png = await image("image/png", 64, 64, 0x4080c0ff);
  const truncated = jpeg.subarray(0, Math.floor(jpeg.length / 2));
  const html = "<!DOCTYPE html><html><body>Image not available</body></html>";
  const jpegOther = await image("image/jpeg", 120, 90, 0x20c040ff);
  const server = await serve({
    "/good.jpg": { body: jpeg },
    "/good.png": { body: png, type: "image/png" },
    "/hang.jpg": { hang: true },
    "/page.jpg": { body: html, type: "text/html; charset=utf-8" },
    "/page-as-jpeg.jpg": { body: html, type: "image/jpeg" },
    "/truncated.jpg": { body: truncated },
    "/wrong.jpg": { body: jpeg },
    "/outside.jpg": { body: jpegOther },
    "/empty.jpg": { body: new Uint8Array(0) },
    "/busy.jpg": { status: 503 },
  });
  const dead = await deadPort();
  const b = server.base;
  const rows2 = [
    row("A", `${b}/good.jpg`, [10, 10, 90, 80], sha(jpeg), 2),
    row("B", `${b}/good.png`, [0, 0, 64, 64], sha(png), 3),
    row("A", `${b}/missing.jpg`, [0, 0, 10, 10], "1".repeat(64), 4),
    row("A", `${b}/hang.jpg`, [0, 0, 10, 10], "2".repeat(64), 5),
    row("A", `${b}/page.jpg`, [0, 0, 10, 10], "3".repeat(64), 6),
    row("A", `${b}/page-as-jpeg.jpg`, [0, 0, 10, 10], "4".repeat(64), 7),
    // the list's hash is of the truncated bytes, so decoding is what must catch it
    row("A", `${b}/truncated.jpg`, [0, 0, 10, 10], sha(truncated), 8),
    row("A", `${b}/wrong.jpg`, [0, 0, 10, 10], "5".repeat(64), 9),
    row("A", `${b}/outside.jpg`, [100, 10, 130, 95], sha(jpegOther), 10),
    row("A", `${b}/empty.jpg`, [0, 0, 10, 10], "7".repeat(64), 11),
    row("A", `http://127.0.0.1:${dead}/gone.jpg`, [0, 0, 10, 10], "8".repeat(64), 12),
    row("A", `${b}/busy.jpg`, [0, 0, 10, 10], "9".repeat(64), 13),
  ];
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "faces-loopback-"));
  const log: string[] = [];
  try {
    const t0 = Date.now();
    const r = await runFacePipeline(rows2, {
      source: internetSource(),
      cacheDir,
      timeoutMs: 400,
      retries: 1,
      backoffMs: 20,
      concurrency: 4,
      decodeWorkers: 1,
      log: (l) => log.push(l),
    });
    const states = Object.fromEntries(
      r.outcomes.map((o) => [o.row.line, `${o.state}${o.reason ? `:${o.reason}` : ""}`]),
    );
    assert.deepEqual(states, {
      2: "ok",
      3: "ok",
      4: "rejected:http-404",
      5: "failed:timeout",
      6: "rejected:html",
      7: "rejected:html",
      8: "rejected:undecodable",
      9: "rejected:hash-mismatch",
      10: "rejected:bbox-outside",
      11: "rejected:empty",
      12: "failed:dead-host",
      13: "failed:http-5xx",
    });
    assert.deepEqual(r.counts, { ok: 2, rejected: 7, failed: 3, cached: 0, duplicates: 0 });
    assert.equal(log.length, 10, "one logged reason per bad row");
    assert.ok(log.every((l) => /line \d+: /.test(l)));
    assert.ok(Date.now() - t0 < 30_000);
    for (const s of [sha(jpeg), sha(png)]) assert.equal(fs.statSync(cropFile(cacheDir, s, "grey64")).size, 64 * 64);
  } finally {
    await server.close();
  }
});

test("an HTTP mirror (manifest + files) serves the same bytes; unknown URLs are dead", async () => {
  const jpeg = await image("image/jpeg", 80, 60, 0x808080ff);
  const manifest = "url\tfile\nhttp://example.org/a.jpg\timg-1.jpg\n";
  const server = await serve({
    "/manifest.tsv": { body: manifest, type: "text/tab-separated-values" },
    "/img-1.jpg": { body: jpeg },
  });
  try {
    const source = await mirrorHttpSource(`${server.base}/`);
    const rows = [
      row("A", "http://example.org/a.jpg", [0, 0, 40, 40], sha(jpeg), 2),
      row("A", "http://example.org/dead.jpg", [0, 0, 4, 4], "1".repeat(64), 3),
    ];
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "faces-mirror-"));
    const r = await runFacePipeline(rows, { source, cacheDir, decodeWorkers: 0 });
    assert.deepEqual(
      r.outcomes.map((o) => `${o.state}${o.reason ? `:${o.reason}` : ""}`),
      ["ok", "rejected:http-404"],
    );
  } finally {
    await server.close();
  }
  await assert.rejects(mirrorHttpSource(`http://127.0.0.1:${await deadPort()}/`), /manifest.tsv could not be fetched/);
});
