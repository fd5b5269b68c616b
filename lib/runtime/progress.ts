/**
 * One progress line for long work, updated in place. In a notebook it is one output with a
 * display_id, redrawn at most every `intervalMs`: JupyterLab and the headless runner keep
 * only its latest text, so a saved notebook and its PDF show the final state, not a line per
 * step. Outside a notebook it goes to stderr: redrawn with "\r" on a terminal, otherwise one
 * line every `logEverySeconds`; the final text is always shown.
 */
import { inNotebook, updatableDisplay } from "./display";

export interface ProgressLine {
  /** The current state; shown when the last update is old enough. */
  update(text: string): void;
  /** The final state, always shown. */
  done(text: string): void;
}

export interface ProgressOptions {
  /** Least time between two redraws in a notebook or on a terminal. */
  intervalMs?: number;
  /** Least time between two lines when stderr is a log file or a pipe. */
  logEverySeconds?: number;
  /** Where the line goes; by default a notebook display in a notebook, else stderr. */
  sink?: ProgressSink;
  now?: () => number;
}

/** `replace` shows text in place of the previous one; `line` appends a line (logs). */
export type ProgressSink =
  { kind: "replace"; show: (text: string) => void } | { kind: "line"; write: (text: string) => void };

function defaultSink(): ProgressSink {
  if (inNotebook()) {
    const display = updatableDisplay();
    return { kind: "replace", show: (text) => display.show({ "text/plain": text }) };
  }
  if (process.stderr.isTTY) return { kind: "replace", show: (text) => process.stderr.write(`\r\x1b[K${text}`) };
  return { kind: "line", write: (text) => process.stderr.write(`${text}\n`) };
}

export function progressLine(opts: ProgressOptions = {}): ProgressLine {
  const now = opts.now ?? (() => performance.now());
  const sink = opts.sink ?? defaultSink();
  const minGap = sink.kind === "replace" ? (opts.intervalMs ?? 250) : (opts.logEverySeconds ?? 10) * 1000;
  let last = -Infinity;
  let finished = false;
  const show = (text: string) => {
    last = now();
    if (sink.kind === "replace") sink.show(text);
    else sink.write(text);
  };
  return {
    update(text) {
      if (!finished && now() - last >= minGap) show(text);
    },
    done(text) {
      finished = true;
      show(text);
      // A terminal line redrawn with "\r" needs its newline at the end.
      if (sink.kind === "replace" && opts.sink === undefined && !inNotebook()) process.stderr.write("\n");
    },
  };
}

/**
 * Adapts a model's "print a line now and then" progress reporter (models know nothing of
 * notebooks) to one line updated in place: the reporter is asked for every line (interval
 * 0), the line throttles redraws, and the state with done === total is final.
 */
export function linesInPlace<P extends { done: number; total: number }>(
  reporter: (everySeconds: number, print: (line: string) => void) => (p: P) => void,
  line: ProgressLine = progressLine(),
): (p: P) => void {
  let text = "";
  const report = reporter(0, (l) => (text = l));
  return (p) => {
    report(p);
    if (p.done === p.total) line.done(text);
    else line.update(text);
  };
}

/** A text bar of `width` characters: "[#####.........]". */
export function progressBar(fraction: number, width = 30): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
}

/** Seconds as "42 s", "3 min 05 s" or "1 h 02 min". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/**
 * "grid search [#######.......] 54/216, 2 min 10 s, about 6 min 30 s left: detail" - what
 * every counted loop shows. The estimate assumes the remaining steps cost what the done ones did.
 */
export function countLine(label: string, done: number, total: number, elapsedSeconds: number, detail = ""): string {
  const frac = total === 0 ? 1 : done / total;
  let time = formatDuration(elapsedSeconds);
  if (done > 0 && done < total) time += `, about ${formatDuration((elapsedSeconds / done) * (total - done))} left`;
  return `${label} ${progressBar(frac)} ${done}/${total}, ${time}${detail ? `: ${detail}` : ""}`;
}
