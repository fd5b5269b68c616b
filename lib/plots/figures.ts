/**
 * Figure builders for the report, as plain plotly specs `{ data, layout }`, and
 * `showFigure`, which shows one notebook output carrying the interactive plotly JSON
 * (JupyterLab and Notebook 7 through plotly's extension, VS Code) and a static PNG (nbconvert
 * PDF/HTML, GitHub, the project's own export). No text/html: exporters that prefer HTML
 * would pick it and show an empty div once scripts are stripped.
 *
 * Inputs are checked up front: a NaN, an Infinity or mismatched lengths name the builder,
 * the series and the index, rather than producing a silently broken chart.
 */
import { displayBundle } from "../runtime/display";
import { PNG } from "pngjs";
import { BrowserMissingError, renderPlotlyPng } from "./render";
import { palettePng } from "./png";

export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

export interface Figure {
  data: any[];
  layout: any;
}

type Numbers = ArrayLike<number>;

// ---------------------------------------------------------------- checks

function describe(v: unknown): string {
  if (typeof v !== "number") return `not a number (${v === undefined ? "undefined" : JSON.stringify(v)})`;
  return Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
}

/** Throws `fn: what[i] is NaN` for the first non-finite value. */
export function checkFinite(fn: string, what: string, values: Numbers): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`${fn}: ${what}[${i}] is ${describe(v)}`);
  }
}

function checkPositive(fn: string, what: string, values: Numbers, axis: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!(values[i] > 0))
      throw new Error(`${fn}: ${what}[${i}] is ${values[i]}, but the ${axis} axis is logarithmic (values must be > 0)`);
  }
}

function checkNonEmpty(fn: string, what: string, list: ArrayLike<unknown> | undefined): void {
  if (!list || list.length === 0) throw new Error(`${fn}: ${what} is empty`);
}

/** Rounds to `digits` significant digits: keeps the saved notebook JSON small. */
function round(values: Numbers, digits = 5): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Number(values[i].toPrecision(digits));
  return out;
}

// ---------------------------------------------------------------- shared style

const FONT = { family: "DejaVu Sans, Arial, sans-serif", size: 14, color: "#222" };

/** Top margin for a title: 60 px for one line, 30 more per `<br>` (a subtitle needs room under the first line). */
function titleMargin(title: string | undefined): number {
  if (!title) return 30;
  const lines = title.split(/<br\s*\/?>/i).length;
  return 60 + 30 * (lines - 1);
}

function baseLayout(title: string | undefined): any {
  return {
    title: title ? { text: title, x: 0.5, xanchor: "center", font: { size: 18 } } : undefined,
    font: FONT,
    paper_bgcolor: "white",
    plot_bgcolor: "white",
    margin: { l: 80, r: 30, t: titleMargin(title), b: 70 },
    legend: { bgcolor: "rgba(255,255,255,0.8)", bordercolor: "#ccc", borderwidth: 1 },
  };
}

function axis(title: string | undefined, log = false): any {
  return {
    title: { text: title ?? "" },
    type: log ? "log" : "linear",
    showline: true,
    mirror: true,
    linecolor: "#444",
    ticks: "outside",
    gridcolor: "#e6e6e6",
    zeroline: false,
    // Log axes read best as powers of ten; linear ones as plain numbers (10,000, not 1x10^4).
    exponentformat: log ? "power" : "none",
    separatethousands: !log,
  };
}

/** Several series: the legend goes under the plot, so it does not squeeze the plotting area. */
function legendBelow(layout: any, seriesCount: number): void {
  if (seriesCount < 2) {
    layout.showlegend = false;
    return;
  }
  layout.legend = { ...layout.legend, orientation: "h", x: 0.5, xanchor: "center", y: -0.26, yanchor: "top" };
  layout.margin = { ...layout.margin, b: 70 + 26 * Math.ceil(seriesCount / 2) };
}

// ---------------------------------------------------------------- line charts

export type Dash = "solid" | "dash" | "dot" | "dashdot" | "longdash";

export interface LineSeries {
  name: string;
  x: Numbers;
  y: Numbers;
  mode?: "lines" | "markers" | "lines+markers";
  /** CSS colour; by default plotly's colour cycle. Give related series one colour and tell them apart by `dash`. */
  color?: string;
  /** Line style, so series stay apart in greyscale print and where colours overlap. */
  dash?: Dash;
  /** Marker symbol (plotly name, e.g. "circle", "square", "diamond"). */
  symbol?: string;
}

