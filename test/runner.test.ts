/**
 * The headless notebook runner on small notebooks written by the test: outputs captured
 * into the cells, and a broken cell stopping the run with the real error text.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const root = path.resolve(__dirname, "..");
const executor = path.join(root, "tools", "dist", "execute-notebook.js");

function notebook(cells: string[]) {
  return {
    cells: cells.map((source, i) => ({
      cell_type: "code",
      id: `c${i}`,
      source,
      metadata: {},
      outputs: [],
      execution_count: null,
    })),
    metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

/** Notebooks must sit inside the project so that "@csc411/lib" resolves through node_modules. */
function run(cells: string[], params: string[] = [], tagged: Record<number, string[]> = {}) {
  const dir = fs.mkdtempSync(path.join(root, "build", "runner-test-"));
  const input = path.join(dir, "t.ipynb");
  const output = path.join(dir, "out.ipynb");
  const nb = notebook(cells);
  for (const [i, tags] of Object.entries(tagged)) nb.cells[Number(i)].metadata = { tags };
  fs.writeFileSync(input, JSON.stringify(nb));
  // Relative paths, as a user types them: both are taken from the caller's folder.
  const r = spawnSync(
    process.execPath,
    [executor, path.relative(root, input), path.relative(root, output), ...params],
    {
      cwd: root,
      encoding: "utf8",
    },
  );
  return { ...r, dir, output, failed: path.join(dir, "out.failed.ipynb") };
}

fs.mkdirSync(path.join(root, "build"), { recursive: true });

test("a good notebook: stdout, last expression and a rich display land in their cells", () => {
  const r = run([
    `import { displayBundle } from "@csc411/lib/runtime";\nconsole.log("hello");`,
    `displayBundle({ "text/markdown": "**bold**", "text/plain": "bold" });\n6 * 7`,
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /cell 1\/2 ok/);
  assert.match(r.stderr, /cell 2\/2 ok/);
  const nb = JSON.parse(fs.readFileSync(r.output, "utf8"));
  assert.deepEqual(nb.cells[0].outputs, [{ output_type: "stream", name: "stdout", text: ["hello\n"] }]);
  assert.deepEqual(nb.cells[1].outputs[0], {
    output_type: "display_data",
    data: { "text/markdown": ["**bold**"], "text/plain": ["bold"] },
    metadata: {},
  });
  assert.deepEqual(nb.cells[1].outputs[1], { output_type: "stream", name: "stdout", text: ["42\n"] });
  assert.deepEqual(
    nb.cells.map((c: any) => c.execution_count),
    [1, 2],
  );
  fs.rmSync(r.dir, { recursive: true, force: true });
});

test("a type error stops the run and shows the cell and the TypeScript diagnostic", () => {
  const r = run([`console.log("first");`, `const n: number = "not a number";`, `console.log("never");`]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Notebook t\.ipynb: code cell 2 failed\./);
  assert.match(r.stderr, /1 \| const n: number = "not a number";/);
  assert.match(r.stderr, /Type 'string' is not assignable to type 'number'/);
  assert.doesNotMatch(r.stderr, /cell 3\/3/);
  assert.equal(fs.existsSync(r.output), false, "the output notebook is not written on failure");
  const partial = JSON.parse(fs.readFileSync(r.failed, "utf8"));
  assert.deepEqual(partial.cells[0].outputs[0].text, ["first\n"]);
  fs.rmSync(r.dir, { recursive: true, force: true });
});

test("a runtime error shows the thrown message and stack", () => {
  const r = run([`function boom(): number { throw new Error("training diverged at iteration 7"); }\nboom();`]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /code cell 1 failed/);
  assert.match(r.stderr, /Error: training diverged at iteration 7/);
  assert.match(r.stderr, /at boom/);
  fs.rmSync(r.dir, { recursive: true, force: true });
});

test("an async rejection in a top-level await fails the cell", () => {
  const r = run([`await Promise.reject(new Error("no such file: data/x.bin"));`]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no such file: data\/x\.bin/);
  fs.rmSync(r.dir, { recursive: true, force: true });
});

test("parameters are injected after the parameters cell; a progress line keeps only its final state", () => {
  const r = run(
    [
      `const profileName = process.env.REPORT_PROFILE ?? "full";\nconst SEED = 1;`,
      `import { progressLine, startNotebook } from "@csc411/lib/runtime";\n` +
        `const p = progressLine({ intervalMs: 0 });\n` +
        `for (let i = 1; i <= 50; i++) p.update(\`step \${i} of 50\`);\n` +
        `p.done("50 steps");\nconsole.log(profileName, SEED);`,
      `p.done("50 steps, updated by a later cell");\nconst context = await startNotebook("t", { profile: profileName });`,
      `await startNotebook("t", { profile: "fast" });`,
    ],
    ['profileName="quick"', "SEED=7"],
    { 0: ["parameters"] },
  );
  assert.equal(r.status, 1, "the last cell's wrong profile fails the run");
  assert.match(
    r.stderr,
    /the parameters cell \(tagged "parameters"\) sets profileName = "fast", which is not a profile: allowed values are "full" or "quick"/,
  );
  const nb = JSON.parse(fs.readFileSync(r.failed, "utf8"));
  assert.deepEqual(nb.cells[1].metadata, { tags: ["injected-parameters"] });
  assert.deepEqual(nb.cells[2].outputs, [
    { output_type: "display_data", data: { "text/plain": ["50 steps, updated by a later cell"] }, metadata: {} },
    { output_type: "stream", name: "stdout", text: ["quick 7\n"] },
  ]);
  assert.match(nb.cells[3].outputs[0].text.join(""), /^t\nprofile: quick \|/);
  fs.rmSync(r.dir, { recursive: true, force: true });
});
