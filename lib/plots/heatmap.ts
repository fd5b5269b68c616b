/**
 * A labelled heatmap of a table of numbers (rows x columns of categories), each cell
 * printed with its value, and chosen cells outlined: a whole grid search on one page.
 */
import { checkFinite, Figure } from "./figures";

export interface HeatmapMark {
  row: number;
  col: number;
  /** Legend text, e.g. "chosen" or "the report's choice". */
  name: string;
  color: string;
  /** Line dash of the outline, so marks differ without colour too. */
  dash?: "solid" | "dot" | "dash";
}

export interface HeatmapSpec {
  title: string;
  rowLabels: string[];
  colLabels: string[];
  /** z[r][c]; null for a missing cell. */
  z: (number | null)[][];
  /** How cell values are printed (default: 3 significant digits). */
  format?: (v: number) => string;
  colorTitle?: string;
  /**
   * Bottom of the colour scale (default: the smallest value). A few outliers far below the
   * rest would otherwise spend the whole scale on themselves; cells below it take the
   * darkest colour and still print their value.
   */
  zmin?: number;
  xTitle?: string;
  yTitle?: string;
  marks?: HeatmapMark[];
}

const SEQUENTIAL = "Viridis";

export function heatmapChart(spec: HeatmapSpec): Figure {
  const fn = "heatmapChart";
  const { rowLabels, colLabels, z } = spec;
  if (rowLabels.length === 0 || colLabels.length === 0)
    throw new Error(`${fn}: rowLabels and colLabels must not be empty`);
  if (z.length !== rowLabels.length)
    throw new Error(`${fn}: z has ${z.length} rows but there are ${rowLabels.length} row labels`);
  z.forEach((row, r) => {
    if (row.length !== colLabels.length)
      throw new Error(`${fn}: z[${r}] has ${row.length} values but there are ${colLabels.length} column labels`);
    checkFinite(
      fn,
      `z[${r}] (non-null)`,
      row.filter((v): v is number => v !== null),
    );
  });
  for (const m of spec.marks ?? [])
    if (!(m.row >= 0 && m.row < rowLabels.length && m.col >= 0 && m.col < colLabels.length))
      throw new Error(
        `${fn}: mark "${m.name}" at row ${m.row}, column ${m.col} is outside the ${rowLabels.length}x${colLabels.length} table`,
      );
  const format = spec.format ?? ((v: number) => String(Number(v.toPrecision(3))));
  const text = z.map((row) => row.map((v) => (v === null ? "" : format(v))));
  const cols = colLabels.map((_, c) => c);
  const rows = rowLabels.map((_, r) => r);
  const data: any[] = [
    {
      type: "heatmap",
      name: "values",
      x: cols,
      y: rows,
      z,
      text,
      texttemplate: "%{text}",
      textfont: { size: 11 },
      colorscale: SEQUENTIAL,
      ...(spec.zmin === undefined
        ? {}
        : {
            zmin: spec.zmin,
            zmax: Math.max(spec.zmin, ...z.flat().filter((v): v is number => v !== null)),
            zauto: false,
          }),
      hoverongaps: false,
      xgap: 1,
      ygap: 1,
      customdata: rows.map((r) => cols.map((c) => `${rowLabels[r]} | ${colLabels[c]}`)),
      hovertemplate: "%{customdata}: %{text}<extra></extra>",
      colorbar: { thickness: 14, len: 0.8, outlinewidth: 0, title: { text: spec.colorTitle ?? "", side: "top" } },
      showlegend: false,
    },
  ];
  // Outlines as legend-bearing scatter traces (closed paths around the cell), not layout shapes:
  // the legend then names each mark.
  for (const m of spec.marks ?? []) {
    const [x0, x1, y0, y1] = [m.col - 0.5, m.col + 0.5, m.row - 0.5, m.row + 0.5];
    data.push({
      type: "scatter",
      mode: "lines",
      name: m.name,
      x: [x0, x1, x1, x0, x0],
      y: [y0, y0, y1, y1, y0],
      line: { color: m.color, width: 3.5, dash: m.dash ?? "solid" },
      hoverinfo: "skip",
      showlegend: true,
    });
  }
  const axis = (labels: string[], title: string | undefined) => ({
    title: { text: title ?? "" },
    tickmode: "array",
    tickvals: labels.map((_, i) => i),
    ticktext: labels,
    showgrid: false,
    zeroline: false,
    ticks: "",
    range: [-0.5, labels.length - 0.5],
    // Long category labels: plotly widens the margin to fit them rather than cutting them off.
    automargin: true,
  });
  const layout: any = {
    title: { text: spec.title, x: 0.5, xanchor: "center", y: 0.99, yanchor: "top", font: { size: 18 } },
    font: { family: "DejaVu Sans, Arial, sans-serif", size: 12, color: "#222" },
    paper_bgcolor: "white",
    plot_bgcolor: "white",
    // Column labels on top, as a table's header, and never rotated (multi-line labels stay legible).
    xaxis: { ...axis(colLabels, spec.xTitle), side: "top", tickangle: 0 },
    // First row at the top, as in a table.
    yaxis: { ...axis(rowLabels, spec.yTitle), autorange: false, range: [rowLabels.length - 0.5, -0.5] },
    margin: { l: 40, r: 30, t: 115, b: 50 },
    legend: {
      orientation: "h",
      x: 0.5,
      xanchor: "center",
      y: -0.02,
      yanchor: "top",
      bordercolor: "#ccc",
      borderwidth: 1,
    },
  };
  return { data, layout };
}
