/**
 * The user's workflow in a real browser: `npm run lab` (quick profile in the server's
 * environment) driven by Playwright in Debian's headless Chromium. For every notebook: open
 * it at /lab/tree/..., Kernel > Restart Kernel and Run All Cells, wait until every code cell
 * ran and the kernel is idle, then check that no cell shows an error, that every plotly
 * figure is interactive (plotly's SVG is drawn and hovering a trace shows its hover label),
 * and that every image and table displays. One notebook runs the same way in Notebook 7
 * (/notebooks/...). Screenshots go to build/jupyterlab/NN.png (and notebook7-NN.png).
 *
 * The server works on copies of the notebooks (build/jupyterlab/notebooks/), so nothing the
 * browser does can touch the committed, fully executed notebooks. One server and one browser
 * serve all notebooks, which run one after the other.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { BrowserContext, Locator, Page } from "playwright-core";
import { CHROMIUM_ARGS, chromiumPath } from "@csc411/lib/plots";
import { JupyterServer, root, startJupyter, venvJupyter } from "./jupyter-server";

const PLOTLY = "application/vnd.plotly.v1+json";
const STDERR = "application/vnd.jupyter.stderr";
const NOTEBOOK7_NOTEBOOK = "04-gradient-descent.ipynb";
/** Exported from the menu after its run: a figure, a table and math. */
const MENU_EXPORT_NOTEBOOK = "01-mnist.ipynb";

const outDir = path.join(root, "build", "jupyterlab");
const workDir = path.join(outDir, "notebooks");
const notebooks = fs
  .readdirSync(path.join(root, "notebooks"))
  .filter((f) => /^\d\d-.*\.ipynb$/.test(f) && !f.includes(".failed."))
  .sort();

const skip = !fs.existsSync(chromiumPath())
  ? `no Chromium at ${chromiumPath()} (bash scripts/install.sh installs Debian's chromium)`
  : !fs.existsSync(venvJupyter)
    ? `no project Jupyter at ${venvJupyter} (bash scripts/install.sh makes .venv)`
    : false;

/** What the notebook model says each code cell produced, after the run. */
interface CellReport {
  index: number;
  source: string;
  executionCount: number | null;
  outputs: any[];
}

/** The notebook panel of the page's current tab (JupyterLab and Notebook 7 alike). */
const PANEL = "(window.jupyterapp && window.jupyterapp.shell.currentWidget)";

/**
 * Opens a notebook as a user does (JupyterLab starts its kernel); resolves once the document
 * is loaded and the kernel exists. The restart that follows need not wait for that first
 * start to finish.
 */
async function openNotebook(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForFunction(
    `(() => { const p = ${PANEL}; return !!(p && p.content && p.context && p.context.isReady &&
      p.sessionContext.session && p.sessionContext.session.kernel); })()`,
    null,
    { timeout: 120_000, polling: 250 },
  );
}

/**
 * Kernel > Restart Kernel and Run All Cells, through the menu as a user does, confirmed in
 * the dialog; resolves when every code cell got a new execution count, or when the kernel
 * went idle with cells left unrun (a failed cell stops the rest) for 3 s.
 */
async function restartAndRunAll(page: Page, timeoutMs: number): Promise<void> {
  // Each code cell's model reports a new execution count once it has run again.
  await page.evaluate(`(() => {
    const p = ${PANEL};
    const run = (window.__run = { code: 0, ran: new Set(), lastChange: Date.now() });
    p.content.widgets.forEach((cell) => {
      if (cell.model.type !== "code") return;
      run.code++;
      cell.model.stateChanged.connect((m, change) => {
        if (change.name === "executionCount" && change.newValue !== null) run.ran.add(m.id);
        run.lastChange = Date.now();
      });
    });
  })()`);
  await page.locator(".lm-MenuBar-itemLabel", { hasText: /^Kernel$/ }).click();
  await page.locator(".lm-Menu-itemLabel", { hasText: /^Restart Kernel and Run All Cells/ }).click();
  await page.locator(".jp-Dialog .jp-mod-accept").click();
  await page.waitForFunction(
    `(() => {
      const p = ${PANEL}, run = window.__run;
      if (run.ran.size === run.code) return p.sessionContext.kernelDisplayStatus === "idle";
      const pending = p.content.widgets.some((c) => c.model.type === "code" && /\\*/.test(c.promptNode ? c.promptNode.textContent : ""));
      return run.ran.size > 0 && !pending && p.sessionContext.kernelDisplayStatus === "idle" && Date.now() - run.lastChange > 3000;
    })()`,
    null,
    { timeout: timeoutMs, polling: 250 },
  );
}

