/**
 * Static rendering in headless Chromium: one browser and one plotly page per process,
 * started on first use and reused, so a figure costs tens of milliseconds after start-up.
 *
 * The browser must not keep a notebook process alive: its pipes and child process are
 * unref'd, a ref'd timer holds the event loop only while a request is in flight, and on
 * `beforeExit` the browser is closed properly (so no zombie chromium is left behind).
 */
import * as fs from "fs";

/** Debian's Chromium; CHROMIUM_PATH overrides it (read at launch). */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH || "/usr/bin/chromium";
}
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Thrown when no Chromium can be started; the message names the package to install. */
export class BrowserMissingError extends Error {
  constructor(detail: string) {
    super(
      `headless Chromium is not available at ${chromiumPath()} (${detail}). ` +
        `Install it with \`sudo apt-get install chromium\` (Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium/Chrome binary.`,
    );
    this.name = "BrowserMissingError";
  }
}

type Browser = import("playwright-core").Browser;
type Page = import("playwright-core").Page;

let browserPromise: Promise<Browser> | null = null;
let plotPagePromise: Promise<Page> | null = null;
let inFlight = 0;
let keepAlive: NodeJS.Timeout | null = null;
let closing = false;

/** Holds the event loop open while `work` runs; the browser's own handles are unref'd. */
export async function holdOpen<T>(work: () => Promise<T>): Promise<T> {
  if (inFlight++ === 0) keepAlive = setInterval(() => {}, 1 << 30);
  try {
    return await work();
  } finally {
    if (--inFlight === 0 && keepAlive) {
      clearInterval(keepAlive);
      keepAlive = null;
    }
  }
}

function activeHandles(): any[] {
  return (process as any)._getActiveHandles?.() ?? [];
}

async function launch(): Promise<Browser> {
  if (!fs.existsSync(chromiumPath())) throw new BrowserMissingError("no such file");
  const { chromium } = require("playwright-core") as typeof import("playwright-core");
  const before = new Set(activeHandles());
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
  } catch (e: any) {
    throw new BrowserMissingError(String(e?.message ?? e).split("\n")[0]);
  }
  browser.on("disconnected", () => {
    browserPromise = null;
    plotPagePromise = null;
  });
  // The new handles are chromium's ChildProcess and its stdio/IPC pipes.
  for (const h of activeHandles()) if (!before.has(h)) h.unref?.();
  process.once("beforeExit", () => {
    if (closing) return;
    closing = true;
    void holdOpen(() => browser.close().catch(() => {}));
  });
  return browser;
}

/** The process-wide browser, launched on first use. A failed launch is retried next time. */
export function getBrowser(): Promise<Browser> {
  if (!browserPromise) {
    browserPromise = holdOpen(launch);
    browserPromise.catch(() => {
      browserPromise = null;
    });
  }
  return browserPromise;
}

/** True when a browser is running in this process (for benchmarks and tests). */
export function browserStarted(): boolean {
  return browserPromise !== null;
}

/**
 * plotly.js's cartesian bundle: every trace type the figures use (scatter, bar, heatmap,
 * contour, image) at 1.3 MB, against 4.8 MB for the full bundle. Chromium loads it in 0.6 s
 * instead of 1.9 s, once per process that renders a figure (each notebook run), and it draws
 * the same pixels: the committed notebooks' 20 figures render byte-identical with either.
 */
function plotlyBundlePath(): string {
  return require.resolve("plotly.js-cartesian-dist-min/plotly-cartesian.min.js");
}

/** A blank page with plotly.js loaded from node_modules (no network). */
async function plotPage(): Promise<Page> {
  if (!plotPagePromise) {
    plotPagePromise = holdOpen(async () => {
      const browser = await getBrowser();
      const page = await browser.newPage();
      await page.setContent("<!doctype html><html><body style='margin:0'></body></html>");
      await page.addScriptTag({ path: plotlyBundlePath() });
      return page;
    });
    plotPagePromise.catch(() => {
      plotPagePromise = null;
    });
  }
  return plotPagePromise;
}

/** Starts the browser and loads plotly now, e.g. to time start-up apart from figures. */
export async function warmUp(): Promise<void> {
  await plotPage();
}

export interface RenderOptions {
  width: number;
  height: number;
  /** Pixel ratio: the PNG is width*scale x height*scale pixels. Default 1. */
  scale?: number;
}

/** Renders a plotly figure `{data, layout}` to PNG bytes of exactly width*scale x height*scale pixels. */
export async function renderPlotlyPng(fig: { data: unknown[]; layout: unknown }, opts: RenderOptions): Promise<Buffer> {
  const { width, height, scale = 1 } = opts;
  if (!(width > 0 && height > 0 && scale > 0))
    throw new Error(`renderPng: width, height and scale must be positive (got ${width}x${height} at ${scale})`);
  return holdOpen(async () => {
    const page = await plotPage();
    const url = await page.evaluate(
      async ({ fig, width, height, scale }) => {
        const Plotly = (window as any).Plotly;
        return Plotly.toImage(
          { data: fig.data, layout: { ...(fig.layout as object), width, height } },
          { format: "png", width, height, scale },
        );
      },
      { fig, width, height, scale },
    );
    const prefix = "data:image/png;base64,";
    if (typeof url !== "string" || !url.startsWith(prefix))
      throw new Error("renderPng: plotly did not return a PNG data URL");
    return Buffer.from(url.slice(prefix.length), "base64");
  });
}

/**
 * Runs `work` with a fresh page of the shared browser (e.g. printing a PDF) and closes the
 * page afterwards. Use this rather than holding the browser: the event loop is only held
 * open inside it.
 */
export async function withPage<T>(
  work: (page: Page) => Promise<T>,
  options: { javaScriptEnabled?: boolean } = {},
): Promise<T> {
  return holdOpen(async () => {
    const browser = await getBrowser();
    const page = await browser.newPage(options);
    try {
      return await work(page);
    } finally {
      await page.close().catch(() => {});
    }
  });
}

/** Closes the browser now (tests and scripts that want a clean, explicit shutdown). */
export async function closeBrowser(): Promise<void> {
  const p = browserPromise;
  browserPromise = null;
  plotPagePromise = null;
  if (!p) return;
  await holdOpen(async () => {
    const b = await p.catch(() => null);
    await b?.close().catch(() => {});
  });
}

/** Width and height stored in a PNG's IHDR chunk. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.length < 24 || sig.some((b, i) => png[i] !== b)) throw new Error("pngSize: not a PNG");
  const view = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.readUInt32BE(16), height: view.readUInt32BE(20) };
}
