import { test } from "node:test";
import assert from "node:assert/strict";
import { Cell, cellSource, Notebook } from "./ipynb";
import { declaredParameters, injectParameters, parseParameter } from "./parameters";

const code = (source: string, tags?: string[]): Cell => ({
  cell_type: "code",
  metadata: tags ? { tags } : {},
  source,
  outputs: [],
  execution_count: null,
});

const nb = (...cells: Cell[]): Notebook => ({ cells, metadata: {}, nbformat: 4, nbformat_minor: 5 });

const params = code('const profileName = process.env.REPORT_PROFILE ?? "full";\nconst SEED = 411; // seed\n', [
  "parameters",
]);

test("parseParameter table", () => {
  const cases: [string, [string, unknown]][] = [
    ["profileName=quick", ["profileName", "quick"]],
    ['profileName="quick"', ["profileName", "quick"]],
    ["SEED=7", ["SEED", 7]],
    ["fresh=true", ["fresh", true]],
    ["rate=1e-3", ["rate", 0.001]],
    ["list=[1,2]", ["list", "[1,2]"]],
    ["empty=", ["empty", ""]],
  ];
  for (const [arg, expected] of cases) assert.deepEqual(parseParameter(arg), expected);
  assert.throws(() => parseParameter("=3"), /expected name=value/);
  assert.throws(() => parseParameter("two words=3"), /expected name=value/);
});

test("declaredParameters reads const, let and var", () => {
  assert.deepEqual(declaredParameters(params), ["profileName", "SEED"]);
  assert.deepEqual(declaredParameters(code("let a = 1;\n  var b = 2; const c = 3;\n// const d = 4")), ["a", "b"]);
});

test("overrides go into a tagged cell right after the parameters cell", () => {
  const input = nb(code("// title"), params, code("use(profileName);"));
  const out = injectParameters(input, { profileName: "quick", SEED: 7 }, "08.ipynb");
  assert.equal(out.cells.length, 4);
  assert.deepEqual(out.cells[2].metadata, { tags: ["injected-parameters"] });
  assert.equal(
    cellSource(out.cells[2]),
    '// Injected by the notebook runner: these values override the parameters cell above.\nconst profileName = "quick";\nconst SEED = 7;',
  );
  assert.equal(cellSource(out.cells[3]), "use(profileName);");
  // Injecting again replaces the earlier injected cell; no overrides removes it.
  assert.equal(injectParameters(out, { SEED: 8 }, "08.ipynb").cells.length, 4);
  assert.deepEqual(injectParameters(out, {}, "08.ipynb").cells, input.cells);
});

test("errors name the notebook and what is wrong", () => {
  assert.throws(
    () => injectParameters(nb(code("x")), { SEED: 1 }, "01.ipynb"),
    /01.ipynb: no code cell tagged "parameters"; parameters \(SEED\) need exactly one/,
  );
  assert.throws(
    () => injectParameters(nb(params, params), { SEED: 1 }, "01.ipynb"),
    /01.ipynb: 2 code cells tagged "parameters"/,
  );
  assert.throws(
    () => injectParameters(nb(params), { seed: 1 }, "01.ipynb"),
    /01.ipynb: the parameters cell declares profileName, SEED, not seed/,
  );
  assert.deepEqual(injectParameters(nb(code("x")), {}, "01.ipynb").cells.length, 1, "no overrides: no cell needed");
});
