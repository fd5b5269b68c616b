import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { cachedWeights, readCachedWeights, weightsCacheFile } from "./weights-cache";
import { displayPath } from "../../runtime/paths";

const useTempDataDir = () => (process.env.DATA_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "weights-cache-")));

test("weights are computed once, then read back; a different key recomputes", async () => {
  useTempDataDir();
  let calls = 0;
  const compute = () => {
    calls++;
    return { W: new Float32Array([1.5, -2, 3e-8]), b: new Float32Array([0.25]), info: { accuracy: 0.9 } };
  };
  const a = await cachedWeights("part5", { seed: 1 }, compute);
  const b = await cachedWeights("part5", { seed: 1 }, compute);
  assert.equal(calls, 1);
  assert.equal(a.fromCache, false);
  assert.equal(b.fromCache, true);
  assert.deepEqual(b.W, new Float32Array([1.5, -2, 3e-8]));
  assert.deepEqual(b.b, new Float32Array([0.25]));
  assert.deepEqual(b.info, { accuracy: 0.9 });
  await cachedWeights("part5", { seed: 2 }, compute);
  assert.equal(calls, 2);
  assert.throws(() => weightsCacheFile("../x"), /must be letters, digits/);
  fs.rmSync(process.env.DATA_DIR!, { recursive: true, force: true });
});

test("a damaged, NaN or wrong-shape cache file is recomputed with a line naming the file and why", async () => {
  useTempDataDir();
  const key = { seed: 3 };
  const shape = { W: 3, b: 1 };
  const good = () => ({ W: new Float32Array([1, 2, 3]), b: new Float32Array([4]), info: {} });
  await cachedWeights("w", key, good, shape);
  const file = weightsCacheFile("w");
  const intact = JSON.parse(fs.readFileSync(file, "utf8"));
  const b64 = (a: number[]) => Buffer.from(new Float32Array(a).buffer).toString("base64");
  const cases: [string, string, string][] = [
    ["truncated", fs.readFileSync(file, "utf8").slice(0, 30), "unreadable weights cache ("],
    [
      "garbage W of the right length",
      JSON.stringify({ ...intact, W: b64([9, 9, 9]) }),
      "checksum does not match W and b",
    ],
    [
      "no checksum (older file)",
      JSON.stringify({ ...intact, sha256: undefined }),
      "written before weights files carried a checksum",
    ],
    ["W of 2 values", JSON.stringify({ ...intact, W: b64([1, 2]) }), "checksum does not match W and b"],
  ];
  for (const [what, text, why] of cases) {
    fs.writeFileSync(file, text);
    const lines: string[] = [];
    assert.equal(
      readCachedWeights("w", key, shape, (l) => lines.push(l)),
      null,
      what,
    );
    assert.equal(lines.length, 1, what);
    assert.ok(
      lines[0].startsWith(`${displayPath(file)}: ${why}`) && lines[0].endsWith("; recomputing"),
      `${what}: ${lines[0]}`,
    );
    const again = await cachedWeights("w", key, good, shape);
    assert.equal(again.fromCache, false, what);
    assert.deepEqual(
      readCachedWeights("w", key, shape, () => assert.fail("rewritten file not trusted")),
      {
        ...good(),
        info: {},
      },
    );
  }
  // A consistent file (its checksum matches) that holds NaN or another shape: caught by the value checks.
  const wrong = () => ({ W: new Float32Array([1, 2, 3, 4]), b: new Float32Array([0]), info: {} });
  await cachedWeights("w2", key, wrong);
  const lines: string[] = [];
  assert.equal(
    readCachedWeights("w2", key, shape, (l) => lines.push(l)),
    null,
  );
  assert.match(lines[0], /w2\.json: W has 4 values and b 1, expected 3 and 1; recomputing$/);
  fs.rmSync(process.env.DATA_DIR!, { recursive: true, force: true });
});

test("non-finite computed weights are never written", async () => {
  useTempDataDir();
  const nan = () => ({ W: new Float32Array([1, NaN, 3]), b: new Float32Array([0]), info: {} });
  await assert.rejects(
    cachedWeights("nan", { seed: 1 }, nan),
    /nan\.json: not written, the computed weights are unusable: W\[1\] is NaN/,
  );
  assert.equal(fs.existsSync(weightsCacheFile("nan")), false);
  fs.rmSync(process.env.DATA_DIR!, { recursive: true, force: true });
});
