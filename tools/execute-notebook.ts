/**
 * Executes one notebook cell by cell in this process with tslab's own converter and
 * executor (the code a Jupyter tslab kernel runs), capturing stdout, stderr and rich
 * display outputs into the cells. Run it in a child process per notebook: cells share
 * the process's globals, as they would in a kernel.
 *
 * Usage: node execute-notebook.js <input.ipynb> <output.ipynb>
 * Progress goes to stderr as one line per cell; on the first failing cell it prints the
 * notebook, cell number, source and the real error text, writes the partial notebook to
 * <output>.failed.ipynb, and exits 1.
 */
import * as path from "path";
import { Notebook, Output, cellSource, readNotebook, toLines, writeNotebook } from "./ipynb";

// Internal tslab APIs, pinned by the exact tslab version in package.json and covered by tests.
const tslabConverter = require("tslab/dist/converter");
const tslabExecutor = require("tslab/dist/executor");
const tslabJupyter = require("tslab/dist/jupyter");

const realStdout = process.stdout.write.bind(process.stdout);
const realStderr = process.stderr.write.bind(process.stderr);
const log = (line: string) => realStderr(line + "\n");

class CellCapture {
  outputs: Output[] = [];
  append(name: "stdout" | "stderr", text: string) {
    const last = this.outputs[this.outputs.length - 1];
    if (last && last.output_type === "stream" && last.name === name) {
      last.text = (last.text as string) + text;
    } else {
      this.outputs.push({ output_type: "stream", name, text });
    }
  }
  display(data: Record<string, unknown>, metadata: Record<string, unknown>) {
    this.outputs.push({ output_type: "display_data", data, metadata });
  }
  finish(): Output[] {
    for (const o of this.outputs) {
      if (o.output_type === "stream") o.text = toLines(o.text as string);
      if (o.output_type === "display_data") {
        for (const [mime, v] of Object.entries(o.data)) {
          if (typeof v === "string" && (mime.startsWith("text/") || mime === "image/svg+xml"))
            o.data[mime] = toLines(v);
        }
      }
    }
    return this.outputs;
  }
}

function streamText(outputs: Output[], name: "stdout" | "stderr"): string {
  return outputs
    .filter((o): o is Extract<Output, { output_type: "stream" }> => o.output_type === "stream" && o.name === name)
    .map((o) => (Array.isArray(o.text) ? o.text.join("") : o.text))
    .join("");
}

export async function executeNotebook(input: string, output: string): Promise<boolean> {
  // Both paths are taken relative to the caller's folder, before cells run in the notebook's own.
  output = path.resolve(output);
  const nb: Notebook = readNotebook(input);
  const name = path.basename(input);
  process.chdir(path.dirname(path.resolve(input)));

  let capture = new CellCapture();
  const convs = {
    _node: null as any,
    get node() {
      return (this._node ??= tslabConverter.createConverter({ isJS: false, isBrowser: false }));
    },
    get browser() {
      throw new Error("browser cells are not supported by the headless runner");
    },
    close() {
      this._node?.close();
    },
  };
  const executor = tslabExecutor.createExecutor(process.cwd(), convs, {
    log: (...args: unknown[]) => capture.append("stdout", formatArgs(args)),
    error: (...args: unknown[]) => capture.append("stderr", formatArgs(args)),
  });
  process.on("unhandledRejection", (reason) =>
    capture.append("stderr", `UnhandledPromiseRejection: ${formatArgs([reason])}`),
  );

  const codeCells = nb.cells.filter((c) => c.cell_type === "code");
  let count = 0;
  let ok = true;
  for (const cell of nb.cells) {
    if (cell.cell_type !== "code") continue;
    count++;
    const src = cellSource(cell);
    capture = new CellCapture();
    process.stdout.write = ((chunk: any) => (capture.append("stdout", asText(chunk)), true)) as any;
    process.stderr.write = ((chunk: any) => (capture.append("stderr", asText(chunk)), true)) as any;
    tslabJupyter.lastWriteDisplayData = (msg: { data: Record<string, unknown>; metadata: Record<string, unknown> }) =>
      capture.display(msg.data, msg.metadata ?? {});
    const started = Date.now();
    let success = false;
    try {
      success = src.trim() === "" ? true : await executor.execute(src);
    } catch (e) {
      capture.append("stderr", formatArgs([e]));
    } finally {
      process.stdout.write = realStdout as any;
      process.stderr.write = realStderr as any;
    }
    cell.outputs = capture.finish();
    cell.execution_count = count;
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    log(`[${name}] cell ${count}/${codeCells.length} ${success ? "ok" : "FAILED"} (${secs}s)`);
    if (!success) {
      ok = false;
      reportFailure(name, count, src, cell.outputs);
      break;
    }
  }
  executor.close();
  convs.close();
  if (ok) {
    writeNotebook(output, nb);
  } else {
    const failed = output.replace(/\.ipynb$/, "") + ".failed.ipynb";
    writeNotebook(failed, nb);
    log(`partial outputs written to ${failed}; ${output} left unchanged`);
  }
  return ok;
}

function reportFailure(name: string, cellNumber: number, src: string, outputs: Output[]) {
  const numbered = src
    .split("\n")
    .map((l, i) => `  ${String(i + 1).padStart(3)} | ${l}`)
    .join("\n");
  const err = streamText(outputs, "stderr").trim() || "(the cell failed without printing an error)";
  log(`\nNotebook ${name}: code cell ${cellNumber} failed.\n--- cell source ---\n${numbered}\n--- error ---\n${err}\n`);
}

function asText(chunk: unknown): string {
  return typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8");
}

function formatArgs(args: unknown[]): string {
  return require("util").format(...args) + "\n";
}

if (require.main === module) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    log("usage: execute-notebook <input.ipynb> <output.ipynb>");
    process.exit(2);
  }
  executeNotebook(input, output).then(
    (ok) => process.exit(ok ? 0 : 1),
    (e) => {
      log(`${input}: ${e instanceof Error ? (e.stack ?? e.message) : e}`);
      process.exit(1);
    },
  );
}
