/**
 * Smaller PNGs for the static fallbacks stored in notebooks: at most 256 colours in a palette
 * (upng-js's quantizer) instead of Chromium's 32-bit RGBA. Charts are flat colours with
 * anti-aliased edges, so the palette image looks the same at about a third of the bytes;
 * an image with 256 colours or fewer comes back pixel for pixel.
 */
import { PNG } from "pngjs";

const UPNG = require("upng-js") as {
  encode(frames: ArrayBuffer[], width: number, height: number, colours: number): ArrayBuffer;
};

export function palettePng(png: Uint8Array, colours = 256): Buffer {
  const image = PNG.sync.read(Buffer.from(png));
  // upng-js reads whole ArrayBuffers: copy the pixels into one of their own.
  const rgba = new Uint8Array(image.data);
  return Buffer.from(UPNG.encode([rgba.buffer], image.width, image.height, colours));
}
