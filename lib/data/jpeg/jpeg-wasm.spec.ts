import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { Jimp } from "jimp";
import { projectRoot } from "../../runtime/paths";
import { decodeJpegFast, decodeJpegKernel, jpegKernelPath } from "./jpeg-wasm";

const kernelBuilt = fs.existsSync(jpegKernelPath());

/** What jimp gives for the bytes: the reference every decode here must equal byte for byte. */
async function jimpRgba(bytes: Uint8Array): Promise<{ width: number; height: number; data: Uint8Array }> {
  const { bitmap } = (await Jimp.fromBuffer(Buffer.from(bytes))) as unknown as {
    bitmap: { width: number; height: number; data: Buffer };
  };
  return { width: bitmap.width, height: bitmap.height, data: new Uint8Array(bitmap.data) };
}

function assertSameAsJimp(
  name: string,
  fast: { width: number; height: number; data: Uint8Array },
  ref: { width: number; height: number; data: Uint8Array },
) {
  assert.deepEqual([fast.width, fast.height], [ref.width, ref.height], name);
  assert.equal(fast.data.length, ref.data.length, name);
  const first = fast.data.findIndex((v, i) => v !== ref.data[i]);
  assert.equal(first, -1, `${name}: first differing byte at ${first}`);
}

/** Seeded pixels with edges, gradients and noise, so every coefficient range is exercised. */
function pixel(seed: number, x: number, y: number, c: number): number {
  let h = (x * 374761393 + y * 668265263 + c * 2246822519 + seed * 3266489917) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 1274126177) >>> 0;
  const noise = (h & 63) - 32;
  const base = ((x * (3 + c)) ^ (y * 5)) & 255;
  const edge = (x >> 3) % 2 === (y >> 2) % 2 ? 60 : -60;
  return Math.max(0, Math.min(255, base + noise + edge));
}

async function jimpJpeg(width: number, height: number, quality: number, seed: number): Promise<Uint8Array> {
  const img = new Jimp({ width, height, color: 0 });
  const d = img.bitmap.data;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 4; c++) d[(y * width + x) * 4 + c] = c === 3 ? 255 : pixel(seed, x, y, c);
  return new Uint8Array(await img.getBuffer("image/jpeg", { quality }));
}

test("JPEGs written by jimp (4:4:4) at several qualities and sizes decode to jimp's exact bytes", { skip: !kernelBuilt && "kernel not built" }, async () => {
  const sizes = [[1, 1], [7, 5], [8, 8], [16, 16], [17, 9], [33, 31], [100, 3], [3, 100], [131, 67]];
  const qualities = [1, 10, 50, 75, 90, 100];
  let n = 0;
  for (const [w, h] of sizes)
    for (const q of qualities) {
      const bytes = await jimpJpeg(w, h, q, n++);
      const fast = decodeJpegFast(bytes);
      assert.ok(fast, `${w}x${h} q${q} was declined`);
      assertSameAsJimp(`${w}x${h} q${q}`, fast, await jimpRgba(bytes));
    }
});

/**
 * A small baseline JPEG encoder for the cases jimp's encoder never writes: greyscale, chroma
 * subsampling (4:2:0, 4:2:2, 2x3), restart intervals, four components with an Adobe segment,
 * several scans. Its Huffman and quantization tables are the ones jimp's encoder writes,
 * taken from one of its files.
 */
interface Tables {
  dqt: Uint8Array; // segment payload
  dht: Uint8Array;
  q: number[]; // the luminance table in natural order
  codes: { dc: Map<number, [number, number]>; ac: Map<number, [number, number]> }; // value -> [code, length]
}

const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42,
  49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

