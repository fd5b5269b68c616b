import { test } from "node:test";
import assert from "node:assert/strict";
import { bytesOf, firstNonFinite, nonFiniteProblem, sha256Hex } from "./integrity";

test("sha256Hex of parts equals the hash of their concatenation", () => {
  assert.equal(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(sha256Hex("a", new Uint8Array([98, 99])), sha256Hex("abc"));
});

test("bytesOf views the array's own bytes", () => {
  const a = new Float32Array([1, 2, 3]).subarray(1);
  assert.deepEqual(Array.from(bytesOf(a)), Array.from(new Uint8Array(new Float32Array([2, 3]).buffer)));
});

test("firstNonFinite and nonFiniteProblem name the first bad value", () => {
  const cases: [number[], number, string][] = [
    [[], -1, ""],
    [[0, 1e38, -2], -1, ""],
    [[0, NaN, Infinity], 1, "W[1] is NaN"],
    [[0, 1, -Infinity], 2, "W[2] is -Infinity"],
  ];
  for (const [values, index, problem] of cases) {
    assert.equal(firstNonFinite(new Float32Array(values)), index);
    assert.equal(nonFiniteProblem("W", values), problem);
  }
});
