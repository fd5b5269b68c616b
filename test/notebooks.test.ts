/**
 * Every notebook executed headless in the quick profile, each in its own process, plus one
 * notebook through Jupyter's own `jupyter nbconvert --execute` (the project's .venv) with the tslab kernel.
 * Quick outputs go to build/quick/ and must leave the committed notebooks untouched.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const root = path.resolve(__dirname, "..");
const notebooksDir = path.join(root, "notebooks");
const runner = path.join(root, "tools", "dist", "run-notebooks.js");
const notebooks = fs
  .readdirSync(notebooksDir)
  .filter((f) => /^\d\d-.*\.ipynb$/.test(f) && !f.includes(".failed."))
  .sort();
const hash = (f: string) => crypto.createHash("sha256").update(fs.readFileSync(f)).digest("hex");

/** Absolute paths of this machine that must not reach a notebook (output is to name paths relative to the project). */
const machinePaths = [
  root,
  path.join(os.homedir(), "/"),
  path.join(os.tmpdir(), "/"),
  "/work/",
  "/tmp/",
  "/root/",
  "/home/",
];

/** The bytes nbformat writes for `file` (what JupyterLab's save writes), via the project's .venv. */
function nbformatBytes(file: string): string {
  const out = `${file}.nbformat`;
  const r = spawnSync(
    path.join(root, ".venv", "bin", "python"),
    [
      "-c",
      "import nbformat,sys; nb=nbformat.read(sys.argv[1], as_version=4); nbformat.write(nb, sys.argv[2])",
      file,
      out,
    ],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, `nbformat could not re-save ${file}: ${r.error?.message ?? r.stderr}`);
  const text = fs.readFileSync(out, "utf8");
  fs.rmSync(out);
  return text;
}

/**
 * Numbers each quick run must reproduce exactly (everything random is seeded), read from the
 * notebook's own outputs: the test checks what a notebook computes, not only that it ran.
 */
const PINS: Record<string, { what: string; pattern: RegExp; expected: string[] }[]> = {
  "04-gradient-descent.ipynb": [
    {
      what: "Part 4: final training and test accuracy",
      pattern: /([\d.]+)% of the training images and\s+([\d.]+)% of the test images/,
      expected: ["81.14", "82.49"],
    },
  ],
  "05-momentum.ipynb": [
    {
      what: "Part 5: final training and test accuracy with momentum 0.9",
      pattern: /reaches ([\d.]+)% on the training set and\s+([\d.]+)% on the test set/,
      expected: ["88.83", "89.47"],
    },
  ],
  "08-faces-network.ipynb": [
    {
      what: "Part 8: the configuration chosen on validation",
      pattern: /chosen: (\S+)/,
      expected: ["s32-h20-e30-b50-leaky_relu-lr0.001"],
    },
    {
      what: "Part 8: the chosen network's one look at the test set",
      pattern: /test accuracy of the chosen network: ([\d.]+) \((\d+)\/116\)/,
      expected: ["0.6121", "71"],
    },
  ],
  "09-hidden-units.ipynb": [
    {
      what: "Part 9: the six units shown, in ranking order (no ties at the top)",
      pattern: /input weights of units ([\d, ]+) of the chosen network/,
      expected: ["11, 10, 2, 6, 13, 3"],
    },
  ],
  "10-transfer-learning.ipynb": [
    {
      what: "Part 10: the generic backbone chosen on validation, and its validation accuracy",
      pattern: /Chosen: \*\*(.+?)\*\*, validation accuracy ([\d.]+)%/,
      // 85.42% (41/48) since nsfwjs's models run with BatchNorm folded (lib/models/backbones/fold.ts):
      // the features move by float32 rounding (about 1e-6 of their size) and one validation face
      // of this candidate flips; the same run unfolded (NSFWJS_BATCH_NORM=keras) gives 87.50%.
      expected: ["mobilenet_v2 block_9_add flattened, + mirrored crops", "85.42"],
    },
    {
      what: "Part 10: the chosen backbone's one look at the test set",
      pattern: /test accuracy ([\d.]+)% on (\d+) faces \(report, AlexNet conv4: 95\.69%\)/,
      expected: ["79.17", "48"],
    },
  ],
};

/** All text a notebook shows: streams, text/plain and text/markdown outputs. */
function outputText(file: string): string {
  return outputsOf(file)
    .map((o: any) => [o.text, o.data?.["text/plain"], o.data?.["text/markdown"]].flat().filter(Boolean).join(""))
    .join("\n");
}

