/**
 * Tables as one output with HTML (Jupyter, nbconvert HTML, GitHub, the project's export),
 * Markdown (nbconvert's LaTeX/PDF export, which drops text/html) and plain text.
 * Accepts rows (objects), `{ columns, rows }` or a danfojs DataFrame (duck-typed, so this
 * module does not load danfojs).
 */
import * as crypto from "crypto";
import { displayBundle } from "../runtime/display";

export type Cell = string | number | boolean | null | undefined;
export interface TableData {
  columns: string[];
  rows: Cell[][];
}

export interface TableOptions {
  caption?: string;
  /** Significant digits for non-integer numbers (default 4). */
  digits?: number;
  /**
   * Long tables: on screen a box this many pixels high that scrolls under a fixed header;
   * in print (the PDF export) the whole table in a smaller font, its header on every page.
   */
  maxHeight?: number;
  /**
   * A click on a column header sorts by that column (again: the other way). A small inline
   * script: Jupyter runs it in a trusted notebook; exports strip it and show the given order.
   */
  sortable?: boolean;
  /** Row indices to emphasise (bold, shaded), e.g. a chosen configuration. */
  highlight?: number[];
}

type DataFrameLike = { columns: string[]; values: Cell[][] };

function isDataFrame(x: any): x is DataFrameLike {
  return x && Array.isArray(x.columns) && Array.isArray(x.values) && typeof x.shape !== "undefined";
}

/** Normalises the accepted inputs to columns + rows. */
export function toTable(input: Record<string, Cell>[] | TableData | DataFrameLike): TableData {
  if (isDataFrame(input))
    return { columns: input.columns.map(String), rows: input.values.map((r) => (Array.isArray(r) ? r : [r])) };
  if (Array.isArray(input)) {
    const columns: string[] = [];
    for (const row of input) {
      if (row === null || typeof row !== "object")
        throw new Error(`showTable: every row must be an object (got ${JSON.stringify(row)})`);
      for (const k of Object.keys(row)) if (!columns.includes(k)) columns.push(k);
    }
    return { columns, rows: input.map((row) => columns.map((c) => row[c])) };
  }
  if (input && Array.isArray((input as TableData).columns) && Array.isArray((input as TableData).rows)) {
    const t = input as TableData;
    t.rows.forEach((r, i) => {
      if (r.length !== t.columns.length)
        throw new Error(`showTable: rows[${i}] has ${r.length} cells but there are ${t.columns.length} columns`);
    });
    return t;
  }
  throw new Error("showTable: expected an array of row objects, { columns, rows } or a danfojs DataFrame");
}

export function formatCell(v: Cell, digits = 4): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") {
    if (Number.isInteger(v)) return String(v);
    if (!Number.isFinite(v)) return String(v);
    return String(Number(v.toPrecision(digits)));
  }
  return String(v);
}

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const escapeMd = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
const numeric = (t: TableData, c: number) =>
  t.rows.every((r) => r[c] === null || r[c] === undefined || typeof r[c] === "number");

