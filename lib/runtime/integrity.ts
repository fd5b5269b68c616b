/**
 * What a cache needs to prove what it holds: a checksum recorded beside the data when it is
 * written and compared when it is read, and a check that numbers are finite (a NaN at the
 * right length is still garbage). Used by the face crops, the activation cache and the
 * weights files.
 */
import * as crypto from "crypto";

/** Lower-case hex SHA-256 of the parts, in order. */
export function sha256Hex(...parts: (Uint8Array | string)[]): string {
  const h = crypto.createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
}

/** The bytes of a typed array (a view, not a copy). */
export function bytesOf(a: Float32Array | Float64Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Index of the first NaN or infinity, or -1 when every value is finite. */
export function firstNonFinite(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

/** "" when all finite, else e.g. "W[12] is NaN": for messages that name the bad value. */
export function nonFiniteProblem(name: string, a: ArrayLike<number>): string {
  const i = firstNonFinite(a);
  return i < 0 ? "" : `${name}[${i}] is ${a[i]}`;
}
