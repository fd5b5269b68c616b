/**
 * HTML -> PDF with the process's shared headless Chromium (lib/plots/render), A4 with
 * page numbers in the footer. Atomic (writeFileAtomic), so a failed export leaves no half PDF.
 */
import * as path from "path";
import { pathToFileURL } from "url";
import { withPage } from "@csc411/lib/plots";
import { writeFileAtomic } from "@csc411/lib/runtime";

const FOOTER = `<div style="font-family: sans-serif; font-size: 8px; color: #555; width: 100%; text-align: center;">
<span class="pageNumber"></span> / <span class="totalPages"></span></div>`;

export interface PdfResult {
  file: string;
  pages: number;
  bytes: number;
}

/** Pages in a PDF written by Chromium (counts /Type /Page objects). */
export function pdfPageCount(pdf: Buffer): number {
  return (pdf.toString("latin1").match(/\/Type\s*\/Page(?![s\w])/g) ?? []).length;
}

/**
 * Prints `htmlFile` (a complete HTML document on disk) to `pdfFile`. The HTML is loaded
 * from a file rather than set as content: combined reports carry many inlined PNGs.
 */
export async function printPdf(htmlFile: string, pdfFile: string): Promise<PdfResult> {
  try {
    let pdf: Buffer | undefined;
    await withPage(
      async (page) => {
        await page.goto(pathToFileURL(path.resolve(htmlFile)).href, { waitUntil: "load", timeout: 120_000 });
        await page.evaluate(() => document.fonts.ready.then(() => undefined));
        pdf = await page.pdf({
          format: "A4",
          printBackground: true,
          displayHeaderFooter: true,
          headerTemplate: "<span></span>",
          footerTemplate: FOOTER,
          margin: { top: "16mm", bottom: "18mm", left: "14mm", right: "14mm" },
          preferCSSPageSize: false,
        });
      },
      { javaScriptEnabled: false },
    );
    if (!pdf || !pdf.subarray(0, 5).equals(Buffer.from("%PDF-")))
      throw new Error(`${pdfFile}: Chromium wrote something that is not a PDF`);
    // Nothing reaches pdfFile until the whole PDF exists: a failed export leaves no half-written file.
    writeFileAtomic(pdfFile, pdf);
    return { file: pdfFile, pages: pdfPageCount(pdf), bytes: pdf.length };
  } catch (e: any) {
    throw new Error(`printing ${pdfFile} failed: ${e?.message ?? e}`, { cause: e });
  }
}