async function tablesFromJimp(quality: number): Promise<Tables> {
  const b = await jimpJpeg(8, 8, quality, 0);
  const segments = new Map<number, Uint8Array[]>();
  for (let i = 2; b[i + 1] !== 0xda; ) {
    const len = (b[i + 2] << 8) | b[i + 3];
    const list = segments.get(b[i + 1]) ?? [];
    list.push(b.subarray(i + 4, i + 2 + len));
    segments.set(b[i + 1], list);
    i += 2 + len;
  }
  const dqt = segments.get(0xdb)![0];
  const dht = segments.get(0xc4)![0];
  const q = new Array<number>(64);
  for (let j = 0; j < 64; j++) q[ZIGZAG[j]] = dqt[1 + j]; // the first (luminance) table
  const codes = { dc: new Map<number, [number, number]>(), ac: new Map<number, [number, number]>() };
  for (let i = 0; i < dht.length; ) {
    const spec = dht[i];
    const counts = dht.subarray(i + 1, i + 17);
    let k = i + 17;
    let code = 0;
    const map = spec >> 4 ? codes.ac : codes.dc;
    for (let len = 1; len <= 16; len++, code <<= 1)
      for (let j = 0; j < counts[len - 1]; j++, code++) if ((spec & 15) === 0) map.set(dht[k++], [code, len]);
      else k++;
    i = k;
  }
  return { dqt, dht, q, codes };
}

interface EncodeOptions {
  width: number;
  height: number;
  /** Sampling factors per component; the component's samples come from `sample`. */
  sampling: [number, number][];
  sample: (c: number, x: number, y: number) => number;
  restartInterval?: number;
  adobeTransform?: number;
  /** One scan per component instead of one interleaved scan. */
  separateScans?: boolean;
  /**
   * Declare a 16-bit quantization table this many times the one used to encode, so that the
   * dequantized coefficients are far beyond what an image gives (the IDCT's overflow cases).
   */
  dqtScale?: number;
  /**
   * Progressive (SOF2): an interleaved DC scan of the coefficients' upper bits (Al 1), its
   * refinement scan (the last bit), then per component one scan per band of AC coefficients
   * (no AC refinement, which the mirror's progressive photos cover).
   */
  progressiveBands?: [number, number][];
}

