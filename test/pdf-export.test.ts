/**
 * JupyterLab's File > Save and Export Notebook As > PDF runs nbconvert's PDF exporter (LaTeX,
 * typeset by XeLaTeX) inside the server. This test runs that same exporter from the project's
 * .venv (`jupyter nbconvert --to pdf`) on every committed, executed notebook and reads each
 * PDF back: every heading and table caption is in its text, math is typeset (the Latin
 * Modern Math font is embedded), and there is one embedded image per PNG output (figures
 * travel as plotly JSON with a PNG beside it; LaTeX keeps the PNG). PDFs go to build/pdf-export/.
 * test/jupyterlab-browser.test.ts clicks the menu item itself once.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";

const root = path.resolve(__dirname, "..");
const jupyter = path.join(root, ".venv", "bin", "jupyter");
const outDir = path.join(root, "build", "pdf-export");
const notebooks = fs
  .readdirSync(path.join(root, "notebooks"))
  .filter((f) => /^\d\d-.*\.ipynb$/.test(f) && !f.includes(".failed."))
  .sort();

const missing = [jupyter, "/usr/bin/xelatex", "/usr/bin/pandoc", "/usr/bin/pdftotext"].filter((f) => !fs.existsSync(f));
const skip = missing.length ? `missing ${missing.join(", ")}: run bash scripts/install.sh` : false;

const joined = (s: string | string[] | undefined) => (Array.isArray(s) ? s.join("") : (s ?? ""));
/** Letters and digits only, lower case: LaTeX changes quotes, dashes and spacing. */
const plain = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, "");

/** What the PDF must show, read from the notebook. */
function expectations(nb: any): { headings: string[]; captions: string[]; math: boolean; pngs: number } {
  const markdown = nb.cells.filter((c: any) => c.cell_type === "markdown").map((c: any) => joined(c.source));
  const outputs = nb.cells.filter((c: any) => c.cell_type === "code").flatMap((c: any) => c.outputs);
  const headings = markdown
    .flatMap((m: string) => m.split("\n").filter((l) => /^#{1,4} /.test(l)))
    .map((l: string) => l.replace(/^#+ /, ""))
    .filter((h: string) => !h.includes("$")); // math in a heading is typeset, not text
  const displays = outputs.filter((o: any) => o.output_type === "display_data" || o.output_type === "execute_result");
  const captions = displays
    .map((o: any) => joined(o.data?.["text/markdown"]).match(/^\*\*(.+?)\*\*\n/)?.[1])
    .filter((c: string | undefined): c is string => !!c && !c.includes("$"));
  return {
    headings,
    captions,
    math: markdown.some((m: string) => /\$[^$\n]+\$/.test(m)),
    pngs: displays.filter((o: any) => o.data?.["image/png"]).length,
  };
}

const exportPdf = promisify(execFile);

for (const [i, nb] of notebooks.entries()) {
  test(
    `File > Export as PDF (nbconvert --to pdf): ${nb} has its headings, tables, math and figures`,
    { skip, timeout: 300_000 },
    async () => {
      const started = Date.now();
      await startExports(i);
      const pdf = path.join(outDir, nb.replace(/\.ipynb$/, ".pdf"));
      const want = expectations(JSON.parse(fs.readFileSync(path.join(root, "notebooks", nb), "utf8")));
      // Page-number lines are dropped, so a caption that runs over a page break still reads whole.
      const text = plain(
        execFileSync("pdftotext", [pdf, "-"], { encoding: "utf8" })
          .split("\n")
          .filter((l) => !/^\s*\d+\s*$/.test(l))
          .join("\n"),
      );
      for (const h of want.headings)
        assert.ok(text.includes(plain(h)), `${nb}: heading "${h}" is not in the PDF's text`);
      for (const c of want.captions) assert.ok(text.includes(plain(c)), `${nb}: table "${c}" is not in the PDF's text`);
      const fonts = execFileSync("pdffonts", [pdf], { encoding: "utf8" });
      if (want.math)
        assert.match(fonts, /LatinModernMath/, `${nb}: its math was not typeset (no math font in the PDF)`);
      const images = execFileSync("pdfimages", ["-list", pdf], { encoding: "utf8" })
        .split("\n")
        .slice(2)
        .filter((l) => /^\s*\d+\s+\d+\s+image\b/.test(l));
      assert.equal(images.length, want.pngs, `${nb}: images in the PDF against PNG outputs in the notebook`);
      const pages = Number(execFileSync("pdfinfo", [pdf], { encoding: "utf8" }).match(/Pages:\s+(\d+)/)![1]);
      console.log(
        `${nb}: ${pages} pages, ${images.length} images, ${want.headings.length} headings, ${want.captions.length} tables ` +
          `(${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
    },
  );
}

/** Exports are started in pairs, so that two run while the tests check them one by one. */
const pending = new Map<number, Promise<unknown>>();
function startExports(i: number): Promise<unknown> {
  for (const k of [i, i + 1].filter((k) => k < notebooks.length && !pending.has(k))) {
    fs.mkdirSync(outDir, { recursive: true });
    const done = exportPdf(jupyter, ["nbconvert", "--to", "pdf", "--output-dir", outDir, notebooks[k]], {
      cwd: path.join(root, "notebooks"),
      maxBuffer: 16 << 20,
    }).catch((e) => {
      // XeLaTeX's own error lines ("! Missing $ inserted.", "l.504 <the source line>") say what to fix.
      const log = String(e.stderr ?? e.message);
      const tex = log.split("\n").filter((l) => /^(! |l\.\d+ )/.test(l));
      throw new Error(`nbconvert --to pdf ${notebooks[k]} failed: ${tex.join("\n") || log.slice(-3000)}`);
    });
    done.catch(() => {}); // reported by the notebook's own test, not as an unhandled rejection
    pending.set(k, done);
  }
  return pending.get(i)!;
}

test("the committed notebooks are all exported", { skip }, () => {
  assert.ok(notebooks.length >= 10, `only ${notebooks.length} notebooks in notebooks/`);
  assert.equal(
    execFileSync(jupyter, ["nbconvert", "--version"], { encoding: "utf8" }).trim(),
    "7.17.1",
    "the pinned nbconvert (jupyter/requirements.txt)",
  );
});
