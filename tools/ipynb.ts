/** The parts of the Jupyter notebook format (nbformat 4) that the runner and exporters touch. */
import * as fs from "fs";
import { writeFileAtomic } from "@csc411/lib/runtime";

export type Output =
  | { output_type: "stream"; name: "stdout" | "stderr"; text: string[] | string }
  | { output_type: "display_data"; data: Record<string, unknown>; metadata: Record<string, unknown> }
  | {
      output_type: "execute_result";
      data: Record<string, unknown>;
      metadata: Record<string, unknown>;
      execution_count: number | null;
    }
  | { output_type: "error"; ename: string; evalue: string; traceback: string[] };

export interface Cell {
  cell_type: "code" | "markdown" | "raw";
  source: string[] | string;
  metadata: Record<string, unknown>;
  outputs?: Output[];
  execution_count?: number | null;
  id?: string;
}

export interface Notebook {
  cells: Cell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

export function cellSource(cell: Cell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/** Python's line breaks: besides \n and \r, \v, \f, the file, group and record separators, NEL, U+2028 and U+2029. */
const BREAKS = "\\n\\r\\v\\f\\x1c-\\x1e\\x85\\u2028\\u2029";
const PYTHON_LINES = new RegExp(`[^${BREAKS}]*(?:\\r\\n|[${BREAKS}])|[^${BREAKS}]+$`, "g");

/**
 * Splits text the way nbformat stores multi-line strings: Python's `str.splitlines(True)`,
 * one entry per line with its line break kept. Python breaks lines at more than "\n" (a
 * progress bar's "\r", form feeds, U+2028...), and a reader rejoins and re-splits on save,
 * so splitting any other way would change the file the first time Jupyter saves it.
 */
export function toLines(text: string): string[] {
  return text.match(PYTHON_LINES) ?? [];
}

export function readNotebook(file: string): Notebook {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e: any) {
    throw new Error(`${file}: cannot read notebook (${e?.code ?? e})`, { cause: e });
  }
  let nb: Notebook;
  try {
    nb = JSON.parse(text);
  } catch (e: any) {
    throw new Error(`${file}: not valid notebook JSON (${e.message})`, { cause: e });
  }
  if (!Array.isArray(nb.cells) || nb.nbformat !== 4) throw new Error(`${file}: not an nbformat 4 notebook`);
  return nb;
}

/** nbformat's JSON mime types (left as objects, never split into lines). */
function isJsonMime(mime: string): boolean {
  return mime === "application/json" || (mime.startsWith("application/") && mime.endsWith("+json"));
}

const SPLIT_MIMES = new Set(["application/javascript", "image/svg+xml"]);

/** A mime bundle as nbformat writes it: text/*, JavaScript and SVG split into lines, the rest as is. */
function splitBundle(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [mime, value] of Object.entries(data)) {
    let v = value;
    // nbformat's reader joins a list of lines for every non-JSON mime type, its writer splits text ones again.
    if (!isJsonMime(mime) && Array.isArray(v) && v.every((l) => typeof l === "string")) v = v.join("");
    out[mime] = typeof v === "string" && (mime.startsWith("text/") || SPLIT_MIMES.has(mime)) ? toLines(v) : v;
  }
  return out;
}

const joined = (v: unknown): string => (Array.isArray(v) ? v.join("") : String(v ?? ""));

/** A cell id for cells that lack one (nbformat 4.5): derived from its position, so reruns agree. */
function cellId(taken: Set<string>, index: number): string {
  let id = `cell-${index}`;
  for (let k = 1; taken.has(id); k++) id = `cell-${index}-${k}`;
  taken.add(id);
  return id;
}

/**
 * The notebook in the shape nbformat 4.5 writes: every cell with an id, multi-line strings
 * split as nbformat splits them (rejoining lists first, as its reader does), the transient
 * keys its writer strips removed.
 */
export function normalizeNotebook(nb: Notebook): Notebook {
  const taken = new Set(nb.cells.map((c) => c.id).filter((id): id is string => typeof id === "string" && id !== ""));
  const metadata = { ...nb.metadata };
  for (const key of ["orig_nbformat", "orig_nbformat_minor", "signature"]) delete metadata[key];
  const cells = nb.cells.map((cell, i) => {
    const c: Cell = { ...cell, id: cell.id || cellId(taken, i), source: toLines(joined(cell.source)) };
    const { trusted: _trusted, ...cellMetadata } = cell.metadata ?? {};
    c.metadata = cellMetadata;
    const attachments = (cell as { attachments?: Record<string, Record<string, unknown>> }).attachments;
    if (attachments)
      (c as { attachments?: unknown }).attachments = Object.fromEntries(
        Object.entries(attachments).map(([name, bundle]) => [name, splitBundle(bundle)]),
      );
    if (cell.cell_type === "code") {
      c.outputs = (cell.outputs ?? []).map((o): Output => {
        if (o.output_type === "stream") return { ...o, text: toLines(joined(o.text)) };
        if (o.output_type === "display_data" || o.output_type === "execute_result")
          return { ...o, data: splitBundle(o.data) };
        return o;
      });
    }
    return c;
  });
  return { ...nb, metadata, cells, nbformat: 4, nbformat_minor: Math.max(5, nb.nbformat_minor ?? 5) };
}

/**
 * Python's `repr` of the float JSON.stringify's number text reads back as: integers stay
 * digits (Python reads them as int), fractions below 1e-4 take Python's exponent form
 * ("1e-05", where JavaScript writes "0.00001" or "1e-7").
 */
function pythonNumber(v: number): string {
  if (!Number.isFinite(v)) return "null"; // what JSON.stringify writes; nbformat never sees NaN from here
  if (Number.isInteger(v) || Math.abs(v) >= 1e-4) return JSON.stringify(v);
  const [mantissa, exponent] = v.toExponential().split("e");
  const e = Number(exponent);
  return `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
}

/** Python code-point order, which sort_keys uses (JavaScript's default compares UTF-16 units). */
function byCodePoint(a: string, b: string): number {
  const x = [...a].map((ch) => ch.codePointAt(0)!);
  const y = [...b].map((ch) => ch.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** `json.dumps(value, sort_keys=True, indent=1, ensure_ascii=False)`, for JSON-shaped values. */
export function pythonJson(value: unknown, depth = 0): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "number") return pythonNumber(value);
  if (typeof value === "string" || typeof value === "boolean") return JSON.stringify(value);
  const pad = " ".repeat(depth + 1);
  const close = " ".repeat(depth);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => pad + pythonJson(v, depth + 1)).join(",\n")}\n${close}]`;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === "function")
    return pythonJson(JSON.parse(JSON.stringify(value)), depth);
  const keys = Object.keys(value as object)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort(byCodePoint);
  if (keys.length === 0) return "{}";
  const items = keys.map(
    (k) => `${pad}${JSON.stringify(k)}: ${pythonJson((value as Record<string, unknown>)[k], depth + 1)}`,
  );
  return `{\n${items.join(",\n")}\n${close}}`;
}

/** The exact text nbformat writes for this notebook, so saving it from Jupyter changes no byte. */
export function notebookText(nb: Notebook): string {
  return pythonJson(normalizeNotebook(nb)) + "\n";
}

/** Atomic, so an interrupted run never leaves half a notebook. */
export function writeNotebook(file: string, nb: Notebook): void {
  writeFileAtomic(file, notebookText(nb));
}

/** The notebook's cells' metadata kernelspec for the tslab TypeScript kernel. */
export const TSLAB_KERNELSPEC = { name: "tslab", display_name: "TypeScript", language: "typescript" };
