import { test } from "node:test";
import assert from "node:assert/strict";
import {
  PLOTLY_MIME,
  barChart,
  contourPaths,
  describeFigure,
  imageGrid,
  learningCurves,
  lineChart,
  logAxisTicks,
  renderPng,
  showFigure,
  weightImages,
  scaleColour,
} from "./figures";
import { closeBrowser, pngSize } from "./render";
import { sampleFigures } from "../../scripts/bench-figures";
import { PNG } from "pngjs";

/** Captures what displayBundle sends, through the same hook tslab uses. */
function captureDisplays(): {
  outputs: { data: Record<string, any>; metadata: Record<string, any> }[];
  restore: () => void;
} {
  const jupyter = require("tslab/dist/jupyter");
  const saved = jupyter.lastWriteDisplayData;
  const outputs: { data: Record<string, any>; metadata: Record<string, any> }[] = [];
  jupyter.lastWriteDisplayData = (msg: any) => outputs.push({ data: msg.data, metadata: msg.metadata });
  return { outputs, restore: () => (jupyter.lastWriteDisplayData = saved) };
}

// Runs first, before any browser is started in this process.
test("without a browser: renderPng names the package, showFigure still shows the interactive figure", async () => {
  process.env.CHROMIUM_PATH = "/nonexistent/chromium";
  const fig = lineChart({ title: "t", xTitle: "x", yTitle: "y", series: [{ name: "a", x: [1, 2], y: [3, 4] }] });
  await assert.rejects(renderPng(fig), /apt-get install chromium/);
  const cap = captureDisplays();
  const warn = process.stderr.write;
  let warning = "";
  process.stderr.write = ((s: string) => ((warning += s), true)) as any;
  try {
    await showFigure(fig);
  } finally {
    process.stderr.write = warn;
    cap.restore();
    delete process.env.CHROMIUM_PATH;
  }
  assert.equal(cap.outputs.length, 1);
  assert.deepEqual(Object.keys(cap.outputs[0].data).sort(), [PLOTLY_MIME, "text/plain"].sort());
  assert.match(warning, /apt-get install chromium/);
});

test("every figure kind is valid plotly JSON and renders to a PNG of the requested size", async () => {
  for (const [name, fig] of Object.entries(sampleFigures())) {
    const json = JSON.stringify(fig);
    assert.doesNotMatch(json, /NaN|Infinity/, name);
    const back = JSON.parse(json);
    assert.ok(Array.isArray(back.data) && back.data.length > 0, name);
    assert.equal(typeof back.layout, "object", name);
    for (const t of back.data)
      assert.ok(["scatter", "bar", "heatmap", "image", "contour"].includes(t.type), `${name}: ${t.type}`);
    const png = await renderPng(fig, { width: 400, height: 300 });
    assert.deepEqual(pngSize(png), { width: 400, height: 300 }, name);
    assert.ok(png.length > 2000, `${name}: PNG of ${png.length} bytes looks blank`);
  }
});

test("renderPng honours scale and the figure's own size", async () => {
  const fig = sampleFigures().weightImages;
  assert.deepEqual(pngSize(await renderPng(fig)), { width: fig.layout.width, height: fig.layout.height });
  assert.deepEqual(pngSize(await renderPng(fig, { width: 300, height: 200, scale: 2 })), { width: 600, height: 400 });
});

test("showFigure sends one output with plotly JSON, PNG and text, and no HTML", async () => {
  const cap = captureDisplays();
  try {
    await showFigure(sampleFigures().learningCurves, { width: 500, height: 320 });
  } finally {
    cap.restore();
  }
  assert.equal(cap.outputs.length, 1);
  const { data, metadata } = cap.outputs[0];
  assert.deepEqual(Object.keys(data).sort(), ["image/png", PLOTLY_MIME, "text/plain"].sort());
  assert.deepEqual(pngSize(Buffer.from(data["image/png"], "base64")), { width: 500, height: 320 });
  assert.deepEqual(metadata["image/png"], { width: 500, height: 320 });
  assert.equal(data[PLOTLY_MIME].layout.height, 320);
  assert.match(data["text/plain"], /Learning curves.*train, validation, test/);
});