export interface LineChartSpec {
  title: string;
  xTitle: string;
  yTitle: string;
  xLog?: boolean;
  yLog?: boolean;
  series: LineSeries[];
}

/** Line styles cycled through when series give none (learning curves): order of the series. */
export const DASH_CYCLE: Dash[] = ["solid", "dash", "dot", "dashdot", "longdash"];

function lineTraces(
  fn: string,
  spec: { series: LineSeries[]; xLog?: boolean; yLog?: boolean },
  defaultDash?: (k: number) => Dash,
): any[] {
  checkNonEmpty(fn, "series", spec.series);
  return spec.series.map((s, k) => {
    const label = `series "${s.name ?? k}"`;
    if (!s.x || !s.y) throw new Error(`${fn}: ${label} needs both x and y`);
    if (s.x.length !== s.y.length)
      throw new Error(`${fn}: ${label} has ${s.x.length} x values but ${s.y.length} y values`);
    checkFinite(fn, `${label} x`, s.x);
    checkFinite(fn, `${label} y`, s.y);
    if (spec.xLog) checkPositive(fn, `${label} x`, s.x, "x");
    if (spec.yLog) checkPositive(fn, `${label} y`, s.y, "y");
    return {
      type: "scatter",
      name: s.name,
      x: round(s.x, 7),
      y: round(s.y),
      mode: s.mode ?? (s.x.length > 40 ? "lines" : "lines+markers"),
      line: { width: 2, dash: s.dash ?? defaultDash?.(k) ?? "solid", ...(s.color ? { color: s.color } : {}) },
      marker: { size: 6, ...(s.color ? { color: s.color } : {}), ...(s.symbol ? { symbol: s.symbol } : {}) },
    };
  });
}

/**
 * Tick spacing for a log axis over these values, so labels never collide. Up to 2.5 decades:
 * labels at 1, 2 and 5 times each power of ten ("D2"); plotly's default there labels every
 * digit, and the digits 6 to 9 run into each other and into the next power of ten. Wider
 * ranges: one label per power of ten (two beyond 8 decades), with unlabelled minor ticks.
 */
export function logAxisTicks(values: number[]): Record<string, unknown> {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values)
    if (v > 0) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  const decades = lo <= hi ? Math.log10(hi / lo) : 0;
  if (decades <= 2.5) return { dtick: "D2" };
  return { dtick: decades > 8 ? 2 : 1, minor: { ticks: "outside", ticklen: 3, dtick: "D1", showgrid: false } };
}

export function lineChart(spec: LineChartSpec): Figure {
  const layout = baseLayout(spec.title);
  layout.xaxis = axis(spec.xTitle, spec.xLog);
  layout.yaxis = axis(spec.yTitle, spec.yLog);
  const all = (k: "x" | "y") => spec.series.flatMap((s) => Array.from(s[k]));
  if (spec.xLog) Object.assign(layout.xaxis, logAxisTicks(all("x")));
  if (spec.yLog) Object.assign(layout.yaxis, logAxisTicks(all("y")));
  legendBelow(layout, spec.series.length);
  return { data: lineTraces("lineChart", spec), layout };
}

export interface LearningCurvesSpec {
  title: string;
  xTitle?: string;
  yTitle?: string;
  yLog?: boolean;
  /** Series without a `dash` take solid, dash, dot, ... in order, so they differ in shape as well as colour. */
  series: (Omit<LineSeries, "mode"> & { mode?: LineSeries["mode"] })[];
  /**
   * The y axis spans the values at x >= yRangeFromX (with a margin), so the first steps of
   * training (accuracy near chance) do not squash the rest against the top of the axis. The
   * points left below the axis are named in a note under the plot. Default: all points.
   */
  yRangeFromX?: number;
}