function encodeJpeg(t: Tables, o: EncodeOptions): Uint8Array {
  const out: number[] = [];
  const u16 = (v: number) => out.push(v >> 8, v & 255);
  const segment = (marker: number, payload: ArrayLike<number>) => {
    out.push(0xff, marker);
    u16(payload.length + 2);
    for (let i = 0; i < payload.length; i++) out.push(payload[i]);
  };
  out.push(0xff, 0xd8);
  if (o.adobeTransform !== undefined) segment(0xee, [0x41, 0x64, 0x6f, 0x62, 0x65, 0, 100, 0, 0, 0, 0, o.adobeTransform]);
  if (o.dqtScale) {
    const dqt = [0x10];
    for (let j = 0; j < 64; j++) {
      const v = t.q[ZIGZAG[j]] * o.dqtScale;
      dqt.push(v >> 8, v & 255);
    }
    segment(0xdb, dqt);
  } else segment(0xdb, t.dqt);
  const n = o.sampling.length;
  const maxH = Math.max(...o.sampling.map((s) => s[0]));
  const maxV = Math.max(...o.sampling.map((s) => s[1]));
  const sof = [8, o.height >> 8, o.height & 255, o.width >> 8, o.width & 255, n];
  o.sampling.forEach(([h, v], c) => sof.push(c + 1, (h << 4) | v, 0));
  segment(o.progressiveBands ? 0xc2 : 0xc0, sof);
  segment(0xc4, t.dht);
  if (o.restartInterval) segment(0xdd, [o.restartInterval >> 8, o.restartInterval & 255]);

  let acc = 0;
  let nbits = 0;
  const putBits = (code: number, len: number) => {
    for (let i = len - 1; i >= 0; i--) {
      acc = (acc << 1) | ((code >> i) & 1);
      if (++nbits === 8) {
        out.push(acc);
        if (acc === 0xff) out.push(0);
        acc = 0;
        nbits = 0;
      }
    }
  };
  const flush = () => {
    while (nbits) putBits(1, 1);
  };
  const magnitude = (v: number): [number, number] => {
    const a = Math.abs(v);
    const s = a === 0 ? 0 : Math.floor(Math.log2(a)) + 1;
    return [s, v >= 0 ? v : v + (1 << s) - 1];
  };
  const cw = o.sampling.map(([h]) => Math.ceil((o.width * h) / maxH));
  const ch = o.sampling.map(([, v]) => Math.ceil((o.height * v) / maxV));
  const pred = new Array<number>(n).fill(0);
  const coefficients = new Map<string, number[]>();
  const quantized = (c: number, bx: number, by: number): number[] => {
    const known = coefficients.get(`${c},${bx},${by}`);
    if (known) return known;
    const s = new Float64Array(64);
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 8; x++) s[y * 8 + x] = o.sample(c, Math.min(bx * 8 + x, cw[c] - 1), Math.min(by * 8 + y, ch[c] - 1)) - 128;
    const zz = new Array<number>(64);
    for (let v = 0; v < 8; v++)
      for (let u = 0; u < 8; u++) {
        let f = 0;
        for (let y = 0; y < 8; y++)
          for (let x = 0; x < 8; x++) f += s[y * 8 + x] * Math.cos(((2 * x + 1) * u * Math.PI) / 16) * Math.cos(((2 * y + 1) * v * Math.PI) / 16);
        f *= (u ? 1 : Math.SQRT1_2) * (v ? 1 : Math.SQRT1_2) * 0.25;
        zz[ZIGZAG.indexOf(v * 8 + u)] = Math.round(f / t.q[v * 8 + u]);
      }
    coefficients.set(`${c},${bx},${by}`, zz);
    return zz;
  };
  type Part = "all" | "dc-high" | "dc-low" | [number, number];
  const block = (c: number, bx: number, by: number, part: Part = "all") => {
    const zz = quantized(c, bx, by);
    if (part === "dc-low") return putBits(zz[0] & 1, 1);
    if (part !== "all" && part !== "dc-high" && part[0] === 0) throw new Error("a band starts at 1");
    if (part === "all" || part === "dc-high") {
      const dc = part === "dc-high" ? zz[0] >> 1 : zz[0];
      const [ds, dbits] = magnitude(dc - pred[c]);
      pred[c] = dc;
      putBits(...t.codes.dc.get(ds)!);
      putBits(dbits, ds);
      if (part === "dc-high") return;
    }
    const [from, to] = part === "all" ? [1, 63] : part;
    let run = 0;
    for (let k = from; k <= to; k++) {
      if (zz[k] === 0) {
        run++;
        continue;
      }
      for (; run > 15; run -= 16) putBits(...t.codes.ac.get(0xf0)!);
      const [s, bits] = magnitude(zz[k]);
      putBits(...t.codes.ac.get((run << 4) | s)!);
      putBits(bits, s);
      run = 0;
    }
    if (run) putBits(...t.codes.ac.get(0)!);
  };
  const scan = (components: number[], part: Part = "all") => {
    out.push(0xff, 0xda);
    u16(6 + 2 * components.length);
    out.push(components.length);
    for (const c of components) out.push(c + 1, 0);
    if (part === "all") out.push(0, 63, 0);
    else if (part === "dc-high") out.push(0, 0, 0x01);
    else if (part === "dc-low") out.push(0, 0, 0x10);
    else out.push(part[0], part[1], 0);
    const single = components.length === 1;
    // A one-component scan covers the component's blocks as jpeg-js counts them.
    const [h0, v0] = o.sampling[components[0]];
    const unitsPerLine = single ? Math.ceil((Math.ceil(o.width / 8) * h0) / maxH) : Math.ceil(o.width / 8 / maxH);
    const units = single
      ? unitsPerLine * Math.ceil((Math.ceil(o.height / 8) * v0) / maxV)
      : unitsPerLine * Math.ceil(o.height / 8 / maxV);
    pred.fill(0);
    for (let m = 0, rst = 0; m < units; m++) {
      if (o.restartInterval && m > 0 && m % o.restartInterval === 0) {
        flush();
        out.push(0xff, 0xd0 + (rst++ % 8));
        pred.fill(0);
      }
      const mx = m % unitsPerLine;
      const my = Math.floor(m / unitsPerLine);
      if (single) block(components[0], mx, my, part);
      else
        for (const c of components) {
          const [h, v] = o.sampling[c];
          for (let j = 0; j < v; j++) for (let k = 0; k < h; k++) block(c, mx * h + k, my * v + j, part);
        }
    }
    flush();
  };
  const all = o.sampling.map((_, c) => c);
  if (o.progressiveBands) {
    scan(all, "dc-high");
    scan(all, "dc-low");
    for (const band of o.progressiveBands) for (const c of all) scan([c], band);
  } else if (o.separateScans) for (const c of all) scan([c]);
  else scan(all);
  out.push(0xff, 0xd9);
  return Uint8Array.from(out);
}

