import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Notebook, notebookText, pythonJson, readNotebook, toLines, writeNotebook } from "./ipynb";

const root = path.resolve(__dirname, "..");
const python = path.join(root, ".venv", "bin", "python");

/** What nbformat itself writes after reading `file`: the bytes JupyterLab's save produces. */
function throughNbformat(file: string): string {
  const out = `${file}.nbformat.ipynb`;
  execFileSync(
    python,
    [
      "-c",
      "import nbformat,sys; nb=nbformat.read(sys.argv[1], as_version=4); nbformat.write(nb, sys.argv[2])",
      file,
      out,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  return fs.readFileSync(out, "utf8");
}

test("toLines splits as Python's splitlines(True)", () => {
  const cases: [string, string[]][] = [
    ["", []],
    ["a", ["a"]],
    ["a\n", ["a\n"]],
    ["a\nb", ["a\n", "b"]],
    ["a\r\nb\rc", ["a\r\n", "b\r", "c"]],
    ["x\x0cy\x0bz\u2028w\x85v", ["x\x0c", "y\x0b", "z\u2028", "w\x85", "v"]],
    ["\n\n", ["\n", "\n"]],
  ];
  for (const [text, lines] of cases) assert.deepEqual(toLines(text), lines, JSON.stringify(text));
});

test("pythonJson writes numbers and strings as json.dumps does", () => {
  const cases: [unknown, string][] = [
    [1, "1"],
    [-0, "0"],
    [0.5, "0.5"],
    [1e-4, "0.0001"],
    [1e-5, "1e-05"],
    [-1.25e-7, "-1.25e-07"],
    [5e-324, "5e-324"],
    [1e21, "1e+21"],
    [123456789012, "123456789012"],
    ['é\u0001\t"\\', '"é\\u0001\\t\\"\\\\"'],
    [[], "[]"],
    [{}, "{}"],
    [{ b: 1, a: [true, null] }, '{\n "a": [\n  true,\n  null\n ],\n "b": 1\n}'],
  ];
  for (const [value, text] of cases) assert.equal(pythonJson(value), text, String(value));
});

test("writeNotebook writes exactly what nbformat writes", { skip: !fs.existsSync(python) && "no .venv" }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipynb-"));
  const nb: Notebook = {
    nbformat: 4,
    nbformat_minor: 4,
    metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" }, orig_nbformat: 4 },
    cells: [
      { cell_type: "markdown", metadata: {}, source: "# Title\n\nMath $e^{-x}$, naïve “quotes” ✓ 🙂" },
      {
        cell_type: "code",
        metadata: { tags: ["parameters"], trusted: true },
        execution_count: 3,
        source: ["const a = 1;\r\n", "const b = 2;"],
        outputs: [
          { output_type: "stream", name: "stdout", text: "progress 10%\rprogress 100%\nend\n" },
          {
            output_type: "display_data",
            metadata: { "image/png": { width: 900, height: 380 } },
            data: {
              "text/plain": ["line 1\n", "line 2"],
              "text/html": "<b>x</b>\n<i>y</i>",
              "image/png": "iVBORw0KGgo=",
              "application/vnd.plotly.v1+json": {
                layout: { width: 900, title: { text: "t" } },
                data: [
                  {
                    z: [
                      [0.1, 1e-7, 2.5e-5],
                      [3, 1e21, -0.000123],
                    ],
                    type: "heatmap",
                    x: [1, 2, 3],
                  },
                ],
              },
            },
          },
        ],
      },
      { cell_type: "code", metadata: {}, execution_count: null, source: "", outputs: [] },
    ],
  };
  const file = path.join(dir, "nb.ipynb");
  writeNotebook(file, nb);
  const written = fs.readFileSync(file, "utf8");
  assert.equal(throughNbformat(file), written);
  assert.match(written, /"id": "cell-0"/);
  assert.doesNotMatch(written, /orig_nbformat|trusted/);
  assert.doesNotMatch(written, / \n/, "no trailing spaces");

  // A committed notebook, read and written back by the runner's own functions, too.
  const real = path.join(dir, "real.ipynb");
  writeNotebook(real, readNotebook(path.join(root, "notebooks", "02-softmax-network.ipynb")));
  assert.equal(throughNbformat(real), fs.readFileSync(real, "utf8"));
  assert.equal(notebookText(readNotebook(real)), fs.readFileSync(real, "utf8"), "writing is idempotent");
});