/** y range [lo, hi] with a 5% margin over the values at x >= fromX, and the points it leaves out. */
export function dataRange(
  series: { name: string; x: Numbers; y: Numbers }[],
  fromX = -Infinity,
): { range: [number, number]; below: { name: string; x: number; y: number }[] } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series)
    for (let i = 0; i < s.y.length; i++)
      if (s.x[i] >= fromX) {
        lo = Math.min(lo, s.y[i]);
        hi = Math.max(hi, s.y[i]);
      }
  if (!(lo <= hi)) throw new Error(`dataRange: no point has x >= ${fromX}`);
  const pad = 0.05 * (hi - lo || Math.abs(hi) || 1);
  const range: [number, number] = [lo - pad, hi + pad];
  const below: { name: string; x: number; y: number }[] = [];
  for (const s of series)
    for (let i = 0; i < s.y.length; i++) if (s.y[i] < range[0]) below.push({ name: s.name, x: s.x[i], y: s.y[i] });
  return { range, below };
}

/** Accuracy or cost per iteration/epoch, one line per series (train, validation, test...). */
export function learningCurves(spec: LearningCurvesSpec): Figure {
  const fn = "learningCurves";
  const layout = baseLayout(spec.title);
  layout.xaxis = axis(spec.xTitle ?? "iteration");
  layout.yaxis = axis(spec.yTitle ?? "accuracy", spec.yLog);
  layout.hovermode = "x unified";
  legendBelow(layout, spec.series.length);
  const data = lineTraces(fn, spec, (k) => DASH_CYCLE[k % DASH_CYCLE.length]);
  if (!spec.yLog) {
    const { range, below } = dataRange(spec.series, spec.yRangeFromX);
    layout.yaxis.range = range;
    if (below.length > 0) {
      const firstX = Math.min(...below.map((p) => p.x));
      const lastX = Math.max(...below.map((p) => p.x));
      const where =
        firstX === lastX ? `at ${layout.xaxis.title.text} ${lastX}` : `up to ${layout.xaxis.title.text} ${lastX}`;
      const lowest = below.reduce((a, b) => (b.y < a.y ? b : a));
      layout.annotations = [
        {
          text: `below the axis: ${below.length} point${below.length === 1 ? "" : "s"} ${where} (lowest ${Number(lowest.y.toPrecision(3))})`,
          xref: "paper",
          yref: "paper",
          x: 1,
          y: 0.02,
          xanchor: "right",
          yanchor: "bottom",
          showarrow: false,
          font: { size: 12, color: "#555" },
          bgcolor: "rgba(255,255,255,0.8)",
        },
      ];
    }
  }
  return { data, layout };
}

// ---------------------------------------------------------------- bar charts

export interface BarChartSpec {
  title: string;
  xTitle: string;
  yTitle: string;
  yLog?: boolean;
  categories: string[];
  series: { name: string; y: Numbers }[];
}

export function barChart(spec: BarChartSpec): Figure {
  const fn = "barChart";
  checkNonEmpty(fn, "categories", spec.categories);
  checkNonEmpty(fn, "series", spec.series);
  const data = spec.series.map((s) => {
    const label = `series "${s.name}"`;
    if (s.y.length !== spec.categories.length)
      throw new Error(`${fn}: ${label} has ${s.y.length} values but there are ${spec.categories.length} categories`);
    checkFinite(fn, `${label} y`, s.y);
    if (spec.yLog) checkPositive(fn, `${label} y`, s.y, "y");
    return { type: "bar", name: s.name, x: spec.categories, y: round(s.y) };
  });
  const layout = baseLayout(spec.title);
  layout.xaxis = { ...axis(spec.xTitle), type: "category" };
  layout.yaxis = axis(spec.yTitle, spec.yLog);
  layout.barmode = "group";
  return { data, layout };
}

// ---------------------------------------------------------------- image panels

/*
 * All panels of a grid go into ONE heatmap (or image) trace on one pair of axes, tiled
 * with null gaps: a subplot per panel costs plotly a full axis layout each and made a
 * grid of ten images several times slower to render.
 */

interface Tiling {
  layout: any;
  /** Columns/rows of the tiled matrix. */
  totalW: number;
  totalH: number;
  /** Top-left matrix cell of panel k. */
  origin: (k: number) => [number, number];
}

