import { test } from "node:test";
import assert from "node:assert/strict";
import { Jimp } from "jimp";
import {
  checkDeclaredSize,
  cropRgb,
  declaredSize,
  decodeImage,
  ImageRejection,
  processImage,
  resampleWeights,
  resizePlane,
  trimPngTrailer,
} from "./face-image";

test("resample weights sum to 1 for shrinking and enlarging", () => {
  for (const [inSize, outSize] of [[1758, 32], [100, 64], [158, 227], [7, 3], [3, 7], [64, 64]]) {
    const { w } = resampleWeights(inSize, outSize);
    for (const ws of w) assert.ok(Math.abs(ws.reduce((a, b) => a + b, 0) - 1) < 1e-6, `${inSize}->${outSize}`);
  }
});

test("shrinking by 2 averages 2x2 blocks; same size is the identity", () => {
  const src = Float32Array.from([1, 3, 5, 7, 9, 11, 13, 15, 2, 4, 6, 8, 10, 12, 14, 16]);
  assert.deepEqual(Array.from(resizePlane(src, 4, 4, 2)), [(1 + 3 + 9 + 11) / 4, (5 + 7 + 13 + 15) / 4, (2 + 4 + 10 + 12) / 4, (6 + 8 + 14 + 16) / 4]);
  assert.deepEqual(Array.from(resizePlane(src, 4, 4, 4)), Array.from(src));
});

test("crop takes exactly the box; a box outside the image is rejected with the sizes", () => {
  const data = new Uint8Array(4 * 3 * 4);
  for (let i = 0; i < 12; i++) data.set([i, 100 + i, 200 + i, 255], i * 4);
  const img = { width: 4, height: 3, data };
  const c = cropRgb(img, [1, 1, 3, 3]);
  assert.deepEqual([c.w, c.h], [2, 2]);
  assert.deepEqual(Array.from(c.rgb[0]), [5, 6, 9, 10]);
  assert.deepEqual(Array.from(c.rgb[2]), [205, 206, 209, 210]);
  for (const box of [[-1, 0, 2, 2], [0, 0, 5, 2], [0, 0, 2, 4], [2, 2, 2, 3]] as const) {
    assert.throws(() => cropRgb(img, box), (e: unknown) => e instanceof ImageRejection && e.reason === "bbox-outside" && /not inside the 4x3 image/.test(e.message));
  }
});

async function pngOf(width: number, height: number, rgb: [number, number, number]): Promise<Uint8Array> {
  const img = new Jimp({ width, height, color: ((rgb[0] << 24) | (rgb[1] << 16) | (rgb[2] << 8) | 0xff) >>> 0 });
  return new Uint8Array(await img.getBuffer("image/png"));
}

test("a PNG with junk after IEND decodes like the clean file", async () => {
  const png = await pngOf(5, 4, [10, 20, 30]);
  const junk = new Uint8Array([...png, ...new Uint8Array(1000).fill(7)]);
  assert.equal(trimPngTrailer(junk).length, png.length);
  assert.deepEqual((await decodeImage(junk)).data, (await decodeImage(png)).data);
  const jpegish = new Uint8Array([0xff, 0xd8, 1, 2]);
  assert.equal(trimPngTrailer(jpegish), jpegish);
});

test("processImage gives the three crops with the expected grey and colour values", async () => {
  const r = await processImage(await pngOf(300, 200, [200, 100, 50]), [10, 10, 250, 190]);
  assert.deepEqual([r.width, r.height], [300, 200]);
  assert.equal(r.crops.grey32.length, 32 * 32);
  assert.equal(r.crops.grey64.length, 64 * 64);
  assert.equal(r.crops.rgb227.length, 227 * 227 * 3);
  const grey = Math.round(0.2125 * 200 + 0.7154 * 100 + 0.0721 * 50);
  assert.ok(r.crops.grey32.every((v) => v === grey));
  assert.deepEqual(Array.from(r.crops.rgb227.subarray(0, 6)), [200, 100, 50, 200, 100, 50]);
});

test("bytes that are no image are rejected as undecodable", async () => {
  for (const bytes of [new Uint8Array(0), new TextEncoder().encode("<html>no</html>")]) {
    await assert.rejects(processImage(bytes, [0, 0, 1, 1]), (e: unknown) => e instanceof ImageRejection && e.reason === "undecodable");
  }
  const png = await pngOf(50, 50, [1, 2, 3]);
  await assert.rejects(processImage(png.subarray(0, 60), [0, 0, 1, 1]), (e: unknown) => e instanceof ImageRejection && e.reason === "undecodable");
});

test("declared sizes are read from PNG, JPEG, GIF and BMP headers without decoding", async () => {
  const sized = async (mime: "image/png" | "image/jpeg" | "image/bmp" | "image/gif", w: number, h: number) =>
    new Uint8Array(await new Jimp({ width: w, height: h, color: 0x336699ff }).getBuffer(mime));
  const cases: [Uint8Array, ReturnType<typeof declaredSize>][] = [
    [await sized("image/png", 37, 21), { format: "png", width: 37, height: 21 }],
    [await sized("image/jpeg", 640, 3), { format: "jpeg", width: 640, height: 3 }],
    [await sized("image/gif", 5, 9), { format: "gif", width: 5, height: 9 }],
    [await sized("image/bmp", 12, 7), { format: "bmp", width: 12, height: 7 }],
    [new Uint8Array([0xff, 0xd8, 0xff]), null],
    [new TextEncoder().encode("<html><body>no image</body></html>"), null],
    [new Uint8Array(0), null],
  ];
  for (const [bytes, expected] of cases) assert.deepEqual(declaredSize(bytes), expected);
});

test("a header declaring more pixels than the limit is refused before decoding", async () => {
  const png = new Uint8Array(await new Jimp({ width: 30, height: 20, color: 0x336699ff }).getBuffer("image/png"));
  assert.deepEqual(checkDeclaredSize(png, 600), { format: "png", width: 30, height: 20 });
  assert.throws(
    () => checkDeclaredSize(png, 599),
    (e: unknown) => e instanceof ImageRejection && e.reason === "too-many-pixels" && /declares 30x20/.test(e.message),
  );
  await assert.rejects(decodeImage(png, 599), /\(600 pixels\), more than the limit of 599; not decoded/);
  assert.throws(
    () => checkDeclaredSize(new Uint8Array([1, 2, 3])),
    (e: unknown) => e instanceof ImageRejection && e.reason === "undecodable",
  );
});