async function cellReports(page: Page): Promise<CellReport[]> {
  return (await page.evaluate(`(() => {
    const p = ${PANEL};
    return p.content.widgets.map((cell, index) => cell.model.type !== "code" ? null : ({
      index,
      source: cell.model.sharedModel.getSource(),
      executionCount: cell.model.executionCount,
      outputs: cell.model.outputs.toJSON(),
    })).filter((c) => c !== null);
  })()`)) as CellReport[];
}

const textOf = (o: any) => (Array.isArray(o.text) ? o.text.join("") : String(o.text ?? ""));

/** Errors the cells show: error outputs, stderr mentioning an error, cells that never ran. */
function cellErrors(cells: CellReport[]): string[] {
  const errors: string[] = [];
  for (const c of cells) {
    const where = `cell ${c.index} (${c.source.split("\n")[0].slice(0, 80)})`;
    if (c.executionCount === null) errors.push(`${where} did not run`);
    for (const o of c.outputs) {
      if (o.output_type === "error") errors.push(`${where}: ${o.ename}: ${o.evalue}`);
      if (o.output_type === "stream" && o.name === "stderr" && /error/i.test(textOf(o)))
        errors.push(`${where} stderr: ${textOf(o).slice(0, 1500)}`);
    }
  }
  return errors;
}

/** How JupyterLab shows an output: plotly wins over everything, then HTML, then PNG. */
function shownAs(o: any): "plotly" | "table" | "image" | "other" {
  const data = o.data ?? {};
  if (data[PLOTLY]) return "plotly";
  if (data["text/html"]) return /<table/.test([].concat(data["text/html"]).join("")) ? "table" : "other";
  if (data["image/png"] || data["image/jpeg"]) return "image";
  return "other";
}

/**
 * Screen points on a figure's traces (line midpoints, marker and bar centres, heatmap and
 * image centres). Page code is passed as text: tsx's helpers do not exist in the page.
 */
const TRACE_POINTS = `(el) => {
  const out = [];
  const centre = (n) => {
    const r = n.getBoundingClientRect();
    if (r.width > 0 || r.height > 0) out.push({ x: r.left + r.width / 2, y: r.top + r.height / 2 });
  };
  el.querySelectorAll(".scatterlayer .trace").forEach((trace) => {
    const points = trace.querySelectorAll("path.point");
    if (points.length) return centre(points[Math.floor(points.length / 2)]);
    const line = trace.querySelector("path.js-line");
    const m = line && line.getScreenCTM();
    if (!m || !line.getTotalLength()) return;
    const p = line.getPointAtLength(line.getTotalLength() / 2);
    out.push({ x: p.x * m.a + p.y * m.c + m.e, y: p.x * m.b + p.y * m.d + m.f });
  });
  el.querySelectorAll(".barlayer .point path, .heatmaplayer image, .imagelayer image, .hm image").forEach(centre);
  // Only points inside a plot area (a point outside the axis range is clipped, but has a box).
  const areas = Array.from(el.querySelectorAll(".draglayer .nsewdrag")).map((d) => d.getBoundingClientRect());
  return out.filter((p) => areas.some((a) => p.x > a.left && p.x < a.right && p.y > a.top && p.y < a.bottom));
}`;

async function tracePoints(figure: Locator): Promise<{ x: number; y: number }[]> {
  return figure.evaluate((el, source) => (0, eval)(source)(el), TRACE_POINTS);
}

/** Hovers the figure's traces until plotly draws a hover label; returns its text ("" if none came). */
async function hoverLabel(page: Page, figure: Locator): Promise<string> {
  for (const p of (await tracePoints(figure)).slice(0, 12)) {
    await page.mouse.move(p.x, p.y, { steps: 3 });
    // plotly draws the label on its next animation frame
    for (let wait = 0; wait < 5; wait++) {
      const text = await figure
        .locator(".hoverlayer")
        .first()
        .evaluate((h) => h.textContent ?? "")
        .catch(() => "");
      if (text.trim()) return text.trim();
      await page.waitForTimeout(100);
    }
  }
  return "";
}