function tile(
  n: number,
  cols: number,
  w: number,
  h: number,
  opts: { titled: boolean; title?: string; colorbar: boolean },
): Tiling {
  const rows = Math.ceil(n / cols);
  const panel = Math.max(60, Math.min(160, Math.floor(880 / cols)));
  const px = panel / w; // screen pixels per image pixel
  const gapX = Math.max(1, Math.ceil(12 / px));
  const gapY = Math.max(1, Math.ceil((opts.titled ? 24 : 12) / px));
  const totalW = cols * w + (cols - 1) * gapX;
  const totalH = rows * h + (rows - 1) * gapY;
  const top = (opts.title ? 60 : 12) + (opts.titled ? 20 : 0);
  const right = opts.colorbar ? 100 : 12;
  const margin = { l: 12, r: right, t: top, b: 12 };
  const layout = baseLayout(opts.title);
  layout.margin = margin;
  layout.width = Math.round(margin.l + margin.r + totalW * px);
  layout.height = Math.round(margin.t + margin.b + totalH * px);
  layout.showlegend = false;
  if (layout.title) Object.assign(layout.title, { y: 1 - 20 / layout.height, yanchor: "top" });
  const hidden = { showticklabels: false, ticks: "", showgrid: false, zeroline: false, showline: false };
  layout.xaxis = { ...hidden, range: [-0.5, totalW - 0.5], constrain: "domain" };
  layout.yaxis = { ...hidden, range: [totalH - 0.5, -0.5], scaleanchor: "x", constrain: "domain" };
  const origin = (k: number): [number, number] => [(k % cols) * (w + gapX), Math.floor(k / cols) * (h + gapY)];
  layout.shapes = Array.from({ length: n }, (_, k) => {
    const [x, y] = origin(k);
    return {
      type: "rect",
      xref: "x",
      yref: "y",
      x0: x - 0.5,
      x1: x + w - 0.5,
      y0: y - 0.5,
      y1: y + h - 0.5,
      line: { color: "#888", width: 1 },
    };
  });
  return { layout, totalW, totalH, origin };
}

function titleAnnotations(titles: string[], w: number, origin: Tiling["origin"]): any[] {
  return titles.map((text, k) => {
    const [x, y] = origin(k);
    return {
      text,
      xref: "x",
      yref: "y",
      x: x + (w - 1) / 2,
      y: y - 0.5,
      xanchor: "center",
      yanchor: "bottom",
      showarrow: false,
      font: { size: 13 },
    };
  });
}

/**
 * The panels tiled into one picture, `channels` bytes per pixel, gaps white (the page's
 * colour); `pixel(img, i, out)` writes image pixel i's bytes. A grid travels as this one
 * PNG (a plotly image trace's `source`): a matrix of numbers for plotly's heatmap stored
 * one number per line in the notebook (1.7 MB for Figure 1's hundred digits).
 */
function tiledPng(
  images: Numbers[],
  w: number,
  h: number,
  t: Tiling,
  channels: 1 | 3,
  pixel: (img: Numbers, i: number, out: Uint8Array, at: number) => void,
): string {
  const bytes = new Uint8Array(t.totalW * t.totalH * channels).fill(255);
  images.forEach((img, k) => {
    const [x0, y0] = t.origin(k);
    for (let r = 0; r < h; r++)
      for (let c = 0; c < w; c++) pixel(img, r * w + c, bytes, ((y0 + r) * t.totalW + x0 + c) * channels);
  });
  const colorType = channels === 1 ? 0 : 2;
  const options = { colorType, inputColorType: colorType, inputHasAlpha: false, deflateLevel: 9 } as const;
  const png = new PNG({ width: t.totalW, height: t.totalH, ...options });
  png.data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return `data:image/png;base64,${PNG.sync.write(png, options).toString("base64")}`;
}

/** An image trace showing a tiled PNG with its top-left pixel at (0, 0), one axis unit per pixel. */
function imageTrace(name: string, source: string, hovertemplate: string): any {
  return { type: "image", name, source, x0: 0, y0: 0, dx: 1, dy: 1, hovertemplate };
}

/** The colour of `t` in [0, 1] on a plotly colour scale of [position, "#rrggbb"] stops, interpolated in RGB as plotly does. */
export function scaleColour(scale: (string | number)[][], t: number): [number, number, number] {
  const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const x = Math.min(1, Math.max(0, t));
  for (let k = 1; k < scale.length; k++) {
    const [p0, c0] = scale[k - 1] as [number, string];
    const [p1, c1] = scale[k] as [number, string];
    if (x <= p1 || k === scale.length - 1) {
      const f = p1 === p0 ? 0 : (x - p0) / (p1 - p0);
      const [a, b] = [rgb(c0), rgb(c1)];
      return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * f)) as [number, number, number];
    }
  }
  throw new Error(`scaleColour: empty colour scale`);
}