test("scaleColour interpolates between stops", () => {
  const scale = [
    [0, "#000000"],
    [0.5, "#ff0000"],
    [1, "#ffffff"],
  ];
  const cases: [number, number[]][] = [
    [0, [0, 0, 0]],
    [0.25, [128, 0, 0]],
    [0.5, [255, 0, 0]],
    [0.75, [255, 128, 128]],
    [1, [255, 255, 255]],
    [-1, [0, 0, 0]],
    [2, [255, 255, 255]],
  ];
  for (const [t, rgb] of cases) assert.deepEqual(scaleColour(scale, t), rgb, String(t));
});

test("builders: content of the specs", () => {
  const w = weightImages({
    images: [
      [-2, 0, 1, 0.5],
      [0, 0, 0, 1],
    ],
    width: 2,
    height: 2,
    titles: ["a", "b"],
  });
  // One image trace (the panels as one PNG), and a transparent heatmap carrying the colour bar.
  assert.deepEqual(
    w.data.map((t: any) => t.type),
    ["image", "heatmap"],
  );
  assert.deepEqual([w.data[1].zmin, w.data[1].zmax, w.data[1].zmid, w.data[1].opacity], [-2, 2, 0, 0]);
  const wPng = PNG.sync.read(Buffer.from(w.data[0].source.replace("data:image/png;base64,", ""), "base64"));
  const wTile = w.layout.xaxis.range[1] + 0.5;
  assert.deepEqual([wPng.width, wPng.height], [wTile, w.layout.yaxis.range[0] + 0.5]);
  // First row of the first panel: -2 (the scale's blue end, #2166ac) and 0 (its white middle, #f7f7f7).
  assert.deepEqual([...wPng.data.subarray(0, 8)], [33, 102, 172, 255, 247, 247, 247, 255]);
  // The gap after the first panel is white.
  assert.deepEqual([...wPng.data.subarray(8, 11)], [255, 255, 255]);
  assert.deepEqual(
    w.layout.annotations.map((a: any) => a.text),
    ["a", "b"],
  );
  const g = imageGrid({
    images: [Float32Array.from([0, 0.5, 1, 0.25, 0.5, 0.75])],
    width: 2,
    height: 1,
    cols: 1,
    channels: 3,
  });
  assert.equal(g.data[0].type, "image");
  const png = Buffer.from(g.data[0].source.replace("data:image/png;base64,", ""), "base64");
  assert.deepEqual(pngSize(png), { width: 2, height: 1 });
  // Decoded pixels (pngjs reads back RGBA): 0, 0.5, 1 and 0.25, 0.5, 0.75 scaled to 0..255.
  assert.deepEqual([...PNG.sync.read(png).data], [0, 128, 255, 255, 64, 128, 191, 255]);
  const grey = imageGrid({ images: [[0, 0.5, 1, 0.2]], width: 2, height: 2, cols: 1 });
  const greyPng = PNG.sync.read(Buffer.from(grey.data[0].source.replace("data:image/png;base64,", ""), "base64"));
  assert.deepEqual(
    [...greyPng.data].filter((_, i) => i % 4 === 0),
    [0, 128, 255, 51],
  );
  const c = contourPaths({
    title: "c",
    xTitle: "x",
    yTitle: "y",
    x: [0, 1],
    y: [0, 1, 2],
    z: [
      [1, 2],
      [3, 4],
      [5, 6],
    ],
    paths: [
      {
        name: "gd",
        points: [
          [0, 0],
          [1, 1],
        ],
      },
    ],
  });
  assert.deepEqual(
    c.data.map((t) => [t.type, t.name]),
    [
      ["contour", "cost"],
      ["scatter", "gd"],
      ["scatter", "start"],
    ],
  );
  // The first arrow has no previous point (an empty path in plotly.js >= 2.35): hidden, and the start is a circle.
  assert.deepEqual(c.data[1].marker.size, [0, 11]);
  assert.deepEqual([c.data[2].x, c.data[2].y, c.data[2].marker.symbol], [[0], [0], "circle"]);
  assert.equal(c.layout.legend.orientation, "h");
  assert.ok(c.layout.legend.y < 0, "legend under the plot, not over the paths");
  const l = lineChart({
    title: "t",
    xTitle: "n",
    yTitle: "ms",
    xLog: true,
    yLog: true,
    series: [{ name: "a", x: [1, 10], y: [2, 3] }],
  });
  assert.deepEqual([l.layout.xaxis.type, l.layout.yaxis.type], ["log", "log"]);
  assert.equal(
    learningCurves({ title: "t", series: [{ name: "train", x: [1], y: [0.5] }] }).layout.xaxis.title.text,
    "iteration",
  );
  assert.equal(
    barChart({ title: "b", xTitle: "m", yTitle: "ms", categories: ["p", "q"], series: [{ name: "s", y: [1, 2] }] })
      .data[0].type,
    "bar",
  );
  assert.match(describeFigure(l), /^Figure "t": 1 scatter trace \(a\)$/);
});

