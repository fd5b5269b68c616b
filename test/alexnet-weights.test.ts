/**
 * The documented user path for AlexNet weights, end to end: a bvlc_alexnet.npy-style
 * pickle (dict of [W, b] per layer, full BVLC shapes, random values written by numpy),
 * converted by scripts/alexnet-weights.py, then read by the TypeScript loader.
 * Needs /usr/bin/python3 with numpy (Debian python3-numpy).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readAlexNetWeights } from "@csc411/lib/models/backbones";

const root = path.resolve(__dirname, "..");
const PYTHON = "/usr/bin/python3";

const MAKE_SOURCE = `
import sys, numpy as np
rng = np.random.default_rng(7)
shapes = {"conv1": (11,11,3,96), "conv2": (5,5,48,256), "conv3": (3,3,256,384), "conv4": (3,3,192,384),
          "conv5": (3,3,192,256), "fc6": (9216,4096), "fc7": (4096,4096), "fc8": (4096,1000)}
# float32 like the real file; the converter must keep values exactly.
net = {k: [rng.standard_normal(s, dtype=np.float32), rng.standard_normal(s[-1:], dtype=np.float32)] for k, s in shapes.items()}
np.save(sys.argv[1], net, allow_pickle=True)
for k in ("conv4", "fc8"):
    print(k, repr(float(net[k][0].flat[12345])), repr(float(net[k][1][-1])))
`;

test(
  "bvlc_alexnet.npy -> scripts/alexnet-weights.py -> readAlexNetWeights keeps every value",
  { timeout: 120_000 },
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alexnet-weights-"));
    try {
      const source = path.join(dir, "bvlc_alexnet.npy");
      const made = spawnSync(PYTHON, ["-c", MAKE_SOURCE, source], { encoding: "utf8" });
      assert.equal(made.status, 0, made.stderr);
      const conv = spawnSync(
        PYTHON,
        [path.join(root, "scripts", "alexnet-weights.py"), source, path.join(dir, "out")],
        { encoding: "utf8" },
      );
      assert.equal(conv.status, 0, conv.stderr);
      assert.equal(conv.stdout.trim().split("\n").length, 16);
      const w = readAlexNetWeights(path.join(dir, "out"));
      for (const line of made.stdout.trim().split("\n")) {
        const [layer, wValue, bValue] = line.split(" ");
        assert.equal(w.get(`${layer}_W`)!.data[12345], Number(wValue), `${layer}_W[12345]`);
        const b = w.get(`${layer}_b`)!.data;
        assert.equal(b[b.length - 1], Number(bValue), `${layer}_b[-1]`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("the converter rejects a file that is not bvlc_alexnet.npy", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alexnet-weights-"));
  try {
    const source = path.join(dir, "other.npy");
    spawnSync(PYTHON, [
      "-c",
      `import numpy as np; np.save("${source}", {"conv1": [np.zeros((3,3,3,8), np.float32), np.zeros(8, np.float32)]}, allow_pickle=True)`,
    ]);
    const conv = spawnSync(PYTHON, [path.join(root, "scripts", "alexnet-weights.py"), source, path.join(dir, "out")], {
      encoding: "utf8",
    });
    assert.notEqual(conv.status, 0);
    assert.match(conv.stderr, /conv1 W has shape \(3, 3, 3, 8\), expected \(11, 11, 3, 96\)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
