/**
 * Export integration test: a small notebook built here (Markdown with math, code, a
 * stream, a figure output as showFigure makes it, a table) is exported to PDF with the
 * project's exporter and to HTML with nbconvert (the project's .venv). Needs chromium and poppler-utils.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PLOTLY_MIME, describeFigure, lineChart, renderPng } from "@csc411/lib/plots";
import { closeBrowser } from "@csc411/lib/plots";
import { tableHtml, tableMarkdown, tableText, toTable } from "@csc411/lib/plots";
import { exportNotebooks } from "../tools/export";
import { printPdf } from "../tools/pdf";
import { Notebook, toLines } from "../tools/ipynb";

async function smallNotebook(): Promise<Notebook> {
  const fig = lineChart({
    title: "Export check curve",
    xTitle: "epoch",
    yTitle: "cost",
    series: [{ name: "train", x: [1, 2, 3, 4], y: [4, 2, 1.5, 1.2] }],
  });
  const png = await renderPng(fig, { width: 600, height: 380 });
  const table = toTable([{ model: "softmax", accuracy: 0.9123 }]);
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" },
      language_info: { name: "typescript" },
    },
    cells: [
      {
        id: "md1",
        cell_type: "markdown",
        metadata: {},
        source: toLines(
          "# Export test notebook\n\nThe cost is $C = \\sum_i y_i \\log p_i$ and\n\n$$\\frac{\\partial C}{\\partial w} = x^T (p - y)$$\n",
        ),
      },
      {
        id: "code1",
        cell_type: "code",
        metadata: {},
        execution_count: 1,
        source: toLines('console.log("hello from the export test");\nawait showFigure(fig);'),
        outputs: [
          { output_type: "stream", name: "stdout", text: ["hello from the export test\n"] },
          {
            output_type: "display_data",
            data: { [PLOTLY_MIME]: fig, "image/png": png.toString("base64"), "text/plain": [describeFigure(fig)] },
            metadata: { "image/png": { width: 600, height: 380 } },
          },
          {
            output_type: "display_data",
            data: {
              "text/html": [tableHtml(table)],
              "text/markdown": [tableMarkdown(table)],
              "text/plain": [tableText(table)],
            },
            metadata: {},
          },
        ],
      },
    ],
  };
}

const run = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

test("export: PDF holds the notebook's text, rendered math, the figure and page numbers", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "export-test-"));
  const file = path.join(dir, "01-export-check.ipynb");
  fs.writeFileSync(file, JSON.stringify(await smallNotebook(), null, 1));
  const res = await exportNotebooks([file], { outDir: path.join(dir, "out"), log: () => {} });
  const pdf = res.notebooks[0].file;
  assert.ok(fs.existsSync(pdf));
  const text = run("pdftotext", ["-layout", pdf, "-"]);
  for (const want of ["Export test notebook", "hello from the export test", "console.log", "softmax", "0.9123"])
    assert.ok(text.includes(want), `PDF text lacks "${want}"`);
  assert.ok(!text.includes("\\frac") && !text.includes("$C"), "math was left as TeX source");
  assert.match(text, /∂C/, "rendered math (∂C) missing");
  assert.match(text, /\b1 ?\/ ?\d+\b/, "page number footer missing");
  const images = run("pdfimages", ["-list", pdf]).trim().split("\n").slice(2);
  assert.ok(images.length >= 1, "no image in the PDF");
  // The 600x380 figure is rendered again from its plotly JSON at the print scale (3x), not reused.
  assert.ok(
    images.some((l) => /\b1800\s+1140\b/.test(l)),
    `the 600x380 figure at 3x (1800x1140) is not among the PDF's images:\n${images.join("\n")}`,
  );
  // Combined report: title page first, then the notebook, numbered continuously.
  const combined = run("pdftotext", ["-layout", res.combined!.file, "-"]);
  assert.match(combined, /Deep Neural Networks[\s\S]*Export test notebook/);
  assert.ok(res.combined!.pages > res.notebooks[0].pages);
  assert.deepEqual(
    fs.readdirSync(path.join(dir, "out")).filter((f) => f.endsWith(".tmp")),
    [],
  );
});

test("export: a failed export leaves no PDF and no temp file behind", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "export-fail-"));
  const html = path.join(dir, "x.html");
  fs.writeFileSync(html, "<html><body>will not be renamed</body></html>");
  const target = path.join(dir, "x.pdf");
  fs.mkdirSync(target); // a directory where the PDF should go: the final rename fails
  await assert.rejects(printPdf(html, target), /printing .*x\.pdf failed/);
  assert.deepEqual(fs.readdirSync(dir).sort(), ["x.html", "x.pdf"]);
  assert.ok(fs.statSync(target).isDirectory());
  // A broken notebook fails before anything is written.
  const bad = path.join(dir, "02-bad.ipynb");
  fs.writeFileSync(bad, "{ not json");
  await assert.rejects(
    exportNotebooks([bad], { outDir: path.join(dir, "out"), log: () => {} }),
    /02-bad\.ipynb: not valid notebook JSON/,
  );
  assert.ok(!fs.existsSync(path.join(dir, "out")));
});

test("nbconvert --to html keeps the figure (as the PNG) and the table", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nbconvert-test-"));
  const file = path.join(dir, "figure.ipynb");
  fs.writeFileSync(file, JSON.stringify(await smallNotebook(), null, 1));
  run(path.join(__dirname, "..", ".venv", "bin", "jupyter"), ["nbconvert", "--to", "html", "--output-dir", dir, file]);
  const html = fs.readFileSync(path.join(dir, "figure.html"), "utf8");
  assert.match(html, /<img [^>]*src="data:image\/png;base64,iVBOR/);
  assert.match(html, /<td style="text-align:left">softmax<\/td>/);
});

test.after(closeBrowser);
