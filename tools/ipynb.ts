/** The parts of the Jupyter notebook format (nbformat 4) that the runner and exporters touch. */
import * as fs from "fs";
import { writeFileAtomic } from "@csc411/lib/runtime";

export type Output =
  | { output_type: "stream"; name: "stdout" | "stderr"; text: string[] | string }
  | { output_type: "display_data"; data: Record<string, unknown>; metadata: Record<string, unknown> }
  | {
      output_type: "execute_result";
      data: Record<string, unknown>;
      metadata: Record<string, unknown>;
      execution_count: number | null;
    }
  | { output_type: "error"; ename: string; evalue: string; traceback: string[] };

export interface Cell {
  cell_type: "code" | "markdown" | "raw";
  source: string[] | string;
  metadata: Record<string, unknown>;
  outputs?: Output[];
  execution_count?: number | null;
  id?: string;
}

export interface Notebook {
  cells: Cell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

export function cellSource(cell: Cell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/** Splits text the way Jupyter stores multi-line strings: one entry per line, newlines kept. */
export function toLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

export function readNotebook(file: string): Notebook {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e: any) {
    throw new Error(`${file}: cannot read notebook (${e?.code ?? e})`, { cause: e });
  }
  let nb: Notebook;
  try {
    nb = JSON.parse(text);
  } catch (e: any) {
    throw new Error(`${file}: not valid notebook JSON (${e.message})`, { cause: e });
  }
  if (!Array.isArray(nb.cells) || nb.nbformat !== 4) throw new Error(`${file}: not an nbformat 4 notebook`);
  return nb;
}

/** Atomic, so an interrupted run never leaves half a notebook. */
export function writeNotebook(file: string, nb: Notebook): void {
  writeFileAtomic(file, JSON.stringify(nb, null, 1) + "\n");
}

/** The notebook's cells' metadata kernelspec for the tslab TypeScript kernel. */
export const TSLAB_KERNELSPEC = { name: "tslab", display_name: "TypeScript", language: "typescript" };
