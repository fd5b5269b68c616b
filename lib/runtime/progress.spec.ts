import { test } from "node:test";
import assert from "node:assert/strict";
import { countLine, formatDuration, linesInPlace, progressBar, progressLine, ProgressSink } from "./progress";

/** Runs a script of [time ms, call, text] against a recording sink; returns what reached it. */
function play(kind: ProgressSink["kind"], script: [number, "update" | "done", string][]) {
  const seen: string[] = [];
  let t = 0;
  const sink: ProgressSink =
    kind === "replace" ? { kind, show: (s) => seen.push(s) } : { kind, write: (s) => seen.push(s) };
  const p = progressLine({ sink, now: () => t, intervalMs: 250, logEverySeconds: 10 });
  for (const [time, call, text] of script) {
    t = time;
    p[call](text);
  }
  return seen;
}

test("in place: at most one redraw per interval, the final text always", () => {
  const script: [number, "update" | "done", string][] = [
    [0, "update", "a"],
    [100, "update", "b"],
    [260, "update", "c"],
    [300, "update", "d"],
    [310, "done", "final"],
    [900, "update", "late"],
  ];
  assert.deepEqual(play("replace", script), ["a", "c", "final"]);
});

test("to a log: one line per logEverySeconds, the final text always", () => {
  const script: [number, "update" | "done", string][] = [
    [0, "update", "1/9"],
    [5_000, "update", "2/9"],
    [10_000, "update", "3/9"],
    [25_000, "update", "8/9"],
    [26_000, "done", "9/9"],
  ];
  assert.deepEqual(play("line", script), ["1/9", "3/9", "8/9", "9/9"]);
});

test("bars, durations and count lines", () => {
  const bars: [number, number, string][] = [
    [0, 10, "[..........]"],
    [0.55, 10, "[######....]"],
    [1, 10, "[##########]"],
    [1.7, 4, "[####]"],
  ];
  for (const [f, w, s] of bars) assert.equal(progressBar(f, w), s);
  const durations: [number, string][] = [
    [0.4, "0 s"],
    [59.4, "59 s"],
    [61, "1 min 01 s"],
    [3725, "1 h 02 min"],
  ];
  for (const [s, text] of durations) assert.equal(formatDuration(s), text);
  assert.equal(
    countLine("grid", 54, 216, 130, "s32-h20"),
    `grid ${progressBar(0.25)} 54/216, 2 min 10 s, about 6 min 30 s left: s32-h20`,
  );
  assert.equal(countLine("faces", 0, 0, 0), `faces ${progressBar(1)} 0/0, 0 s`);
  assert.equal(countLine("faces", 10, 10, 3), `faces ${progressBar(1)} 10/10, 3 s`);
});

test("linesInPlace: a line reporter's every line goes to the progress line, the last one as final", () => {
  const calls: string[] = [];
  const reporter = (_every: number, print: (l: string) => void) => (p: { done: number; total: number }) =>
    print(`${p.done}/${p.total}`);
  const feed = linesInPlace(reporter, {
    update: (t) => calls.push(`update ${t}`),
    done: (t) => calls.push(`done ${t}`),
  });
  for (const done of [1, 2, 3]) feed({ done, total: 3 });
  assert.deepEqual(calls, ["update 1/3", "update 2/3", "done 3/3"]);
});
