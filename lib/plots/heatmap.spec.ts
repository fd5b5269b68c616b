import { test } from "node:test";
import assert from "node:assert/strict";
import { heatmapChart } from "./heatmap";

const spec = {
  title: "t",
  rowLabels: ["a", "b"],
  colLabels: ["x", "y", "z"],
  z: [
    [1, 2, null],
    [0.123456, 5, 6],
  ],
};

test("heatmapChart: one heatmap with printed values, first row at the top, marks as closed outlines", () => {
  const fig = heatmapChart({ ...spec, marks: [{ row: 1, col: 2, name: "m", color: "red", dash: "dot" }] });
  assert.equal(fig.data[0].type, "heatmap");
  assert.deepEqual(fig.data[0].text, [
    ["1", "2", ""],
    ["0.123", "5", "6"],
  ]);
  assert.deepEqual(fig.layout.yaxis.range, [1.5, -0.5]);
  assert.deepEqual(fig.layout.xaxis.ticktext, ["x", "y", "z"]);
  assert.deepEqual(fig.data[1].x, [1.5, 2.5, 2.5, 1.5, 1.5]);
  assert.deepEqual(fig.data[1].y, [0.5, 0.5, 1.5, 1.5, 0.5]);
  assert.equal(fig.data[1].line.dash, "dot");
  assert.equal(fig.data[0].zmin, undefined);
  const clipped = heatmapChart({ ...spec, zmin: 1 }).data[0];
  assert.deepEqual([clipped.zmin, clipped.zmax, clipped.zauto], [1, 6, false]);
});

test("heatmapChart: errors name the mismatch", () => {
  assert.throws(() => heatmapChart({ ...spec, z: [[1, 2, 3]] }), /z has 1 rows but there are 2 row labels/);
  assert.throws(
    () =>
      heatmapChart({
        ...spec,
        z: [
          [1, 2],
          [1, 2, 3],
        ],
      }),
    /z\[0\] has 2 values but there are 3 column labels/,
  );
  assert.throws(
    () =>
      heatmapChart({
        ...spec,
        z: [
          [1, NaN, 3],
          [1, 2, 3],
        ],
      }),
    /z\[0\] \(non-null\)\[1\] is NaN/,
  );
  assert.throws(
    () => heatmapChart({ ...spec, marks: [{ row: 2, col: 0, name: "m", color: "red" }] }),
    /mark "m" at row 2, column 0 is outside the 2x3 table/,
  );
});
