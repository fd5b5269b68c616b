/**
 * Real browser check: Debian's classic Jupyter Notebook on loopback with a token, a small
 * notebook with a chart opened in headless Chromium, all cells run, and plotly's SVG must
 * appear (the interactive chart, drawn by jupyter/nbextension/plotly-mime). Saves a
 * screenshot to build/screenshots/jupyter-plotly.png. The server is always killed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ChildProcess, execFileSync, spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { closeBrowser, withPage } from "@csc411/lib/plots";
import { projectRoot } from "@csc411/lib/runtime";
import { toLines } from "../tools/ipynb";

const root = projectRoot();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForServer(url: string, server: ChildProcess, log: () => string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (server.exitCode !== null) throw new Error(`jupyter notebook exited with ${server.exitCode}:\n${log()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`jupyter notebook did not answer on ${url} within ${timeoutMs / 1000} s:\n${log()}`);
}

function testNotebook(): object {
  const code = (id: string, src: string) => ({
    id,
    cell_type: "code",
    metadata: {},
    execution_count: null,
    outputs: [],
    source: toLines(src),
  });
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" },
      language_info: { name: "typescript" },
    },
    cells: [
      { id: "title", cell_type: "markdown", metadata: {}, source: ["# Browser check\n"] },
      code("imports", 'import { learningCurves, showFigure } from "@csc411/lib/plots/figures";'),
      code(
        "chart",
        'await showFigure(learningCurves({ title: "Browser check", xTitle: "epoch", series: [\n' +
          '  { name: "train", x: [1, 2, 3, 4, 5], y: [0.5, 0.7, 0.8, 0.85, 0.9] },\n' +
          '  { name: "test", x: [1, 2, 3, 4, 5], y: [0.45, 0.65, 0.75, 0.8, 0.82] },\n' +
          "] }));",
      ),
    ],
  };
}

test(
  "classic Jupyter Notebook renders an interactive plotly chart from a tslab notebook",
  { timeout: 300_000 },
  async () => {
    execFileSync("bash", [path.join(root, "scripts", "setup-jupyter.sh")], { stdio: ["ignore", "ignore", "inherit"] });
    const dir = path.join(root, "build", "jupyter-test");
    const runtime = path.join(dir, ".runtime");
    fs.mkdirSync(runtime, { recursive: true });
    fs.writeFileSync(path.join(dir, "browser-check.ipynb"), JSON.stringify(testNotebook(), null, 1));
    const port = await freePort();
    const token = randomBytes(16).toString("hex");
    let output = "";
    const server = spawn(
      "/usr/bin/jupyter",
      [
        "notebook",
        "--no-browser",
        "--ip=127.0.0.1",
        `--port=${port}`,
        "--port-retries=0",
        `--NotebookApp.token=${token}`,
        `--notebook-dir=${dir}`,
        ...(process.getuid?.() === 0 ? ["--allow-root"] : []),
      ],
      {
        detached: true, // own process group: killing it takes the kernel down too
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          ...process.env,
          JUPYTER_PATH: path.join(root, ".jupyter", "share", "jupyter"),
          JUPYTER_CONFIG_PATH: path.join(root, ".jupyter", "etc", "jupyter"),
          JUPYTER_RUNTIME_DIR: runtime,
        },
      },
    );
    server.stdout!.on("data", (d) => (output += d));
    server.stderr!.on("data", (d) => (output += d));
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitForServer(`${base}/api/status?token=${token}`, server, () => output);
      const shot = path.join(root, "build", "screenshots", "jupyter-plotly.png");
      const result = await withPage(async (page) => {
        const consoleLines: string[] = [];
        page.on("console", (m) => consoleLines.push(m.text()));
        await page.setViewportSize({ width: 1100, height: 900 });
        await page.goto(`${base}/notebooks/browser-check.ipynb?token=${token}`, { waitUntil: "load" });
        await page.waitForFunction(() => (window as any).Jupyter?.notebook?.kernel?.is_connected?.(), null, {
          timeout: 60_000,
        });
        await page.waitForFunction(() => (window as any).require?.defined?.("nbextensions/plotly-mime/main"), null, {
          timeout: 30_000,
        });
        await page.evaluate(() => (window as any).Jupyter.notebook.execute_all_cells());
        try {
          await page.waitForSelector(".js-plotly-plot .main-svg", { timeout: 180_000 });
        } catch (e) {
          await page.screenshot({ path: shot, fullPage: true });
          const errors = await page.evaluate(() =>
            Array.from(document.querySelectorAll(".output_stderr, .output_error")).map((e) => e.textContent),
          );
          throw new Error(
            `no plotly SVG appeared (screenshot ${shot}); cell errors: ${JSON.stringify(errors)}; console: ${consoleLines.slice(-10).join(" | ")}`,
            { cause: e },
          );
        }
        await page.waitForTimeout(500);
        fs.mkdirSync(path.dirname(shot), { recursive: true });
        await page.screenshot({ path: shot, fullPage: true });
        return page.evaluate(() => ({
          svgs: document.querySelectorAll(".js-plotly-plot .main-svg").length,
          legend: Array.from(document.querySelectorAll(".js-plotly-plot .legendtext")).map((e) => e.textContent),
          title: document.querySelector(".js-plotly-plot .gtitle")?.textContent,
          errors: document.querySelectorAll(".output_error").length,
        }));
      });
      assert.ok(result.svgs >= 1);
      assert.deepEqual(result.legend, ["train", "test"]);
      assert.equal(result.title, "Browser check");
      assert.equal(result.errors, 0);
      assert.ok(fs.statSync(shot).size > 10_000);
    } finally {
      try {
        process.kill(-server.pid!, "SIGTERM");
      } catch {
        // already gone
      }
      await new Promise((r) => setTimeout(r, 500));
      try {
        process.kill(-server.pid!, "SIGKILL");
      } catch {
        // already gone
      }
      await closeBrowser();
    }
  },
);