/** Checks every figure, image and table output of the run in the page; returns what it saw. */
async function checkOutputs(page: Page, cells: CellReport[], label: string): Promise<Record<string, number>> {
  const seen = { plotly: 0, picture: 0, image: 0, table: 0 };
  const cellNodes = page.locator(".jp-Notebook .jp-Cell");
  for (const c of cells) {
    const expected = { plotly: 0, image: 0, table: 0, other: 0 };
    for (const o of c.outputs)
      if (o.output_type === "display_data" || o.output_type === "execute_result") expected[shownAs(o)]++;
    if (expected.plotly + expected.image + expected.table === 0) continue;
    const cell = cellNodes.nth(c.index);
    const where = `${label} cell ${c.index}`;
    await cell.scrollIntoViewIfNeeded();

    // plotly's renderer first shows the stored PNG, and the live figure on the first mouse move.
    const figures = cell.locator(".jp-OutputArea-output.jp-RenderedPlotly");
    // Image grids and weight pictures are image and heatmap traces, each drawn as one SVG <image>.
    const pictures = c.outputs
      .filter((o) => o.data?.[PLOTLY])
      .map((o) => (o.data[PLOTLY].data ?? []).filter((t: any) => t.type === "image" || t.type === "heatmap").length);
    assert.equal(await figures.count(), expected.plotly, `${where}: plotly outputs on the page`);
    for (let k = 0; k < expected.plotly; k++) {
      const figure = figures.nth(k);
      await figure.scrollIntoViewIfNeeded();
      await figure.hover();
      await figure.locator(".main-svg").first().waitFor({ timeout: 30_000 });
      const hover = await hoverLabel(page, figure);
      assert.ok(hover, `${where}: figure ${k + 1} shows no hover label over its traces`);
      seen.plotly++;
      const drawn = await figure.locator(".imagelayer image, .heatmaplayer image").evaluateAll((els) =>
        els.map((e) => ({
          href: (e.getAttribute("href") ?? e.getAttribute("xlink:href") ?? "").length,
          box: e.getBoundingClientRect(),
        })),
      );
      assert.equal(drawn.length, pictures[k], `${where}: figure ${k + 1}'s pictures drawn`);
      // (A colour bar's carrier is a transparent two-cell heatmap: drawn, but with no area.)
      for (const d of drawn) assert.ok(d.href > 100, `${where}: figure ${k + 1} has a picture without data`);
      if (drawn.length)
        assert.ok(
          drawn.some((d) => d.box.width >= 100 && d.box.height >= 100),
          `${where}: figure ${k + 1}'s pictures are not on screen: ${JSON.stringify(drawn.map((d) => d.box))}`,
        );
      seen.picture += drawn.length;
    }

    const images = cell.locator(".jp-OutputArea-output.jp-RenderedImage img");
    assert.equal(await images.count(), expected.image, `${where}: images on the page`);
    for (let k = 0; k < expected.image; k++) {
      const img = images.nth(k);
      await img.scrollIntoViewIfNeeded();
      const width = await img.evaluate((i: HTMLImageElement) => i.decode().then(() => i.naturalWidth));
      assert.ok(width > 0, `${where}: image ${k + 1} did not load`);
      seen.image++;
    }

    const tables = cell.locator(".jp-OutputArea-output.jp-RenderedHTML table");
    assert.equal(await tables.count(), expected.table, `${where}: tables on the page`);
    for (let k = 0; k < expected.table; k++) {
      const table = tables.nth(k);
      assert.ok((await table.locator("tbody tr").count()) > 0, `${where}: table ${k + 1} has no rows`);
      assert.ok(await table.isVisible(), `${where}: table ${k + 1} is not visible`);
      seen.table++;
    }
  }
  return seen;
}

/**
 * File > Save and Export Notebook As > PDF, as a user clicks it: JupyterLab saves the
 * notebook, then opens nbconvert's PDF download (a tab that closes as the download starts;
 * the page that opened it gets the download). Saves the PDF to `file`.
 */
async function exportPdfFromMenu(page: Page, file: string): Promise<void> {
  await page.locator(".lm-MenuBar-itemLabel", { hasText: /^File$/ }).click();
  await page.locator(".lm-Menu-itemLabel", { hasText: /^Save and Export Notebook As/ }).hover();
  const download = page.waitForEvent("download", { timeout: 180_000 });
  await page.locator(".lm-Menu-itemLabel", { hasText: /^PDF$/ }).click();
  await (await download).saveAs(file);
}

