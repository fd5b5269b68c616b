import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { cachedWeights, weightsCacheFile } from "./weights-cache";

test("weights are computed once, then read back; a different key recomputes", async () => {
  process.env.DATA_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "weights-cache-"));
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
  fs.writeFileSync(weightsCacheFile("part5"), "{ truncated");
  const c = await cachedWeights("part5", { seed: 2 }, compute);
  assert.equal(calls, 3);
  assert.equal(c.fromCache, false);
  assert.throws(() => weightsCacheFile("../x"), /must be letters, digits/);
  fs.rmSync(process.env.DATA_DIR, { recursive: true, force: true });
});
