import { test, after } from "node:test";
import assert from "node:assert/strict";
import { PLOTLY_MIME, closeBrowser, lineChart, pngSize } from "@csc411/lib/plots";
import { Notebook } from "./ipynb";
import { printResolutionFigures } from "./print-figures";

after(() => closeBrowser());

const fig = lineChart({ title: "t", xTitle: "x", yTitle: "y", series: [{ name: "a", x: [1, 2], y: [3, 4] }] });
const nb: Notebook = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [
    { cell_type: "markdown", metadata: {}, source: "# T" },
    {
      cell_type: "code",
      metadata: {},
      execution_count: 1,
      source: "show()",
      outputs: [
        { output_type: "stream", name: "stdout", text: "hi\n" },
        {
          output_type: "display_data",
          data: { [PLOTLY_MIME]: fig, "image/png": "c2NyZWVu", "text/plain": "Figure" },
          metadata: { "image/png": { width: 300, height: 200 } },
        },
        {
          output_type: "display_data",
          data: { [PLOTLY_MIME]: { data: [], layout: {} }, "image/png": "bm8gc2l6ZQ==" },
          metadata: {},
        },
      ],
    },
  ],
};

test("plotly figures are rendered again at scale x their screen size; other outputs and the original stay as they were", async () => {
  const { notebook, stats } = await printResolutionFigures(nb, 3);
  const outs = notebook.cells[1].outputs!;
  assert.deepEqual(outs[0], nb.cells[1].outputs![0]);
  const figOut = outs[1] as any;
  assert.deepEqual(pngSize(Buffer.from(figOut.data["image/png"], "base64")), { width: 900, height: 600 });
  assert.deepEqual(figOut.metadata["image/png"], { width: 300, height: 200 }, "shown at the screen size");
  assert.equal((outs[2] as any).data["image/png"], "bm8gc2l6ZQ==");
  assert.deepEqual(stats, {
    rendered: 1,
    kept: [{ cell: 1, reason: "no width and height in the PNG metadata or the plotly layout" }],
  });
  assert.equal((nb.cells[1].outputs![1] as any).data["image/png"], "c2NyZWVu", "the input notebook is not changed");
  await assert.rejects(printResolutionFigures(nb, 0), /scale must be positive, got 0/);
});
