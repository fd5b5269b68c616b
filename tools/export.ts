/**
 * Exports notebooks as they are (no execution) to one PDF each plus one combined report
 * (title page, notebooks in file-name order, continuous page numbers).
 *
 *   node tools/dist/export.js [--out build/report] [--no-combined] [--figure-scale 3 | --screen-figures] [notebook.ipynb ...]
 *
 * Figures are rendered again from their plotly JSON at `--figure-scale` times their screen
 * size (default 3, sharp at print width; print-figures.ts); `--screen-figures` prints the
 * PNGs stored in the notebooks instead. Without notebook arguments it takes notebooks/NN-*.ipynb. The HTML each PDF is printed
 * from is kept beside it (html/), which is also a browsable export.
 */
import * as fs from "fs";
import * as path from "path";
import { Notebook, readNotebook } from "./ipynb";
import { projectRoot, writeFileAtomic } from "@csc411/lib/runtime";
import { closeBrowser } from "@csc411/lib/plots";
import { htmlDocument, notebookSection, notebookTitle, titlePageHtml } from "./html";
import { PdfResult, printPdf } from "./pdf";
import { printResolutionFigures } from "./print-figures";

export interface ExportOptions {
  outDir: string;
  combined?: boolean;
  title?: string;
  subtitle?: string;
  log?: (line: string) => void;
  /** Render figures from their plotly JSON at this multiple of their screen size; 0 keeps the stored PNGs. Default 3. */
  figureScale?: number;
}

export interface ExportResult {
  notebooks: PdfResult[];
  combined: PdfResult | null;
}

function unexecutedCells(nb: Notebook): number {
  return nb.cells.filter((c) => c.cell_type === "code" && c.source.length > 0 && c.execution_count == null).length;
}

/** The report's notebooks in section order: notebooks/NN-name.ipynb sorted by name. */
export function reportNotebooks(dir = path.join(projectRoot(), "notebooks")): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d+.*\.ipynb$/.test(f) && !f.endsWith(".failed.ipynb"))
    .sort()
    .map((f) => path.join(dir, f));
}

export async function exportNotebooks(files: string[], opts: ExportOptions): Promise<ExportResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + "\n"));
  if (files.length === 0) throw new Error("export: no notebooks to export");
  const loaded = files.map((file) => ({ file, nb: readNotebook(file) }));
  const htmlDir = path.join(opts.outDir, "html");
  const results: PdfResult[] = [];
  const sections: string[] = [];
  const titles: string[] = [];
  const figureScale = opts.figureScale ?? 3;
  for (const [i, { file, nb: stored }] of loaded.entries()) {
    const name = path.basename(file, ".ipynb");
    const title = notebookTitle(stored, file);
    const stale = unexecutedCells(stored);
    const t0 = performance.now();
    log(
      `[${i + 1}/${loaded.length}] ${name}: ${stored.cells.length} cells${stale ? ` (warning: ${stale} code cells were never executed)` : ""}`,
    );
    let nb = stored;
    if (figureScale > 0) {
      const { notebook, stats } = await printResolutionFigures(stored, figureScale);
      nb = notebook;
      for (const k of stats.kept)
        log(`[${i + 1}/${loaded.length}] ${name}: cell ${k.cell} keeps its stored PNG (${k.reason})`);
      if (stats.rendered)
        log(`[${i + 1}/${loaded.length}] ${name}: ${stats.rendered} figures rendered at ${figureScale}x for print`);
    }
    const section = notebookSection(nb, file);
    sections.push(section);
    titles.push(title);
    const htmlFile = path.join(htmlDir, `${name}.html`);
    writeFileAtomic(htmlFile, htmlDocument(title, section));
    const res = await printPdf(htmlFile, path.join(opts.outDir, `${name}.pdf`));
    results.push(res);
    log(
      `[${i + 1}/${loaded.length}] ${name}: ${res.pages} pages, ${(res.bytes / 1024).toFixed(0)} KiB -> ${path.relative(process.cwd(), res.file)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }
  let combined: PdfResult | null = null;
  if (opts.combined !== false) {
    const t0 = performance.now();
    const title = opts.title ?? "Deep Neural Networks";
    const cover = titlePageHtml({
      title,
      subtitle: opts.subtitle ?? "CSC411 (Winter 2018) report, reproduced as TypeScript Jupyter notebooks",
      contents: titles,
      meta: `Generated ${new Date().toISOString().slice(0, 10)}`,
    });
    const htmlFile = path.join(htmlDir, "report.html");
    writeFileAtomic(htmlFile, htmlDocument(title, [cover, ...sections].join("\n")));
    combined = await printPdf(htmlFile, path.join(opts.outDir, "report.pdf"));
    log(
      `combined report: ${combined.pages} pages, ${(combined.bytes / 1024).toFixed(0)} KiB -> ${path.relative(process.cwd(), combined.file)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }
  return { notebooks: results, combined };
}

async function main(argv: string[]): Promise<void> {
  let outDir = path.join(projectRoot(), "build", "report");
  let combined = true;
  let figureScale = 3;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--out") outDir = path.resolve(argv[++i] ?? "");
    else if (a === "--no-combined") combined = false;
    else if (a === "--screen-figures") figureScale = 0;
    else if (a === "--figure-scale") {
      figureScale = Number(argv[++i]);
      if (!(figureScale > 0)) throw new Error(`export: --figure-scale needs a positive number, got ${argv[i]}`);
    } else if (a.startsWith("--"))
      throw new Error(
        `export: unknown option ${a} (use --out DIR, --no-combined, --figure-scale N, --screen-figures, notebook files)`,
      );
    else files.push(path.resolve(a));
  }
  await exportNotebooks(files.length ? files : reportNotebooks(), { outDir, combined, figureScale });
}

if (require.main === module) {
  main(process.argv.slice(2))
    .then(() => closeBrowser())
    .catch(async (e) => {
      process.stderr.write(`export failed: ${e?.message ?? e}\n`);
      await closeBrowser();
      process.exit(1);
    });
}