/** Opens, restarts and runs all, checks everything, saves a screenshot; fails with the cells' errors. */
async function runNotebook(page: Page, url: string, label: string, shot: string, pdf?: string): Promise<void> {
  const started = Date.now();
  await openNotebook(page, url);
  const opened = Date.now();
  await page.evaluate(`(() => { const s = window.jupyterapp.shell; if (s.collapseLeft) s.collapseLeft(); })()`);
  try {
    await restartAndRunAll(page, 10 * 60_000);
    const ran = Date.now();
    const cells = await cellReports(page);
    assert.deepEqual(cellErrors(cells), [], `${label}: cells with errors`);
    const stderrOnPage = await page
      .locator(`.jp-OutputArea-output[data-mime-type="${STDERR}"]`)
      .evaluateAll((els) => els.map((e) => e.textContent ?? "").filter((t) => /error/i.test(t)));
    assert.deepEqual(stderrOnPage, [], `${label}: stderr with errors on the page`);
    const first = cells.findIndex((c) => c.outputs.some((o) => o.output_type === "display_data" && o.data?.[PLOTLY]));
    const seen = await checkOutputs(page, cells, label);
    if (first >= 0) await page.locator(".jp-Notebook .jp-Cell").nth(cells[first].index).scrollIntoViewIfNeeded();
    const checked = Date.now();
    if (pdf) {
      await exportPdfFromMenu(page, pdf);
      // The PDF holds what was just run (quick profile), its heading, its figure and its math.
      const text = execFileSync("pdftotext", [pdf, "-"], { encoding: "utf8" });
      assert.match(text, /profile: quick/, `${pdf}: not the notebook as just run`);
      const heading = String(await page.evaluate(`${PANEL}.content.widgets[0].model.sharedModel.getSource()`));
      assert.ok(text.includes(heading.split("\n")[0].replace(/^# /, "")), `${pdf}: heading missing`);
      assert.match(execFileSync("pdfimages", ["-list", pdf], { encoding: "utf8" }), /\bimage\b/, `${pdf}: no image`);
      assert.match(execFileSync("pdffonts", [pdf], { encoding: "utf8" }), /LatinModernMath/, `${pdf}: no typeset math`);
    }
    const s = (ms: number) => (ms / 1000).toFixed(1);
    console.log(
      `${label}: opened with its kernel in ${s(opened - started)} s, restarted and ran ${cells.length} code cells ` +
        `in ${s(ran - opened)} s, checked ${seen.plotly} interactive figures (${seen.picture} pictures in them), ` +
        `${seen.image} images and ` +
        `${seen.table} tables in ${s(checked - ran)} s` +
        (pdf ? `; File > Save and Export Notebook As > PDF in ${s(Date.now() - checked)} s` : ""),
    );
  } finally {
    await page.screenshot({ path: shot });
    // Shut this notebook's kernel down before the next one starts (two cores).
    await page.evaluate(`${PANEL}.sessionContext.shutdown()`).catch(() => {});
  }
}

describe("JupyterLab in Chromium, quick profile", { skip }, () => {
  let server: JupyterServer | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let profile: string;

  before(async () => {
    fs.rmSync(workDir, { recursive: true, force: true });
    fs.mkdirSync(workDir, { recursive: true });
    for (const nb of notebooks) fs.copyFileSync(path.join(root, "notebooks", nb), path.join(workDir, nb));
    server = await startJupyter("lab", {
      // window.jupyterapp in JupyterLab and in Notebook 7, for reading the notebook's model
      args: [
        "--LabApp.expose_app_in_browser=True",
        "--JupyterNotebookApp.expose_app_in_browser=True",
        `--ServerApp.root_dir=${workDir}`,
      ],
      env: { REPORT_PROFILE: "quick" },
      labSettings: {
        "@jupyterlab/docmanager-extension/plugin": { autosave: false },
        "@jupyterlab/apputils-extension/notification": { fetchNews: "false", checkForUpdates: false },
      },
    });
    const { chromium } = require("playwright-core") as typeof import("playwright-core");
    profile = fs.mkdtempSync(path.join(os.tmpdir(), "jupyterlab-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath(),
      args: CHROMIUM_ARGS,
      headless: true,
      viewport: { width: 1280, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    // Leaving a notebook with unsaved outputs asks "leave page?": answer yes.
    page.on("dialog", (d) => void d.accept());
  });

  after(async () => {
    await context?.close();
    await server?.kill();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });

  for (const nb of notebooks) {
    test(
      `JupyterLab: ${nb} restarts and runs all cells without errors; figures interactive, images and tables shown`,
      { timeout: 12 * 60_000 },
      async () => {
        await runNotebook(
          page,
          `${server!.base}/lab/tree/${nb}?reset&token=${server!.token}`,
          nb,
          path.join(outDir, `${nb.slice(0, 2)}.png`),
          nb === MENU_EXPORT_NOTEBOOK ? path.join(outDir, nb.replace(/\.ipynb$/, ".pdf")) : undefined,
        );
      },
    );
  }

  test(
    `Notebook 7: ${NOTEBOOK7_NOTEBOOK} restarts and runs all cells the same way`,
    { timeout: 12 * 60_000 },
    async () => {
      await runNotebook(
        page,
        `${server!.base}/notebooks/${NOTEBOOK7_NOTEBOOK}?token=${server!.token}`,
        `Notebook 7 ${NOTEBOOK7_NOTEBOOK}`,
        path.join(outDir, `notebook7-${NOTEBOOK7_NOTEBOOK.slice(0, 2)}.png`),
      );
    },
  );
});
