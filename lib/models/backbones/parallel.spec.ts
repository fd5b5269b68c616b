import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend } from "../../runtime/backend";
import { RgbImage } from "./backbone";
import { MobileNetV2 } from "./mobilenet";
import { ParallelBackbone } from "./parallel";

function gradient(size: number, phase: number): RgbImage {
  const data = new Float32Array(size * size * 3);
  for (let i = 0; i < size * size; i++)
    for (let c = 0; c < 3; c++) data[i * 3 + c] = (Math.sin(i * 0.01 + c + phase) + 1) / 2;
  return { width: size, height: size, data };
}

before(async () => {
  await initBackend();
});

test(
  "two worker threads give the single-thread network's features, in the batch's order",
  { timeout: 180_000 },
  async () => {
    const images = [0, 1, 2].map((p) => gradient(227, p));
    const layers = ["block_5_add", "block_12_add"];
    const local = await MobileNetV2.load();
    const parallel = await ParallelBackbone.start({ kind: "mobilenet_v2" }, 2);
    try {
      assert.equal(parallel.name, local.name);
      assert.equal(parallel.computation, local.computation, "the workers' computation (cache key) is the parent's");
      assert.ok(parallel.computation, "nsfwjs backbones run folded by default");
      assert.deepEqual(parallel.layers, local.layers);
      const got = await parallel.activationsAt(images, layers);
      for (const layer of layers) {
        const expected = await local.activations(images, layer);
        got.get(layer)!.forEach((f, i) => {
          const worst = f.reduce((m, v, k) => Math.max(m, Math.abs(v - expected[i][k])), 0);
          assert.ok(worst < 1e-4, `${layer} image ${i}: differs by ${worst}`);
        });
      }
      assert.deepEqual(await parallel.activations([], "block_5_add"), []);
      await assert.rejects(parallel.activations(images, "conv9"), /no tap layer "conv9"/);
    } finally {
      parallel.dispose();
      local.dispose();
    }
  },
);

test("idle workers do not keep the process alive", { timeout: 120_000 }, async () => {
  // A child process that starts the workers, uses them once and never disposes them must still exit.
  const { spawnSync } = await import("child_process");
  const script = `
    const { ParallelBackbone } = require(${JSON.stringify(require.resolve("./parallel"))});
    ParallelBackbone.start({ kind: "mobilenet_v2" }, 2)
      .then((p) => p.activations([{ width: 4, height: 4, data: new Float32Array(48) }], "block_2_add"))
      .then((f) => console.log("features", f[0].length));`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "-e", script], { encoding: "utf8", timeout: 100_000 });
  assert.equal(r.signal, null, "the child had to be killed: the workers kept it alive");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /features 75264/);
});

test("a recipe that cannot load fails with the worker's reason", { timeout: 60_000 }, async () => {
  await assert.rejects(
    ParallelBackbone.start({ kind: "alexnet", dir: "/nonexistent/alexnet-weights" }, 1),
    /loading alexnet in a worker thread failed: .*\/nonexistent\/alexnet-weights does not exist/,
  );
});