test("greyscale, subsampled, restart-interval, Adobe four-component and multi-scan JPEGs decode to jimp's exact bytes", { skip: !kernelBuilt && "kernel not built" }, async () => {
  const t = await tablesFromJimp(80);
  const sample = (seed: number) => (c: number, x: number, y: number) => pixel(seed, x, y, c);
  const cases: [string, EncodeOptions][] = [
    ["grey 37x21", { width: 37, height: 21, sampling: [[1, 1]], sample: sample(1) }],
    ["grey 64x16, restart every 3 blocks", { width: 64, height: 16, sampling: [[1, 1]], sample: sample(2), restartInterval: 3 }],
    ["4:2:0 45x29", { width: 45, height: 29, sampling: [[2, 2], [1, 1], [1, 1]], sample: sample(3) }],
    ["4:2:0 40x40, restart every 2 MCUs", { width: 40, height: 40, sampling: [[2, 2], [1, 1], [1, 1]], sample: sample(4), restartInterval: 2 }],
    ["4:2:2 31x17", { width: 31, height: 17, sampling: [[2, 1], [1, 1], [1, 1]], sample: sample(5) }],
    ["2x3 (maxV 3) 23x50", { width: 23, height: 50, sampling: [[2, 3], [1, 1], [1, 1]], sample: sample(6) }],
    ["4:4:4 as one scan per component", { width: 19, height: 13, sampling: [[1, 1], [1, 1], [1, 1]], sample: sample(7), separateScans: true }],
    ["4:2:0 as one scan per component, restart every 5", { width: 35, height: 27, sampling: [[2, 2], [1, 1], [1, 1]], sample: sample(8), separateScans: true, restartInterval: 5 }],
    ["RGB-flagged Adobe (transform 0), still YCbCr to jpeg-js", { width: 12, height: 9, sampling: [[1, 1], [1, 1], [1, 1]], sample: sample(9), adobeTransform: 0 }],
    ["Adobe CMYK (transform 0)", { width: 21, height: 11, sampling: [[1, 1], [1, 1], [1, 1], [1, 1]], sample: sample(10), adobeTransform: 0 }],
    ["Adobe YCCK (transform 2), 4:2:0", { width: 26, height: 18, sampling: [[2, 2], [1, 1], [1, 1], [2, 2]], sample: sample(11), adobeTransform: 2 }],
    ["progressive 4:2:0 29x19, DC refined, AC in three bands", { width: 29, height: 19, sampling: [[2, 2], [1, 1], [1, 1]], sample: sample(14), progressiveBands: [[1, 5], [6, 20], [21, 63]] }],
    ["progressive grey 20x12, restart every 4", { width: 20, height: 12, sampling: [[1, 1]], sample: sample(15), progressiveBands: [[1, 63]], restartInterval: 4 }],
    ["coefficients 40 times too large (16-bit table)", { width: 24, height: 24, sampling: [[2, 2], [1, 1], [1, 1]], sample: sample(12), dqtScale: 40 }],
    ["coefficients 600 times too large (past int32 in the IDCT)", { width: 16, height: 16, sampling: [[1, 1]], sample: sample(13), dqtScale: 600 }],
  ];
  for (const [name, o] of cases) {
    const bytes = encodeJpeg(t, o);
    const markers = bytes.filter((v, i) => v === 0xff && bytes[i + 1] >= 0xd0 && bytes[i + 1] <= 0xd7).length;
    assert.equal(markers > 0, Boolean(o.restartInterval), `${name}: restart markers written`);
    const ref = await jimpRgba(bytes);
    for (const simd of [true, false]) {
      const fast = decodeJpegKernel(bytes, { simd });
      assert.ok(typeof fast === "object" && fast, `${name}: declined with code ${String(fast)}`);
      assert.ok(new Set(fast.data).size > (o.dqtScale ? 2 : 50), `${name}: the test image has detail`);
      assertSameAsJimp(`${name}${simd ? "" : " (scalar IDCT)"}`, fast, ref);
    }
  }
});

