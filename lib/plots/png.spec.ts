import { test } from "node:test";
import assert from "node:assert/strict";
import { PNG } from "pngjs";
import { palettePng } from "./png";

function rgbaPng(width: number, height: number, pixel: (x: number, y: number) => number[]): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) png.data.set(pixel(x, y), (y * width + x) * 4);
  return PNG.sync.write(png);
}

test("few colours: the same pixels, a palette PNG (colour type 3), fewer bytes", () => {
  const colours = [
    [255, 255, 255, 255],
    [31, 119, 180, 255],
    [255, 127, 14, 255],
  ];
  const input = rgbaPng(120, 80, (x, y) => colours[(x * 7 + y * 3) % 3]);
  const out = palettePng(input);
  assert.equal(out[25], 3, "IHDR colour type: palette");
  assert.ok(out.length < input.length, `${out.length} bytes, not fewer than ${input.length}`);
  assert.deepEqual(PNG.sync.read(out).data, PNG.sync.read(input).data);
});

test("many colours: at most 256 remain, each pixel close to its original", () => {
  const input = rgbaPng(256, 64, (x, y) => [x, (x + y * 4) % 256, 255 - x, 255]);
  const a = PNG.sync.read(input).data;
  const b = PNG.sync.read(palettePng(input)).data;
  const seen = new Set<number>();
  let worst = 0;
  for (let i = 0; i < a.length; i += 4) {
    seen.add((b[i] << 16) | (b[i + 1] << 8) | b[i + 2]);
    for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(a[i + c] - b[i + c]));
  }
  assert.ok(seen.size <= 256, `${seen.size} colours`);
  assert.ok(worst <= 64, `largest channel error ${worst}`);
});
