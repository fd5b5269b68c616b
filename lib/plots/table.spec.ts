import { test } from "node:test";
import assert from "node:assert/strict";
import { formatCell, showTable, tableHtml, tableMarkdown, tableText, toTable } from "./table";

const rows = [
  { model: "softmax", accuracy: 0.91234567, epochs: 100 },
  { model: "a|b <c>", accuracy: 0.5, epochs: 7 },
];

test("rows of objects become columns in first-seen order", () => {
  assert.deepEqual(toTable(rows), {
    columns: ["model", "accuracy", "epochs"],
    rows: [
      ["softmax", 0.91234567, 100],
      ["a|b <c>", 0.5, 7],
    ],
  });
});

test("formats: html escapes, markdown escapes pipes and aligns numbers right, text lines up", () => {
  const t = toTable(rows);
  assert.match(tableHtml(t, { caption: "Results" }), /<caption>Results<\/caption>/);
  assert.match(tableHtml(t), /<td style="text-align:left">a\|b &lt;c&gt;<\/td><td style="text-align:right">0.5<\/td>/);
  assert.equal(
    tableMarkdown(t),
    [
      "| model    | accuracy | epochs |",
      "| :------- | -------: | -----: |",
      "| softmax  |   0.9123 |    100 |",
      "| a\\|b <c> |      0.5 |      7 |",
    ].join("\n"),
  );
  assert.equal(
    tableText(t),
    [
      "model    accuracy  epochs",
      "-------  --------  ------",
      "softmax    0.9123     100",
      "a|b <c>       0.5       7",
    ].join("\n"),
  );
});

test("formatCell", () => {
  const cases: [Parameters<typeof formatCell>[0], number | undefined, string][] = [
    [3, undefined, "3"],
    [0.123456, undefined, "0.1235"],
    [0.123456, 2, "0.12"],
    [NaN, undefined, "NaN"],
    [null, undefined, ""],
    ["x", undefined, "x"],
  ];
  for (const [v, d, want] of cases) assert.equal(formatCell(v, d), want);
});

test("danfojs DataFrame input", () => {
  const dfd = require("danfojs-node");
  const df = new dfd.DataFrame({ a: [1, 2], b: ["x", "y"] });
  assert.deepEqual(toTable(df), {
    columns: ["a", "b"],
    rows: [
      [1, "x"],
      [2, "y"],
    ],
  });
});

test("bad input", () => {
  assert.throws(() => toTable({ columns: ["a", "b"], rows: [[1]] }), /rows\[0\] has 1 cells but there are 2 columns/);
  assert.throws(() => toTable([1 as any]), /every row must be an object/);
  assert.throws(() => toTable("x" as any), /expected an array of row objects/);
});

test("showTable sends html, markdown and text in one output", () => {
  const jupyter = require("tslab/dist/jupyter");
  const saved = jupyter.lastWriteDisplayData;
  const seen: any[] = [];
  jupyter.lastWriteDisplayData = (msg: any) => seen.push(msg.data);
  try {
    showTable(rows, { caption: "c" });
  } finally {
    jupyter.lastWriteDisplayData = saved;
  }
  assert.equal(seen.length, 1);
  assert.deepEqual(Object.keys(seen[0]).sort(), ["text/html", "text/markdown", "text/plain"]);
});

test("long tables: a scrolling box on screen, the whole table in print, highlighted rows, sort script", () => {
  const t = toTable(rows);
  const html = tableHtml(t, { maxHeight: 300, sortable: true, highlight: [1] });
  const id = html.match(/<div class="report-table-box" id="(table-[0-9a-f]{10})">/)?.[1];
  assert.ok(id, html.slice(0, 200));
  assert.match(html, new RegExp(`@media screen \\{ #${id} \\{ max-height: 300px; overflow-y: auto;`));
  assert.match(html, new RegExp(`@media print \\{ #${id} table \\{ font-size: 7.5pt; break-inside: auto; \\}`));
  assert.match(html, /<tr class="highlight"><td style="text-align:left">a\|b &lt;c&gt;<\/td>/);
  assert.match(html, new RegExp(`<script>\\(function \\(\\) \\{ var box = document.getElementById\\("${id}"\\)`));
  // The same table gives the same id (re-runs write the same output); plain tables stay plain.
  assert.equal(tableHtml(t, { maxHeight: 300, sortable: true, highlight: [1] }), html);
  assert.ok(tableHtml(t).startsWith('<table class="report-table">'));
});
