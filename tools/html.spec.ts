import { test } from "node:test";
import assert from "node:assert/strict";
import { codeLines, markdownToHtml, notebookSection, notebookTitle } from "./html";
import { Notebook } from "./ipynb";

const katexCount = (html: string) => (html.match(/class="katex"/g) ?? []).length;
const displayCount = (html: string) => (html.match(/class="katex-display"/g) ?? []).length;

test("math is rendered by KaTeX; code and escaped dollars are left alone", () => {
  const cases: [string, number, number, RegExp | null][] = [
    // markdown, inline+display katex spans, display blocks, must also match
    ["cost $C = -\\sum_i y_i \\log p_i$ here", 1, 0, /cost <span class="katex">/],
    ["$$\\frac{a}{b}$$", 1, 1, null],
    ["\\[x^2\\] and \\(y\\)", 2, 1, null],
    ["\\begin{align}a &= b \\\\ c &= d\\end{align}", 1, 1, null],
    ["costs \\$5 and \\$6", 0, 0, /costs \\?\$5/],
    ["`$not math$` in code", 0, 0, /<code>\$not math\$<\/code>/],
    ["```\n$$x$$\n```", 0, 0, /<code>\$\$x\$\$/],
    ["a $x$ b $y$ c", 2, 0, null],
  ];
  for (const [md, inline, display, extra] of cases) {
    const html = markdownToHtml(md);
    assert.equal(katexCount(html), inline, `${md}: ${html}`);
    assert.equal(displayCount(html), display, md);
    if (extra) assert.match(html, extra, md);
  }
});

test("bad TeX does not throw: KaTeX shows it in red", () => {
  assert.match(markdownToHtml("$\\frac{$"), /katex-error|\\frac/);
});

const nb: Notebook = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [
    { cell_type: "markdown", metadata: {}, source: ["Intro\n", "# Part 3: Gradient\n"] },
    {
      cell_type: "code",
      metadata: {},
      execution_count: 4,
      source: ["let x = 1 < 2;"],
      outputs: [
        { output_type: "stream", name: "stdout", text: ["\u001b[32mok\u001b[0m\n"] },
        {
          output_type: "display_data",
          data: { "application/vnd.plotly.v1+json": {}, "image/png": "iVBORw0K", "text/plain": ["Figure"] },
          metadata: { "image/png": { width: 500, height: 300 } },
        },
        {
          output_type: "display_data",
          data: { "text/html": ["<b>t</b><script>alert(1)</script>"], "text/plain": ["t"] },
          metadata: {},
        },
        { output_type: "error", ename: "Error", evalue: "boom", traceback: [] },
      ],
    },
  ],
};

test("notebook section: code escaped, ANSI stripped, PNG preferred over plotly JSON, scripts dropped", () => {
  const html = notebookSection(nb, "/x/03-gradient.ipynb");
  assert.match(html, /<section class="notebook" id="03-gradient">/);
  assert.match(html, /In \[4\]:<\/span><pre class="source"><span class="line">let x = 1 &lt; 2;<\/span><\/pre>/);
  assert.match(html, /<div class="cell code has-figure">/);
  assert.match(html, /<pre class="stream stdout">ok\n<\/pre>/);
  assert.match(html, /<img class="figure" alt="Figure" src="data:image\/png;base64,iVBORw0K" style="width:500px">/);
  assert.match(html, /<b>t<\/b>/);
  assert.doesNotMatch(html, /<script/);
  assert.match(html, /<pre class="error">Error: boom<\/pre>/);
});

test("notebook title: first level-1 heading, else the file name", () => {
  assert.equal(notebookTitle(nb, "/x/03-gradient.ipynb"), "Part 3: Gradient");
  assert.equal(notebookTitle({ ...nb, cells: [] }, "/x/03-gradient.ipynb"), "03-gradient");
});

test("code lines: one block per line (hanging indent in print), escaped, empty lines kept", () => {
  assert.equal(
    codeLines("a < b\n\n  c"),
    '<span class="line">a &lt; b</span><span class="line">\u200b</span><span class="line">  c</span>',
  );
});
