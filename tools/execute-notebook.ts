/**
 * Executes one notebook cell by cell in this process with tslab's own converter and
 * executor (the code a Jupyter tslab kernel runs), capturing stdout, stderr and rich
 * display outputs into the cells. Run it in a child process per notebook: cells share
 * the process's globals, as they would in a kernel.
 *
 * Usage: node execute-notebook.js <input.ipynb> <output.ipynb> [name=value ...]
 * Each name=value overrides a setting of the notebook's parameters cell (see parameters.ts).
 * Progress goes to stderr as one line per cell; on the first failing cell it prints the
 * notebook, cell number, source and the real error text, writes the partial notebook to
 * <output>.failed.ipynb, and exits 1.
 */
import * as path from "path";
import { Notebook, Output, cellSource, readNotebook, toLines, writeNotebook } from "./ipynb";
import { injectParameters, ParameterValue, parseParameter } from "./parameters";

// Internal tslab APIs, pinned by the exact tslab version in package.json and covered by tests.
const tslabConverter = require("tslab/dist/converter");
const tslabExecutor = require("tslab/dist/executor");
const tslabJupyter = require("tslab/dist/jupyter");

const realStdout = process.stdout.write.bind(process.stdout);
const realStderr = process.stderr.write.bind(process.stderr);
const log = (line: string) => realStderr(line + "\n");

/** Text for Jupyter's multi-line fields, split into lines as nbformat stores them. */
function splitData(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [mime, v] of Object.entries(data))
    out[mime] = typeof v === "string" && (mime.startsWith("text/") || mime === "image/svg+xml") ? toLines(v) : v;
  return out;
}

type DisplayOutput = Extract<Output, { output_type: "display_data" }>;

/**
 * Outputs shown with a display_id, across the whole notebook: a later display_data or
 * update_display_data with the same id replaces each of them, as nbclient does, so the
 * saved notebook holds a progress line's final state, not every step.
 */
class DisplayIds {
  private byId = new Map<string, DisplayOutput[]>();
  /** Replaces every output shown under `id`; returns the new output to append, or none for an update. */
  handle(id: string, data: Record<string, unknown>, metadata: Record<string, unknown>, update: boolean) {
    const shown = this.byId.get(id) ?? [];
    for (const o of shown) {
      o.data = splitData(data);
      o.metadata = metadata;
    }
    if (update) return null;
    const fresh: DisplayOutput = { output_type: "display_data", data: splitData(data), metadata };
    this.byId.set(id, [...shown, fresh]);
    return fresh;
  }
}

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
    this.outputs.push({ output_type: "display_data", data: splitData(data), metadata });
  }
  finish(): Output[] {
    for (const o of this.outputs) {
      if (o.output_type === "stream") o.text = toLines(o.text as string);
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

export async function executeNotebook(
  input: string,
  output: string,
  params: Record<string, ParameterValue> = {},
): Promise<boolean> {
  // Both paths are taken relative to the caller's folder, before cells run in the notebook's own.
  output = path.resolve(output);
  const name = path.basename(input);
  const nb: Notebook = injectParameters(readNotebook(input), params, name);
  process.chdir(path.dirname(path.resolve(input)));

  let capture = new CellCapture();
  const displayIds = new DisplayIds();
  const heartbeat = new ProgressEcho();
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
    const cellLabel = `[${name}] cell ${count}/${codeCells.length}`;
    tslabJupyter.lastWriteDisplayData = (msg: DisplayMessage, update: boolean) => {
      const id = msg.transient?.display_id;
      if (!id) {
        capture.display(msg.data, msg.metadata ?? {});
        return;
      }
      const fresh = displayIds.handle(id, msg.data, msg.metadata ?? {}, update);
      if (fresh) capture.outputs.push(fresh);
      heartbeat.progress(cellLabel, msg.data["text/plain"]);
    };
    heartbeat.cellStarted();
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

interface DisplayMessage {
  data: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  transient?: { display_id?: string };
}

/**
 * Echoes a cell's progress line (an updated display) to the terminal, at most every
 * ECHO_SECONDS, so a long cell is not silent there; the notebook keeps only the final state.
 */
const ECHO_SECONDS = 15;
class ProgressEcho {
  private last = 0;
  cellStarted() {
    this.last = Date.now();
  }
  progress(cellLabel: string, text: unknown) {
    if (Date.now() - this.last < ECHO_SECONDS * 1000) return;
    this.last = Date.now();
    const line = (Array.isArray(text) ? text.join("") : String(text ?? "")).trim().split("\n").pop();
    log(`${cellLabel}: ${line}`);
  }
}

function asText(chunk: unknown): string {
  return typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8");
}

function formatArgs(args: unknown[]): string {
  return require("util").format(...args) + "\n";
}

if (require.main === module) {
  const [input, output, ...rest] = process.argv.slice(2);
  if (!input || !output) {
    log("usage: execute-notebook <input.ipynb> <output.ipynb> [name=value ...]");
    process.exit(2);
  }
  let params: Record<string, ParameterValue>;
  try {
    params = Object.fromEntries(rest.map(parseParameter));
  } catch (e) {
    log(`execute-notebook: ${(e as Error).message}`);
    process.exit(2);
  }
  executeNotebook(input, output, params).then(
    (ok) => process.exit(ok ? 0 : 1),
    (e) => {
      log(`${input}: ${e instanceof Error ? (e.stack ?? e.message) : e}`);
      process.exit(1);
    },
  );
}