export function tableHtml(t: TableData, opts: TableOptions = {}): string {
  const align = t.columns.map((_, c) => (numeric(t, c) ? "right" : "left"));
  const head = t.columns.map((c, i) => `<th style="text-align:${align[i]}">${escapeHtml(c)}</th>`).join("");
  const highlight = new Set(opts.highlight ?? []);
  const body = t.rows
    .map(
      (r, k) =>
        `<tr${highlight.has(k) ? ' class="highlight"' : ""}>${r.map((v, i) => `<td style="text-align:${align[i]}">${escapeHtml(formatCell(v, opts.digits))}</td>`).join("")}</tr>`,
    )
    .join("\n");
  const caption = opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : "";
  const table = `<table class="report-table">${caption}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
  if (opts.maxHeight === undefined && !opts.sortable && highlight.size === 0) return table;
  // Styles and script are scoped to this table by an id derived from its content, so a
  // re-run writes the same output and two tables on a page do not share state.
  const id = `table-${crypto.createHash("sha256").update(table).digest("hex").slice(0, 10)}`;
  const css = [
    `#${id} tr.highlight td { font-weight: bold; background: #fff2c2; }`,
    opts.maxHeight === undefined
      ? ""
      : `@media screen { #${id} { max-height: ${opts.maxHeight}px; overflow-y: auto; display: inline-block; } ` +
        `#${id} thead th { position: sticky; top: 0; background: white; } } ` +
        `@media print { #${id} table { font-size: 7.5pt; break-inside: auto; } #${id} thead { display: table-header-group; } }`,
    opts.sortable ? `#${id} th { cursor: pointer; }` : "",
  ].join(" ");
  const script = opts.sortable
    ? `<script>(function () { var box = document.getElementById(${JSON.stringify(id)}); if (!box) return;` +
      ` var t = box.querySelector("table"), ths = t.tHead.rows[0].cells;` +
      ` Array.prototype.forEach.call(ths, function (th, c) { th.title = "click to sort"; th.onclick = function () {` +
      ` var up = th.getAttribute("data-sort") !== "up", rows = Array.prototype.slice.call(t.tBodies[0].rows);` +
      ` rows.sort(function (a, b) { var x = a.cells[c].textContent, y = b.cells[c].textContent, nx = parseFloat(x), ny = parseFloat(y);` +
      ` var d = isNaN(nx) || isNaN(ny) ? x.localeCompare(y) : nx - ny; return up ? d : -d; });` +
      ` rows.forEach(function (r) { t.tBodies[0].appendChild(r); });` +
      ` Array.prototype.forEach.call(ths, function (h) { h.removeAttribute("data-sort"); }); th.setAttribute("data-sort", up ? "up" : "down"); }; }); })();</script>`
    : "";
  return `<div class="report-table-box" id="${id}"><style>${css}</style>${table}${script}</div>`;
}

/**
 * A pipe table with its columns padded to their widest cell. Pandoc (nbconvert's LaTeX PDF)
 * sizes the columns of a table wider than 72 characters by the dashes of each column's rule,
 * so the rule is as wide as the column's content: equal rules would squeeze a long column
 * ("LeakyReLU(0.01)") until it overprints its neighbour.
 */
export function tableMarkdown(t: TableData, opts: TableOptions = {}): string {
  const cells = [t.columns, ...t.rows.map((r) => r.map((v) => formatCell(v, opts.digits)))].map((r) => r.map(escapeMd));
  const widths = t.columns.map((_, c) => Math.max(3, ...cells.map((r) => r[c].length)));
  const right = t.columns.map((_, c) => numeric(t, c));
  const line = (r: string[]) =>
    `| ${r.map((v, c) => (right[c] ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join(" | ")} |`;
  const rule = widths.map((w, c) => (right[c] ? "-".repeat(w - 1) + ":" : ":" + "-".repeat(w - 1)));
  const lines = [line(cells[0]), `| ${rule.join(" | ")} |`, ...cells.slice(1).map(line)];
  return (opts.caption ? `**${escapeMd(opts.caption)}**\n\n` : "") + lines.join("\n");
}

export function tableText(t: TableData, opts: TableOptions = {}): string {
  const cells = [t.columns, ...t.rows.map((r) => r.map((v) => formatCell(v, opts.digits)))];
  const widths = t.columns.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const fmt = (r: string[]) =>
    r
      .map((v, c) => (numeric(t, c) ? v.padStart(widths[c]) : v.padEnd(widths[c])))
      .join("  ")
      .trimEnd();
  const lines = [fmt(cells[0]), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(fmt)];
  return (opts.caption ? `${opts.caption}\n` : "") + lines.join("\n");
}

/** Shows a table as HTML with Markdown and plain-text fallbacks in one output. */
export function showTable(input: Record<string, Cell>[] | TableData | DataFrameLike, opts: TableOptions = {}): void {
  const t = toTable(input);
  displayBundle({
    "text/html": tableHtml(t, opts),
    "text/markdown": tableMarkdown(t, opts),
    "text/plain": tableText(t, opts),
  });
}