function checkImages(fn: string, images: Numbers[], w: number, h: number, channels: number, titles?: string[]): void {
  checkNonEmpty(fn, "images", images);
  if (!(Number.isInteger(w) && w > 0 && Number.isInteger(h) && h > 0))
    throw new Error(`${fn}: width and height must be positive integers (got ${w}x${h})`);
  images.forEach((img, k) => {
    const want = w * h * channels;
    if (!img || img.length !== want)
      throw new Error(
        `${fn}: images[${k}] has ${img?.length ?? 0} values, expected ${w}x${h}${channels > 1 ? `x${channels}` : ""} = ${want}`,
      );
    checkFinite(fn, `images[${k}]`, img);
  });
  if (titles && titles.length !== images.length)
    throw new Error(`${fn}: ${titles.length} titles for ${images.length} images`);
}

/** Blue (negative), white (zero), red (positive): ColorBrewer RdBu, white in the middle. */
const DIVERGING = [
  [0, "#2166ac"],
  [0.25, "#67a9cf"],
  [0.5, "#f7f7f7"],
  [0.75, "#ef8a62"],
  [1, "#b2182b"],
];

export interface WeightImagesSpec {
  title?: string;
  images: Numbers[];
  width: number;
  height: number;
  titles?: string[];
  cols?: number;
}

/** Weight pictures on one diverging colour scale centred at zero (shared by all panels, one colour bar). */
export function weightImages(spec: WeightImagesSpec): Figure {
  const fn = "weightImages";
  const { images, width: w, height: h, titles } = spec;
  checkImages(fn, images, w, h, 1, titles);
  const n = images.length;
  const cols = Math.max(1, Math.min(n, spec.cols ?? (n === 10 ? 5 : Math.ceil(Math.sqrt(n)))));
  let limit = 0;
  for (const img of images) for (let i = 0; i < img.length; i++) limit = Math.max(limit, Math.abs(img[i]));
  if (limit === 0) limit = 1;
  const t = tile(n, cols, w, h, { titled: !!titles, title: spec.title, colorbar: true });
  if (titles) t.layout.annotations = titleAnnotations(titles, w, t.origin);
  const source = tiledPng(images, w, h, t, 3, (img, i, out, at) =>
    out.set(scaleColour(DIVERGING, (img[i] / limit + 1) / 2), at),
  );
  // The colour bar belongs to a heatmap: a two-cell one under the first panel, drawn fully transparent.
  const colourBar = {
    type: "heatmap",
    name: "colour scale",
    z: [[-limit, limit]],
    x: [0, 1],
    y: [0, 0],
    zmin: -limit,
    zmax: limit,
    zmid: 0,
    colorscale: DIVERGING,
    opacity: 0,
    hoverinfo: "skip",
    colorbar: { thickness: 14, len: 0.9, outlinewidth: 0, title: { text: "weight", side: "top" } },
  };
  return { data: [imageTrace("weights", source, "pixel (%{x}, %{y})<extra></extra>"), colourBar], layout: t.layout };
}

export interface ImageGridSpec {
  title?: string;
  images: Numbers[];
  width: number;
  height: number;
  cols: number;
  titles?: string[];
  /** 1: grey in [0,1] (0 black). 3: RGB interleaved (r,g,b per pixel) in [0,1]. */
  channels?: 1 | 3;
}

