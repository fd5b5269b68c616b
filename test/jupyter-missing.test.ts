/** `npm run jupyter` on a machine without Jupyter says what to install instead of a shell error. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const root = path.resolve(__dirname, "..");

test("without jupyter on PATH the launcher names the packages to install", () => {
  // A PATH holding only the few tools the launcher needs, none of them Jupyter.
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "nojupyter-"));
  for (const tool of ["bash", "dirname", "id"]) {
    const found = spawnSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
    fs.symlinkSync(found, path.join(bin, tool));
  }
  const r = spawnSync(path.join(bin, "bash"), [path.join(root, "jupyter", "start.sh"), "notebook"], {
    encoding: "utf8",
    env: { PATH: bin, HOME: os.tmpdir() },
  });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /jupyter is not installed: run bash scripts\/install\.sh, or sudo apt-get install jupyter-notebook jupyter-nbconvert python3-nbclient/,
  );
  fs.rmSync(bin, { recursive: true, force: true });
});
