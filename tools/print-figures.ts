/**
 * Figures for print: every output that carries plotly JSON is rendered again from that JSON
 * at `scale` times its screen size, and the new PNG replaces the stored one in a copy of the
 * notebook used only for the export. The notebook keeps its light screen PNG; the PDF gets
 * figures that stay sharp at print width. The shown size (the PNG's width metadata) does
 * not change, so the page layout is the same as with the screen PNG.
 */
import { PLOTLY_MIME, renderPlotlyPng } from "@csc411/lib/plots";
import { Notebook, Output } from "./ipynb";

export interface PrintFigureStats {
  rendered: number;
  /** Figures left with their stored PNG, and why (e.g. plotly could not render the JSON). */
  kept: { cell: number; reason: string }[];
}

type Rich = Extract<Output, { data: Record<string, unknown> }>;

/** Screen size of a figure output: its PNG metadata, else the plotly layout's size. */
export function figureScreenSize(o: Rich): { width: number; height: number } | null {
  const meta = (o.metadata?.["image/png"] ?? {}) as { width?: number; height?: number };
  const layout = ((o.data[PLOTLY_MIME] as { layout?: { width?: number; height?: number } } | undefined)?.layout ??
    {}) as { width?: number; height?: number };
  const width = meta.width ?? layout.width;
  const height = meta.height ?? layout.height;
  return width && height ? { width, height } : null;
}

/**
 * A copy of `nb` whose plotly figures carry PNGs rendered at `scale` (3: about 300 dpi at
 * the printed width of an A4 page). Outputs without plotly JSON are left as they are.
 */
export async function printResolutionFigures(
  nb: Notebook,
  scale: number,
): Promise<{ notebook: Notebook; stats: PrintFigureStats }> {
  if (!(scale > 0)) throw new Error(`printResolutionFigures: scale must be positive, got ${scale}`);
  const stats: PrintFigureStats = { rendered: 0, kept: [] };
  const cells = [];
  for (const [i, cell] of nb.cells.entries()) {
    if (!cell.outputs?.length) {
      cells.push(cell);
      continue;
    }
    const outputs: Output[] = [];
    for (const o of cell.outputs) {
      if (!("data" in o) || o.data[PLOTLY_MIME] === undefined) {
        outputs.push(o);
        continue;
      }
      const size = figureScreenSize(o);
      if (!size) {
        stats.kept.push({ cell: i, reason: "no width and height in the PNG metadata or the plotly layout" });
        outputs.push(o);
        continue;
      }
      const fig = o.data[PLOTLY_MIME] as { data: unknown[]; layout: unknown };
      try {
        const png = await renderPlotlyPng(fig, { ...size, scale });
        outputs.push({
          ...o,
          data: { ...o.data, "image/png": png.toString("base64") },
          metadata: { ...o.metadata, "image/png": size },
        });
        stats.rendered++;
      } catch (e: any) {
        stats.kept.push({ cell: i, reason: String(e?.message ?? e).split("\n")[0] });
        outputs.push(o);
      }
    }
    cells.push({ ...cell, outputs });
  }
  return { notebook: { ...nb, cells }, stats };
}
