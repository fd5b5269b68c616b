/**
 * The documented user path for AlexNet weights: scripts/alexnet-weights.py converts a
 * torchvision state dict (.pth) into the folder the TypeScript loader reads, and rejects
 * anything else with a message that says what is wrong. (That the converted network
 * computes what PyTorch computes is test/alexnet-torch-parity.test.ts.)
 * Needs .venv/bin/python with torch.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readAlexNetWeights } from "@csc411/lib/models/backbones";

const root = path.resolve(__dirname, "..");
const PYTHON = path.join(root, ".venv", "bin", "python");
const CONVERTER = path.join(root, "scripts", "alexnet-weights.py");

function torchMissing(): string | null {
  if (!fs.existsSync(PYTHON)) return `${PYTHON} does not exist (run scripts/install.sh to create the project venv)`;
  return spawnSync(PYTHON, ["-c", "import torch"]).status === 0 ? null : `${PYTHON} has no torch`;
}
const skip = torchMissing() ?? false;

// A full torchvision AlexNet state dict (features and classifier), seeded random values.
const STATE_DICT = `
import sys, torch
g = torch.Generator().manual_seed(3)
shapes = {"features.0": (64,3,11,11), "features.3": (192,64,5,5), "features.6": (384,192,3,3),
          "features.8": (256,384,3,3), "features.10": (256,256,3,3), "classifier.1": (8,9216)}  # classifier keys are ignored; small to save time
sd = {}
for k, s in shapes.items():
    sd[k + ".weight"] = torch.randn(s, generator=g)
    sd[k + ".bias"] = torch.randn(s[0], generator=g)
for k, v in dict(x.split("=") for x in sys.argv[2:]).items():
    if v == "drop": del sd[k]
    else: sd[k] = torch.zeros(tuple(int(d) for d in v.split("x")))
torch.save(sd, sys.argv[1])
print(repr(float(sd["features.8.weight"][10, 20, 1, 2])) if "features.8.weight" in sd else "")
`;

function withDir(fn: (dir: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alexnet-weights-"));
  try {
    fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function convert(source: string, out: string) {
  return spawnSync(PYTHON, [CONVERTER, source, out], { encoding: "utf8" });
}

test("a torchvision state dict converts; the loader reads every value back", { skip, timeout: 120_000 }, () =>
  withDir((dir) => {
    const source = path.join(dir, "alexnet.pth");
    const made = spawnSync(PYTHON, ["-c", STATE_DICT, source], { encoding: "utf8" });
    assert.equal(made.status, 0, made.stderr);
    const r = convert(source, path.join(dir, "out"));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split("\n").length, 11, r.stdout); // 10 arrays + manifest
    const w = readAlexNetWeights(path.join(dir, "out"));
    // [out, in, kh, kw] kept as PyTorch stores it: index ((10*384 + 20)*3 + 1)*3 + 2.
    assert.equal(w.get("features.8.weight")!.data[((10 * 384 + 20) * 3 + 1) * 3 + 2], Number(made.stdout.trim()));
    assert.equal(fs.existsSync(path.join(dir, "out", "classifier.1.weight.npy")), false);
  }),
);

// Each bad input: extra arguments for the state-dict script (or raw bytes), and the message.
const BAD: { name: string; file: string; args?: string[]; bytes?: string; message: RegExp }[] = [
  {
    name: "not a state dict",
    file: "junk.pth",
    bytes: "<html>404</html>",
    message: /junk\.pth: not a PyTorch state dict/,
  },
  {
    name: "a key missing",
    file: "alexnet.pth",
    args: ["features.8.weight=drop"],
    message: /no 'features\.8\.weight' .*is this torchvision's AlexNet\?/,
  },
  {
    name: "a wrong shape",
    file: "alexnet.pth",
    args: ["features.3.weight=96x48x5x5"],
    message: /features\.3\.weight has shape \(96, 48, 5, 5\), expected \(192, 64, 5, 5\)/,
  },
  {
    name: "a hash that contradicts the file name",
    file: "alexnet-owt-7be5be79.pth",
    message: /SHA-256 starts [0-9a-f]{8}, the file name says 7be5be79: incomplete download\?/,
  },
];

for (const bad of BAD) {
  test(`the converter rejects ${bad.name}`, { skip, timeout: 60_000 }, () =>
    withDir((dir) => {
      const source = path.join(dir, bad.file);
      if (bad.bytes !== undefined) fs.writeFileSync(source, bad.bytes);
      else assert.equal(spawnSync(PYTHON, ["-c", STATE_DICT, source, ...(bad.args ?? [])]).status, 0);
      const r = convert(source, path.join(dir, "out"));
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, bad.message);
      assert.equal(fs.existsSync(path.join(dir, "out", "manifest.json")), false, "no manifest for a failed conversion");
    }),
  );
}
