/**
 * The project's AlexNet equals PyTorch's, end to end: a Python script builds torchvision's
 * AlexNet `features` as an nn.Sequential (torchvision itself is not needed), with seeded
 * random weights, saves its state dict and a few seeded random 227x227 images, and writes
 * PyTorch's activations for three taps. Then the project's converter
 * (scripts/alexnet-weights.py) turns the .pth into the weights folder, the TypeScript
 * loader reads it, and the activations must agree to float32 rounding: largest absolute
 * difference at most 1e-4 of the largest absolute activation.
 * Needs .venv/bin/python with torch (scripts/install.sh installs it from jupyter/requirements.txt).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AlexNet, RgbImage, readNpy } from "@csc411/lib/models/backbones";

const root = path.resolve(__dirname, "..");
const PYTHON = path.join(root, ".venv", "bin", "python");
const TAPS: Record<string, number> = { pool1: 3, conv4: 9, pool5: 13 };

// torchvision 0.2's alexnet().features, layer for layer.
const REFERENCE = `
import sys, os, numpy as np, torch
from torch import nn
out = sys.argv[1]
torch.manual_seed(411)
class AlexNetFeatures(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2))
net = AlexNetFeatures().eval()
torch.save(net.state_dict(), os.path.join(out, "alexnet-seeded.pth"))
images = torch.rand(3, 227, 227, 3, generator=torch.Generator().manual_seed(7))  # HWC in [0,1], as the backbone takes them
np.save(os.path.join(out, "images.npy"), images.numpy().astype("<f4"))
mean = torch.tensor([0.485, 0.456, 0.406]); std = torch.tensor([0.229, 0.224, 0.225])
x = ((images - mean) / std).permute(0, 3, 1, 2).contiguous()
with torch.no_grad():
    for name, end in ${JSON.stringify(TAPS).replace(/"(\w+)"/g, "'$1'")}.items():
        y = net.features[:end](x).permute(0, 2, 3, 1).contiguous()  # NHWC, the backbone's order
        np.save(os.path.join(out, f"{name}.npy"), y.numpy().astype("<f4"))
        print(name, tuple(y.shape))
`;

function torchMissing(): string | null {
  if (!fs.existsSync(PYTHON)) return `${PYTHON} does not exist (run scripts/install.sh to create the project venv)`;
  const r = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" });
  return r.status === 0 ? null : `${PYTHON} has no torch (pip install --retries 0 torch==2.13.0 in .venv)`;
}

const skip = torchMissing();

test(
  "torchvision-layout AlexNet: converter + TypeScript loader reproduce PyTorch's activations",
  { timeout: 300_000, skip: skip ?? false },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alexnet-parity-"));
    try {
      const ref = spawnSync(PYTHON, ["-c", REFERENCE, dir], { encoding: "utf8" });
      assert.equal(ref.status, 0, ref.stderr);
      assert.match(ref.stdout, /conv4 \(3, 13, 13, 256\)/);
      const conv = spawnSync(
        PYTHON,
        [path.join(root, "scripts", "alexnet-weights.py"), path.join(dir, "alexnet-seeded.pth"), path.join(dir, "w")],
        { encoding: "utf8" },
      );
      assert.equal(conv.status, 0, conv.stderr);

      const net = await AlexNet.load(path.join(dir, "w"));
      const imgs = readNpy(path.join(dir, "images.npy"));
      const per = 227 * 227 * 3;
      const images: RgbImage[] = Array.from({ length: imgs.shape[0] }, (_, i) => ({
        width: 227,
        height: 227,
        data: imgs.data.subarray(i * per, (i + 1) * per),
      }));
      for (const tap of Object.keys(TAPS)) {
        const expected = readNpy(path.join(dir, `${tap}.npy`));
        const got = await net.activations(images, tap);
        const layer = net.layers.find((l) => l.name === tap)!;
        assert.deepEqual(expected.shape.slice(1), [...layer.shape], `${tap}: declared shape`);
        const dim = expected.data.length / images.length;
        let maxAbs = 0;
        let maxDiff = 0;
        got.forEach((g, i) => {
          assert.equal(g.length, dim, `${tap}: image ${i} length`);
          for (let k = 0; k < dim; k++) {
            const e = expected.data[i * dim + k];
            maxAbs = Math.max(maxAbs, Math.abs(e));
            maxDiff = Math.max(maxDiff, Math.abs(g[k] - e));
          }
        });
        assert.ok(maxAbs > 0, `${tap}: PyTorch's activations are all zero; the comparison would prove nothing`);
        assert.ok(
          maxDiff <= 1e-4 * maxAbs,
          `${tap}: largest difference ${maxDiff} exceeds 1e-4 x largest activation ${maxAbs}`,
        );
        console.log(
          `${tap} [${layer.shape}]: max |diff| ${maxDiff.toExponential(2)}, max |activation| ${maxAbs.toFixed(3)}`,
        );
      }
      net.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
