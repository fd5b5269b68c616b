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
import * as path from "path";

const root = path.resolve(__dirname, "..");
const notebooksDir = path.join(root, "notebooks");
const runner = path.join(root, "tools", "dist", "run-notebooks.js");
const notebooks = fs
  .readdirSync(notebooksDir)
  .filter((f) => /^\d\d-.*\.ipynb$/.test(f) && !f.includes(".failed."))
  .sort();
const hash = (f: string) => crypto.createHash("sha256").update(fs.readFileSync(f)).digest("hex");

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
  });
}

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
