/**
 * Notebook -> static HTML for printing: Markdown with marked, math rendered server-side
 * with KaTeX (CSS and fonts inlined from node_modules, so no network and no JavaScript),
 * code cells in <pre>, and outputs by richest printable MIME type. Plotly JSON is skipped
 * in favour of the PNG stored beside it.
 */
import * as fs from "fs";
import * as path from "path";
import { Cell, Notebook, Output, cellSource } from "./ipynb";

// marked and katex ship CommonJS builds; require keeps this module CommonJS-friendly.
const { Marked } = require("marked") as typeof import("marked");
const katex = require("katex") as { renderToString(tex: string, opts: object): string };

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const stripAnsi = (s: string) => s.replace(new RegExp(String.fromCharCode(27) + "\\[[0-9;]*[A-Za-z]", "g"), "");
const joinText = (v: unknown): string => (Array.isArray(v) ? v.join("") : typeof v === "string" ? v : "");

const MATH =
  /(```[\s\S]*?```|`[^`\n]*`)|(\$\$[\s\S]+?\$\$|\\\[[\s\S]+?\\\]|\\begin\{(equation|align|gather|multline)(\*?)\}[\s\S]+?\\end\{\3\4\})|((?<![\\$])\$(?!\s)[^$\n]+?(?<!\s)\$|\\\([\s\S]+?\\\))/g;

function renderMath(tex: string, display: boolean): string {
  return katex.renderToString(tex, { displayMode: display, throwOnError: false, output: "html", strict: "ignore" });
}

/** Markdown with $...$, $$...$$, \(...\), \[...\] and equation environments rendered by KaTeX. */
export function markdownToHtml(markdown: string): string {
  const rendered: string[] = [];
  const protectedText = markdown.replace(MATH, (all, code, display, env, _star, inline) => {
    if (code) return all;
    let html: string;
    if (display) {
      // $$..$$ and \[..\] lose their two-character fences; environments go to KaTeX whole.
      html = renderMath(env ? display : display.slice(2, -2), true);
    } else {
      html = renderMath(inline.startsWith("$") ? inline.slice(1, -1) : inline.slice(2, -2), false);
    }
    rendered.push(html);
    return `KATEXMATH${rendered.length - 1}END`;
  });
  const marked = new Marked({ gfm: true });
  const html = marked.parse(protectedText, { async: false }) as string;
  return html.replace(/KATEXMATH(\d+)END/g, (_, i) => rendered[Number(i)]);
}

const PRINTABLE = [
  "image/png",
  "image/jpeg",
  "text/html",
  "image/svg+xml",
  "text/markdown",
  "text/latex",
  "text/plain",
];

function richOutput(data: Record<string, unknown>, metadata: Record<string, unknown>): string {
  const mime = PRINTABLE.find((m) => data[m] !== undefined);
  if (!mime) return "";
  const value = data[mime];
  switch (mime) {
    case "image/png":
    case "image/jpeg": {
      const size = (metadata?.[mime] ?? {}) as { width?: number };
      const style = size.width ? ` style="width:${size.width}px"` : "";
      const alt = escapeHtml(joinText(data["text/plain"]).slice(0, 200));
      return `<img class="figure" alt="${alt}" src="data:${mime};base64,${joinText(value).replace(/\s/g, "")}"${style}>`;
    }
    case "text/html":
      return `<div class="html-output">${joinText(value).replace(/<script[\s\S]*?<\/script>/gi, "")}</div>`;
    case "image/svg+xml":
      return `<div class="svg-output">${joinText(value)}</div>`;
    case "text/markdown":
      return `<div class="markdown-output">${markdownToHtml(joinText(value))}</div>`;
    case "text/latex":
      return renderMath(joinText(value).replace(/^\s*\$\$?|\$\$?\s*$/g, ""), true);
    default:
      return `<pre class="text-output">${escapeHtml(stripAnsi(joinText(value)))}</pre>`;
  }
}

function outputHtml(o: Output): string {
  switch (o.output_type) {
    case "stream":
      return `<pre class="stream ${o.name}">${escapeHtml(stripAnsi(joinText(o.text)))}</pre>`;
    case "display_data":
    case "execute_result":
      return richOutput(o.data, o.metadata);
    case "error":
      return `<pre class="error">${escapeHtml(stripAnsi([`${o.ename}: ${o.evalue}`, ...(o.traceback ?? [])].join("\n")))}</pre>`;
    default:
      return "";
  }
}

function cellHtml(cell: Cell): string {
  const source = cellSource(cell);
  if (cell.cell_type === "markdown") return `<div class="cell markdown">${markdownToHtml(source)}</div>`;
  if (cell.cell_type === "raw") return `<pre class="cell raw">${escapeHtml(source)}</pre>`;
  if (!source.trim() && !(cell.outputs ?? []).length) return "";
  const n = cell.execution_count ?? " ";
  const outputs = (cell.outputs ?? []).map(outputHtml).join("\n");
  // A cell that draws a figure is kept on one page with it (CSS break-inside: avoid).
  const figure = (cell.outputs ?? []).some((o) => "data" in o && (o.data["image/png"] ?? o.data["image/jpeg"]));
  return `<div class="cell code${figure ? " has-figure" : ""}"><div class="input"><span class="prompt">In [${n}]:</span><pre class="source">${codeLines(source)}</pre></div>${outputs ? `<div class="outputs">${outputs}</div>` : ""}</div>`;
}

/**
 * Each source line as its own block: a line too long for the page wraps with a hanging
 * indent, so a continuation reads as one, and CSS text-wrap: pretty balances the wrapped
 * line instead of leaving a single word on the continuation line.
 */
export function codeLines(source: string): string {
  return source
    .split("\n")
    .map((line) => `<span class="line">${line ? escapeHtml(line) : "\u200b"}</span>`)
    .join("");
}

/** Title of a notebook: its first Markdown "# heading", else the file name. */
export function notebookTitle(nb: Notebook, file: string): string {
  for (const cell of nb.cells) {
    if (cell.cell_type !== "markdown") continue;
    const m = cellSource(cell).match(/^#\s+(.+)$/m);
    if (m) return m[1].trim();
  }
  return path.basename(file, ".ipynb");
}

/** One notebook as an HTML <section> (no page chrome). */
export function notebookSection(nb: Notebook, file: string): string {
  const id = path.basename(file, ".ipynb");
  return `<section class="notebook" id="${escapeHtml(id)}">\n${nb.cells.map(cellHtml).join("\n")}\n</section>`;
}

let katexCss: string | null = null;

/** KaTeX's CSS with its woff2 fonts inlined as data URLs: the page needs no file or network access. */
function inlineKatexCss(): string {
  if (katexCss) return katexCss;
  const dist = path.dirname(require.resolve("katex/dist/katex.min.css"));
  const css = fs.readFileSync(path.join(dist, "katex.min.css"), "utf8");
  katexCss = css.replace(/src:url\(fonts\/([^)]+\.woff2)\) format\("woff2"\)[^;}]*/g, (_, font) => {
    const data = fs.readFileSync(path.join(dist, "fonts", font)).toString("base64");
    return `src:url(data:font/woff2;base64,${data}) format("woff2")`;
  });
  return katexCss;
}

const STYLE = `
@page { size: A4; margin: 18mm 16mm 20mm 16mm; }
body { font-family: "DejaVu Serif", Georgia, serif; font-size: 10.5pt; line-height: 1.45; color: #111; }
h1, h2, h3, h4 { font-family: "DejaVu Sans", Arial, sans-serif; line-height: 1.2; break-after: avoid; }
h1 { font-size: 18pt; } h2 { font-size: 14pt; } h3 { font-size: 12pt; }
section.notebook { break-before: page; }
.cell { margin: 0.5em 0; }
.input { display: flex; gap: 0.5em; break-inside: avoid; }
.prompt { font-family: "DejaVu Sans Mono", monospace; font-size: 8pt; color: #307fc1; min-width: 4.5em; padding-top: 0.45em; }
pre { font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt; white-space: pre-wrap; word-break: break-word; margin: 0.2em 0; }
pre.source { flex: 1; min-width: 0; background: #f5f5f5; border: 1px solid #ddd; border-radius: 3px; padding: 0.4em 0.6em; word-break: normal; overflow-wrap: break-word; }
pre.source .line { display: block; padding-left: 3ch; text-indent: -3ch; text-wrap: pretty; }
.cell.code.has-figure { break-inside: avoid; }
.outputs { margin-left: 5em; }
pre.stream, pre.text-output { padding: 0.2em 0; }
pre.stderr { color: #8a5a00; }
pre.error { color: #b00; background: #fff0f0; padding: 0.4em; }
img.figure { display: block; max-width: 100%; height: auto; margin: 0.4em 0; break-inside: avoid; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 9pt; break-inside: avoid; }
th, td { border-bottom: 1px solid #ccc; padding: 0.2em 0.6em; }
th { border-bottom: 1.5px solid #444; }
caption { font-weight: bold; text-align: left; padding-bottom: 0.3em; }
.katex-display { margin: 0.6em 0; overflow: hidden; }
.title-page { break-after: page; text-align: center; padding-top: 30%; font-family: "DejaVu Sans", Arial, sans-serif; }
.title-page h1 { font-size: 28pt; margin-bottom: 0.2em; }
.title-page .subtitle { font-size: 14pt; color: #444; }
.title-page ol { text-align: left; display: inline-block; margin-top: 3em; font-size: 11pt; }
.title-page .meta { margin-top: 3em; color: #666; font-size: 10pt; }
`;

/** A complete, self-contained HTML document around the given body. */
export function htmlDocument(title: string, body: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>${inlineKatexCss()}</style><style>${STYLE}</style></head>
<body>
${body}
</body></html>
`;
}

export interface TitlePage {
  title: string;
  subtitle?: string;
  contents: string[];
  meta?: string;
}

export function titlePageHtml(t: TitlePage): string {
  return `<div class="title-page"><h1>${escapeHtml(t.title)}</h1>${t.subtitle ? `<div class="subtitle">${escapeHtml(t.subtitle)}</div>` : ""}
<ol>${t.contents.map((c) => `<li>${escapeHtml(c)}</li>`).join("")}</ol>${t.meta ? `<div class="meta">${escapeHtml(t.meta)}</div>` : ""}</div>`;
}