/** Digits, faces: grey or RGB images in [0,1] on a grid, each with an optional title. */
export function imageGrid(spec: ImageGridSpec): Figure {
  const fn = "imageGrid";
  const { images, width: w, height: h, titles } = spec;
  const channels = spec.channels ?? 1;
  if (channels !== 1 && channels !== 3) throw new Error(`${fn}: channels must be 1 or 3 (got ${channels})`);
  checkImages(fn, images, w, h, channels, titles);
  images.forEach((img, k) => {
    for (let i = 0; i < img.length; i++) {
      if (img[i] < 0 || img[i] > 1)
        throw new Error(`${fn}: images[${k}][${i}] is ${img[i]}, outside [0,1] (scale 0-255 images by 1/255)`);
    }
  });
  if (!(spec.cols >= 1)) throw new Error(`${fn}: cols must be at least 1 (got ${spec.cols})`);
  const cols = Math.min(Math.floor(spec.cols), images.length);
  const t = tile(images.length, cols, w, h, { titled: !!titles, title: spec.title, colorbar: false });
  if (titles) t.layout.annotations = titleAnnotations(titles, w, t.origin);
  const source =
    channels === 1
      ? tiledPng(images, w, h, t, 1, (img, i, out, at) => (out[at] = Math.round(img[i] * 255)))
      : tiledPng(images, w, h, t, 3, (img, i, out, at) => {
          for (let c = 0; c < 3; c++) out[at + c] = Math.round(img[i * 3 + c] * 255);
        });
  // plotly's image trace draws a PNG `source` far faster than a nested array of numbers, and stores smaller.
  return { data: [imageTrace("images", source, "pixel (%{x}, %{y})<extra></extra>")], layout: t.layout };
}

// ---------------------------------------------------------------- contour + trajectories

export interface ContourPathsSpec {
  title: string;
  xTitle: string;
  yTitle: string;
  x: Numbers;
  y: Numbers;
  /** z[j][i] is the value at (x[i], y[j]). */
  z: Numbers[];
  paths: { name: string; points: [number, number][] }[];
  /** Label of the colour bar, default "cost". */
  zTitle?: string;
}

const PATH_COLOURS = ["#d62728", "#ff7f0e", "#111111", "#e377c2", "#17becf", "#2ca02c"];

/** A cost surface as filled contours with optimisation trajectories drawn over it (arrows show direction). */
export function contourPaths(spec: ContourPathsSpec): Figure {
  const fn = "contourPaths";
  checkNonEmpty(fn, "x", spec.x);
  checkNonEmpty(fn, "y", spec.y);
  checkFinite(fn, "x", spec.x);
  checkFinite(fn, "y", spec.y);
  if (spec.z.length !== spec.y.length)
    throw new Error(
      `${fn}: z has ${spec.z.length} rows but y has ${spec.y.length} values (z[j][i] is the value at y[j], x[i])`,
    );
  spec.z.forEach((row, j) => {
    if (row.length !== spec.x.length)
      throw new Error(`${fn}: z[${j}] has ${row.length} values but x has ${spec.x.length}`);
    checkFinite(fn, `z[${j}]`, row);
  });
  const data: any[] = [
    {
      type: "contour",
      name: spec.zTitle ?? "cost",
      x: round(spec.x, 7),
      y: round(spec.y, 7),
      z: spec.z.map((row) => round(row)),
      ncontours: 25,
      colorscale: "Blues",
      reversescale: true,
      contours: { coloring: "fill", showlines: true },
      line: { width: 0.5, color: "rgba(255,255,255,0.5)" },
      colorbar: { thickness: 14, title: { text: spec.zTitle ?? "cost", side: "right" } },
      showlegend: false,
    },
  ];
  spec.paths.forEach((p, k) => {
    const label = `path "${p.name}"`;
    checkNonEmpty(fn, `${label} points`, p.points);
    p.points.forEach((pt, i) => {
      if (!Array.isArray(pt) || pt.length !== 2) throw new Error(`${fn}: ${label} points[${i}] is not an [x, y] pair`);
      checkFinite(fn, `${label} points[${i}]`, pt);
    });
    const colour = PATH_COLOURS[k % PATH_COLOURS.length];
    data.push({
      type: "scatter",
      mode: "lines+markers",
      name: p.name,
      x: round(
        p.points.map((pt) => pt[0]),
        7,
      ),
      y: round(
        p.points.map((pt) => pt[1]),
        7,
      ),
      // Paths that run on top of each other stay apart by line style as well as colour.
      line: { color: colour, width: 2, dash: DASH_CYCLE[k % DASH_CYCLE.length] },
      marker: {
        color: colour,
        // Arrows point along the step that arrives at each point. The first point has no
        // step before it: plotly.js >= 2.35 draws an "arrow" with angleref "previous" there as
        // an empty path, so it gets size 0 and the start is drawn by the trace below instead.
        size: p.points.map((_, i) => (i === 0 ? 0 : 11)),
        symbol: "arrow",
        angleref: "previous",
        line: { width: 0 },
      },
    });
  });
  // Every start as a plain circle in its own trace: visible in every plotly.js version.
  const starts = spec.paths.map((p) => p.points[0]);
  if (starts.length > 0) {
    data.push({
      type: "scatter",
      mode: "markers",
      name: "start",
      x: round(
        starts.map((pt) => pt[0]),
        7,
      ),
      y: round(
        starts.map((pt) => pt[1]),
        7,
      ),
      marker: { symbol: "circle", size: 13, color: "white", line: { color: "#111", width: 2.5 } },
      hovertemplate: "start (%{x}, %{y})<extra></extra>",
    });
  }
  const layout = baseLayout(spec.title);
  layout.xaxis = { ...axis(spec.xTitle), showgrid: false, range: [spec.x[0], spec.x[spec.x.length - 1]] };
  layout.yaxis = { ...axis(spec.yTitle), showgrid: false, range: [spec.y[0], spec.y[spec.y.length - 1]] };
  // The legend goes under the plot, where it cannot cover a path or its start.
  layout.legend = { ...layout.legend, orientation: "h", x: 0.5, xanchor: "center", y: -0.16, yanchor: "top" };
  layout.margin = { ...layout.margin, b: 110 };
  layout.showlegend = spec.paths.length > 0;
  return { data, layout };
}