test("bad input names the builder, the series and the index", () => {
  const cases: [() => unknown, RegExp][] = [
    [
      () =>
        lineChart({ title: "t", xTitle: "x", yTitle: "y", series: [{ name: "train", x: [1, 2, 3], y: [1, NaN, 3] }] }),
      /lineChart: series "train" y\[1\] is NaN/,
    ],
    [
      () => learningCurves({ title: "t", series: [{ name: "val", x: [1, Infinity], y: [1, 2] }] }),
      /learningCurves: series "val" x\[1\] is Infinity/,
    ],
    [
      () => learningCurves({ title: "t", series: [{ name: "test", x: [1, 2, 3], y: [1, 2] }] }),
      /series "test" has 3 x values but 2 y values/,
    ],
    [
      () =>
        lineChart({ title: "t", xTitle: "x", yTitle: "y", yLog: true, series: [{ name: "ms", x: [1, 2], y: [1, 0] }] }),
      /series "ms" y\[1\] is 0, but the y axis is logarithmic/,
    ],
    [() => lineChart({ title: "t", xTitle: "x", yTitle: "y", series: [] }), /lineChart: series is empty/],
    [
      () =>
        barChart({ title: "b", xTitle: "m", yTitle: "ms", categories: ["p", "q"], series: [{ name: "s", y: [1] }] }),
      /barChart: series "s" has 1 values but there are 2 categories/,
    ],
    [
      () =>
        barChart({ title: "b", xTitle: "m", yTitle: "ms", categories: ["p"], series: [{ name: "s", y: [-Infinity] }] }),
      /barChart: series "s" y\[0\] is -Infinity/,
    ],
    [
      () => weightImages({ images: [new Float32Array(784), new Float32Array(700)], width: 28, height: 28 }),
      /weightImages: images\[1\] has 700 values, expected 28x28 = 784/,
    ],
    [() => weightImages({ images: [[0, 1, NaN, 0]], width: 2, height: 2 }), /weightImages: images\[0\]\[2\] is NaN/],
    [() => weightImages({ images: [[0, 1, 2, 0]], width: 2, height: 2, titles: ["a", "b"] }), /2 titles for 1 images/],
    [
      () => imageGrid({ images: [[0, 255, 0, 0]], width: 2, height: 2, cols: 1 }),
      /imageGrid: images\[0\]\[1\] is 255, outside \[0,1\]/,
    ],
    [
      () => imageGrid({ images: [[0, 1, 0, 0]], width: 2, height: 2, cols: 1, channels: 3 }),
      /images\[0\] has 4 values, expected 2x2x3 = 12/,
    ],
    [
      () => contourPaths({ title: "c", xTitle: "x", yTitle: "y", x: [0, 1], y: [0, 1], z: [[1, 2], [3]], paths: [] }),
      /contourPaths: z\[1\] has 1 values but x has 2/,
    ],
    [
      () => contourPaths({ title: "c", xTitle: "x", yTitle: "y", x: [0, 1], y: [0, 1], z: [[1, 2]], paths: [] }),
      /z has 1 rows but y has 2 values/,
    ],
    [
      () =>
        contourPaths({
          title: "c",
          xTitle: "x",
          yTitle: "y",
          x: [0, 1],
          y: [0, 1],
          z: [
            [1, 2],
            [3, 4],
          ],
          paths: [
            {
              name: "momentum",
              points: [
                [0, 0],
                [NaN, 1],
              ],
            },
          ],
        }),
      /path "momentum" points\[1\]\[0\] is NaN/,
    ],
  ];
  for (const [make, message] of cases) assert.throws(make, message);
});

