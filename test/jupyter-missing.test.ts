/**
 * `npm run lab` / `npm run jupyter` in a checkout without the project's Python environment
 * (scripts/install.sh not run yet) say what is missing and what to run, instead of a shell error.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const root = path.resolve(__dirname, "..");

for (const [app, name, script] of [
  ["lab", "JupyterLab", "lab"],
  ["notebook", "Jupyter Notebook 7", "jupyter"],
] as const) {
  test(`without .venv, jupyter/start.sh ${app} names the missing piece and scripts/install.sh`, () => {
    // A copy of the launcher in a checkout of its own that has no .venv.
    const checkout = fs.mkdtempSync(path.join(os.tmpdir(), "novenv-"));
    fs.mkdirSync(path.join(checkout, "jupyter"));
    fs.copyFileSync(path.join(root, "jupyter", "start.sh"), path.join(checkout, "jupyter", "start.sh"));
    const r = spawnSync("bash", [path.join(checkout, "jupyter", "start.sh"), app], {
      encoding: "utf8",
      env: { PATH: process.env.PATH, HOME: os.tmpdir() },
    });
    fs.rmSync(checkout, { recursive: true, force: true });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      `${name} is not installed: ${checkout}/.venv/bin/jupyter-${app} is missing. Run bash scripts/install.sh ` +
        `(it makes the project's Python environment .venv from jupyter/requirements.txt), then npm run ${script} again.\n`,
    );
  });
}

test("jupyter/start.sh with an unknown front end prints its usage", () => {
  const r = spawnSync("bash", [path.join(root, "jupyter", "start.sh"), "classic"], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.equal(r.stderr, "usage: jupyter/start.sh lab|notebook [jupyter args...]\n");
});