// ---------------------------------------------------------------- display

export const DEFAULT_SIZE = { width: 720, height: 450 };

export interface ShowOptions {
  width?: number;
  height?: number;
  /** PNG pixel ratio; the image is still shown at width x height. Default 1. */
  scale?: number;
}

/** Size used for the static image: explicit options, else the figure's own layout size, else 720x450. */
export function figureSize(fig: Figure, opts: ShowOptions = {}): { width: number; height: number } {
  return {
    width: opts.width ?? fig.layout?.width ?? DEFAULT_SIZE.width,
    height: opts.height ?? fig.layout?.height ?? DEFAULT_SIZE.height,
  };
}

/** PNG bytes of the figure; throws BrowserMissingError (naming the package) when Chromium is absent. */
export async function renderPng(fig: Figure, opts: ShowOptions = {}): Promise<Buffer> {
  return renderPlotlyPng(fig, { ...figureSize(fig, opts), scale: opts.scale ?? 1 });
}

/** One line for text-only front ends and logs. */
export function describeFigure(fig: Figure): string {
  const title = fig.layout?.title?.text;
  const kinds = [...new Set(fig.data.map((t) => t.type ?? "scatter"))].join("/");
  const names = fig.data.map((t) => t.name).filter((n) => typeof n === "string");
  const shown = names.slice(0, 6).join(", ") + (names.length > 6 ? `, ... (${names.length})` : "");
  return `Figure${title ? ` "${title}"` : ""}: ${fig.data.length} ${kinds} trace${fig.data.length === 1 ? "" : "s"}${shown ? ` (${shown})` : ""}`;
}

let warned = false;

/**
 * Displays the figure as one output: interactive plotly JSON + static PNG + text. Without
 * Chromium the PNG is left out (with a one-time warning) and the interactive part still works.
 */
export async function showFigure(fig: Figure, opts: ShowOptions = {}): Promise<void> {
  const size = figureSize(fig, opts);
  let png: Buffer | null = null;
  try {
    // Stored in the notebook: a palette PNG at the size shown, a third of Chromium's RGBA bytes.
    png = palettePng(await renderPng(fig, opts));
  } catch (e) {
    if (!(e instanceof BrowserMissingError)) throw e;
    if (!warned) {
      warned = true;
      process.stderr.write(`showFigure: no static PNG for this figure (exports will miss it): ${e.message}\n`);
    }
  }
  const bundle: Record<string, string | Buffer | object> = {
    [PLOTLY_MIME]: { data: fig.data, layout: { ...fig.layout, width: size.width, height: size.height } },
    "text/plain": describeFigure(fig),
  };
  if (png) bundle["image/png"] = png;
  displayBundle(bundle, png ? { "image/png": size } : {});
}