test.after(closeBrowser);

test("learning curves: dashes in series order, y axis ranged to the data from yRangeFromX, clipped points named", () => {
  const fig = learningCurves({
    title: "t",
    series: [
      { name: "train", x: [0, 10, 20, 30], y: [0.1, 0.8, 0.9, 0.95] },
      { name: "test", x: [0, 10, 20, 30], y: [0.1, 0.85, 0.9, 0.9] },
      { name: "other", x: [0, 10], y: [0.9, 0.9], dash: "dot", color: "#123456" },
    ],
    yRangeFromX: 10,
  });
  assert.deepEqual(
    fig.data.map((t) => t.line.dash),
    ["solid", "dash", "dot"],
  );
  assert.equal(fig.data[2].line.color, "#123456");
  // Values at x >= 10 span 0.8..0.95; 5% of 0.15 on each side.
  assert.deepEqual(
    fig.layout.yaxis.range.map((v: number) => Number(v.toFixed(4))),
    [0.7925, 0.9575],
  );
  assert.equal(fig.layout.annotations[0].text, "below the axis: 2 points at iteration 0 (lowest 0.1)");
  const all = learningCurves({ title: "t", series: [{ name: "a", x: [0, 1], y: [0.5, 1] }] });
  assert.deepEqual(all.layout.yaxis.range, [0.475, 1.025]);
  assert.equal(all.layout.annotations, undefined);
});

test("log axes: 1-2-5 labels up to 2.5 decades, one label per decade beyond, every other decade past 8", () => {
  const cases: [number[], unknown][] = [
    [[0.7, 60], { dtick: "D2" }],
    [[2, 512], { dtick: "D2" }],
    [[1e-7, 1], { dtick: 1, minor: { ticks: "outside", ticklen: 3, dtick: "D1", showgrid: false } }],
    [[1, 1e12], { dtick: 2, minor: { ticks: "outside", ticklen: 3, dtick: "D1", showgrid: false } }],
  ];
  for (const [values, want] of cases) assert.deepEqual(logAxisTicks(values), want, `${values}`);
  const fig = lineChart({
    title: "t",
    xTitle: "K",
    yTitle: "s",
    xLog: true,
    yLog: true,
    series: [{ name: "a", x: [2, 512], y: [1e-7, 1] }],
  });
  assert.equal(fig.layout.xaxis.dtick, "D2");
  assert.equal(fig.layout.yaxis.dtick, 1);
});

test("a two-line title gets a taller top margin, so its subtitle clears the plot", () => {
  const cases: [string, number][] = [
    ["Figure 8: one line", 60],
    ["Figure 10: first<br><sub>second</sub>", 90],
    ["a<br>b<br/>c", 120],
  ];
  for (const [title, top] of cases) {
    const fig = learningCurves({ title, series: [{ name: "train", x: [1], y: [0.5] }] });
    assert.equal(fig.layout.margin.t, top, title);
  }
});