function outputsOf(file: string) {
  const nb = JSON.parse(fs.readFileSync(file, "utf8"));
  return nb.cells.filter((c: any) => c.cell_type === "code").flatMap((c: any) => c.outputs);
}

test("there are notebooks to run", () => {
  assert.ok(notebooks.length >= 1, `no notebooks in ${notebooksDir}`);
});

for (const name of notebooks) {
  test(`notebook ${name} runs in the quick profile`, { timeout: 20 * 60_000 }, () => {
    const committed = path.join(notebooksDir, name);
    const before = hash(committed);
    const r = spawnSync(process.execPath, [runner, "--profile", "quick", name], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "inherit", "pipe"],
    });
    process.stderr.write(r.stderr);
    assert.equal(r.status, 0, `${name} failed in the quick profile:\n${r.stderr.slice(-4000)}`);
    const out = path.join(root, "build", "quick", "notebooks", name);
    const outputs = outputsOf(out);
    assert.ok(outputs.length > 0, `${name}: no outputs`);
    assert.ok(
      outputs[0].text?.join("").includes("profile: quick"),
      `${name}: first output should name the quick profile`,
    );
    assert.equal(hash(committed), before, `${name}: the quick run changed the committed notebook`);
    const text = fs.readFileSync(out, "utf8");
    for (const p of machinePaths) assert.ok(!text.includes(p), `${name}: the output holds the machine path ${p}`);
    assert.equal(nbformatBytes(out), text, `${name}: nbformat would re-save the notebook differently`);
    const injected = JSON.parse(text).cells.filter((c: any) => c.metadata.tags?.includes("injected-parameters"));
    assert.equal(injected.length, 1, `${name}: one injected parameters cell (profileName = "quick")`);
    const shown = outputText(out);
    for (const pin of PINS[name] ?? []) {
      const m = pin.pattern.exec(shown);
      assert.ok(m, `${name}: no output matches ${pin.pattern} (${pin.what})`);
      assert.deepEqual(m.slice(1), pin.expected, `${name}: ${pin.what}`);
    }
  });
}

test("the quick notebooks together are under 2 MB", () => {
  const sizes = notebooks.map((n) => fs.statSync(path.join(root, "build", "quick", "notebooks", n)).size);
  const total = sizes.reduce((a, b) => a + b, 0);
  assert.ok(
    total <= 2 * 1024 * 1024,
    `${(total / 1024 / 1024).toFixed(2)} MB: ${sizes.map((s, i) => `${notebooks[i]} ${Math.round(s / 1024)} kB`).join(", ")}`,
  );
});

test("notebook 01 through jupyter nbconvert --execute with the tslab kernel", { timeout: 10 * 60_000 }, () => {
  const outDir = path.join(root, "build", "nbconvert");
  fs.mkdirSync(outDir, { recursive: true });
  const env = {
    ...process.env,
    REPORT_PROFILE: "quick",
    JUPYTER_PATH: path.join(root, ".jupyter", "share", "jupyter"),
  };
  const r = spawnSync(
    path.join(root, ".venv", "bin", "jupyter"),
    [
      "nbconvert",
      "--to",
      "notebook",
      "--execute",
      "--ExecutePreprocessor.kernel_name=tslab",
      "--ExecutePreprocessor.timeout=600",
      // The kernel's start (node and the TypeScript compiler) takes seconds alone, but more than
      // nbconvert's default 60 s beside the JupyterLab test and a notebook filling cold caches
      // (npm test runs two files at a time): seen once on a clean clone.
      "--ExecutePreprocessor.startup_timeout=300",
      "--output-dir",
      outDir,
      path.join(notebooksDir, "01-mnist.ipynb"),
    ],
    { cwd: notebooksDir, encoding: "utf8", env },
  );
  assert.equal(
    r.error,
    undefined,
    `the project's jupyter could not be started (${r.error?.message}); make .venv with bash scripts/install.sh`,
  );
  assert.equal(r.status, 0, r.stderr.slice(-4000));
  const outputs = outputsOf(path.join(outDir, "01-mnist.ipynb"));
  const text = outputs.flatMap((o: any) => o.text ?? []).join("");
  assert.match(text, /profile: quick \| TensorFlow\.js backend: \w+/);
  assert.ok(
    outputs.some(
      (o: any) =>
        o.output_type === "display_data" &&
        typeof o.data["image/png"] === "string" &&
        o.data["image/png"].length > 1000,
    ),
    "Figure 1 carries a PNG",
  );
});