test("what jimp decodes differently or refuses is left to jimp: other frame kinds, four components without Adobe, truncated data, EXIF orientation", { skip: !kernelBuilt && "kernel not built" }, async () => {
  const t = await tablesFromJimp(80);
  const grey = encodeJpeg(t, { width: 16, height: 16, sampling: [[1, 1]], sample: (c, x, y) => pixel(1, x, y, c) });
  // SOF3 (lossless): the same bytes marked so.
  const sof = grey.findIndex((v, i) => v === 0xff && grey[i + 1] === 0xc0);
  const lossless = grey.slice();
  lossless[sof + 1] = 0xc3;
  assert.equal(decodeJpegKernel(lossless), 1);
  await assert.rejects(jimpRgba(lossless), /unknown JPEG marker ffc3/);
  const cmyk = encodeJpeg(t, { width: 8, height: 8, sampling: [[1, 1], [1, 1], [1, 1], [1, 1]], sample: () => 100 });
  assert.equal(decodeJpegKernel(cmyk), 5);
  await assert.rejects(jimpRgba(cmyk), /Unsupported color mode \(4 components\)/);
  // Cut inside the scan: the kernel declines rather than guessing what jpeg-js makes of it.
  assert.equal(decodeJpegKernel(grey.subarray(0, grey.length - 20)), 3);
  // An EXIF segment with Orientation 6 (jimp rotates): left to jimp, whose result is rotated.
  const exif = [0x45, 0x78, 0x69, 0x66, 0, 0, 0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0];
  const wide = encodeJpeg(t, { width: 24, height: 8, sampling: [[1, 1]], sample: (c, x, y) => pixel(2, x, y, c) });
  const rotated = Uint8Array.from([0xff, 0xd8, 0xff, 0xe1, 0, exif.length + 2, ...exif, ...wide.subarray(2)]);
  assert.equal(decodeJpegFast(rotated), null);
  const ref = await jimpRgba(rotated);
  assert.deepEqual([ref.width, ref.height], [8, 24]);
  // Orientation 1: decoded here, and the same as jimp.
  const upright = rotated.slice();
  upright[4 + 2 + 25] = 1;
  const fast = decodeJpegFast(upright);
  assert.ok(fast);
  assertSameAsJimp("EXIF orientation 1", fast, await jimpRgba(upright));
});

const mirror = path.resolve(projectRoot(), "..", "shared", "facescrub", "mirror");

/** The marker of a JPEG's first frame header (0xc0 baseline, 0xc2 progressive...), or -1. */
function frameMarker(b: Uint8Array): number {
  for (let i = 2; i + 4 <= b.length && b[i] === 0xff; ) {
    const m = b[i + 1];
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return m;
    if (m === 0xda || m === 0xd9) return -1;
    i += 2 + ((b[i + 2] << 8) | b[i + 3]);
  }
  return -1;
}

test("real FaceScrub photos decode to jimp's exact bytes", { skip: (!kernelBuilt && "kernel not built") || (!fs.existsSync(mirror) && "no mirror at ../shared/facescrub") }, async () => {
  // A fixed sample: every 60th file of the mirror (baseline 4:2:0 and 4:4:4, restart
  // intervals, Adobe segments) and its three smallest progressive files.
  const all = fs
    .readdirSync(mirror)
    .filter((f) => /\.jpe?g$/.test(f))
    .sort();
  const progressive = all
    .filter((f) => frameMarker(fs.readFileSync(path.join(mirror, f))) === 0xc2)
    .sort((a, b) => fs.statSync(path.join(mirror, a)).size - fs.statSync(path.join(mirror, b)).size)
    .slice(0, 3);
  assert.equal(progressive.length, 3, "the mirror has progressive photos");
  const files = [...all.filter((_, i) => i % 60 === 0), ...progressive];
  let decoded = 0;
  for (const f of files) {
    const bytes = new Uint8Array(fs.readFileSync(path.join(mirror, f)));
    const fast = decodeJpegFast(bytes);
    let ref: Awaited<ReturnType<typeof jimpRgba>>;
    try {
      ref = await jimpRgba(bytes);
    } catch {
      assert.equal(fast, null, `${f}: jimp refuses it, the kernel decoded it`);
      continue;
    }
    if (!fast) {
      assert.ok(!progressive.includes(f), `${f}: a progressive photo jimp decodes was declined`);
      continue;
    }
    assertSameAsJimp(f, fast, ref);
    decoded++;
  }
  assert.ok(decoded >= files.length / 2, `only ${decoded} of ${files.length} decoded by the kernel`);
});
