/**
 * Notebook parameters, papermill's way: each notebook has one code cell tagged
 * "parameters" holding its settings with their defaults; a run that overrides some of
 * them gets a new cell tagged "injected-parameters" right after it, which re-declares
 * those names with the given values. Without overrides nothing is injected, so a full
 * run leaves the committed notebooks' cells as they are.
 */
import { Cell, cellSource, Notebook, toLines } from "./ipynb";

export const PARAMETERS_TAG = "parameters";
export const INJECTED_TAG = "injected-parameters";

export type ParameterValue = string | number | boolean | null;

const tags = (cell: Cell): unknown[] => (Array.isArray(cell.metadata?.tags) ? (cell.metadata.tags as unknown[]) : []);

/** The names the parameters cell declares (`const name = ...`, `let`, `var`). */
export function declaredParameters(cell: Cell): string[] {
  return [...cellSource(cell).matchAll(/^\s*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]);
}

/**
 * `name=value` from the command line: the value as JSON if it parses as a string, number,
 * boolean or null (`seed=7`, `profileName="quick"`), else the text itself (`profileName=quick`).
 */
export function parseParameter(arg: string): [string, ParameterValue] {
  const eq = arg.indexOf("=");
  const name = arg.slice(0, eq);
  if (eq <= 0 || !/^[A-Za-z_$][\w$]*$/.test(name)) {
    throw new Error(`parameter ${JSON.stringify(arg)}: expected name=value with a TypeScript identifier as the name`);
  }
  const text = arg.slice(eq + 1);
  try {
    const v: unknown = JSON.parse(text);
    if (v === null || ["string", "number", "boolean"].includes(typeof v)) return [name, v as ParameterValue];
  } catch {
    // not JSON: the text is the value
  }
  return [name, text];
}

/**
 * A copy of `nb` with the overrides injected after its parameters cell (any injected cell
 * from an earlier run removed first). Errors name the notebook: no parameters cell, more than
 * one, or an override the parameters cell does not declare.
 */
export function injectParameters(nb: Notebook, params: Record<string, ParameterValue>, name: string): Notebook {
  const cells = nb.cells.filter((c) => !tags(c).includes(INJECTED_TAG));
  const at = cells.flatMap((c, i) => (c.cell_type === "code" && tags(c).includes(PARAMETERS_TAG) ? [i] : []));
  const names = Object.keys(params);
  if (names.length === 0) return { ...nb, cells };
  if (at.length !== 1) {
    throw new Error(
      `${name}: ${at.length === 0 ? "no code cell" : `${at.length} code cells`} tagged "${PARAMETERS_TAG}"; ` +
        `parameters (${names.join(", ")}) need exactly one`,
    );
  }
  const declared = declaredParameters(cells[at[0]]);
  const unknown = names.filter((n) => !declared.includes(n));
  if (unknown.length > 0) {
    throw new Error(
      `${name}: the parameters cell declares ${declared.join(", ") || "nothing"}, not ${unknown.join(", ")}`,
    );
  }
  const source = [
    "// Injected by the notebook runner: these values override the parameters cell above.",
    ...names.map((n) => `const ${n} = ${JSON.stringify(params[n])};`),
  ].join("\n");
  const injected: Cell = {
    cell_type: "code",
    id: INJECTED_TAG,
    metadata: { tags: [INJECTED_TAG] },
    source: toLines(source),
    outputs: [],
    execution_count: null,
  };
  return { ...nb, cells: [...cells.slice(0, at[0] + 1), injected, ...cells.slice(at[0] + 1)] };
}
