import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { appendGridLine, GridDivergence, gridLineProblem, readGridFile } from "./grid-results";
import { configKey, GridConfig, GridResult } from "./grid-search";

const config: GridConfig = { size: 32, hidden: 10, epochs: 4, batchSize: 20, activation: "relu", learningRate: 1e-3 };
// Typed by its fields (not as GridResult), so the test does not depend on optional extras of that type.
const good = {
  key: configKey(config),
  config,
  seed: 0,
  trainAccuracy: 0.75,
  validationAccuracy: 0.5,
  seconds: 1.5,
  curve: [
    { epoch: 2, train: 0.5, validation: 0.25 },
    { epoch: 4, train: 0.75, validation: 0.5 },
  ],
};
const diverged: GridDivergence = {
  key: configKey({ ...config, learningRate: 10 }),
  config: { ...config, learningRate: 10 },
  seed: 0,
  diverged: { epoch: 2, reason: "the training loss became NaN" },
};

test("a results line is trusted only when valid in full", () => {
  const cases: [string, unknown, string][] = [
    ["a result", good, ""],
    ["a divergence record", diverged, ""],
    ["NaN written as null", { ...good, validationAccuracy: null }, "validationAccuracy null is not a number in [0, 1]"],
    ["accuracy above 1", { ...good, trainAccuracy: 1.5 }, "trainAccuracy 1.5 is not a number in [0, 1]"],
    ["missing seconds", { ...good, seconds: undefined }, "seconds undefined is not a non-negative number"],
    ["missing curve", { ...good, curve: [] }, "curve is missing or empty"],
    [
      "another configuration's key",
      { ...good, key: "s64-h10" },
      `key "s64-h10" is not its configuration's ${good.key}`,
    ],
    ["a bad config", { ...good, config: { ...config, size: 48 } }, "config.size 48 is not 32 or 64"],
    [
      "a NaN learning rate",
      { ...good, config: { ...config, learningRate: null } },
      "config.learningRate null is not a positive number",
    ],
    [
      "a curve past the run",
      { ...good, curve: [{ epoch: 5, train: 0.75, validation: 0.5 }] },
      "curve[0].epoch 5 is not a later epoch of the run",
    ],
    [
      "a curve that disagrees",
      { ...good, curve: [{ epoch: 4, train: 0.75, validation: 0.25 }] },
      "the curve's last point is not the reported final epoch and accuracies",
    ],
    ["a divergence without a reason", { ...diverged, diverged: { epoch: 2 } }, "diverged.reason is missing"],
    [
      "a divergence past the run",
      { ...diverged, diverged: { epoch: 9, reason: "x" } },
      "diverged.epoch is not an epoch of the run",
    ],
    ["not an object", [1, 2], "not a JSON object"],
  ];
  for (const [what, line, problem] of cases) assert.equal(gridLineProblem(line), problem, what);
});

test("reading names every untrusted line; appends are whole lines, after a torn one too", () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "grid-results-")), "results.jsonl");
  const other = { ...good, key: configKey({ ...config, hidden: 20 }), config: { ...config, hidden: 20 } };
  fs.writeFileSync(
    file,
    [
      JSON.stringify(good),
      JSON.stringify({ ...other, validationAccuracy: null }),
      JSON.stringify(diverged),
      '{"key":"s32',
    ].join("\n"),
  );
  const g = readGridFile(file);
  assert.deepEqual([...g.results.keys()], [good.key]);
  assert.deepEqual([...g.diverged.keys()], [diverged.key]);
  assert.deepEqual(g.problems, [
    `${file}:2: validationAccuracy null is not a number in [0, 1]; that configuration runs again`,
    `${file}:4: not valid JSON (cut short: an interrupted write); that configuration runs again`,
  ]);
  appendGridLine(file, other as GridResult);
  const again = readGridFile(file);
  assert.deepEqual([...again.results.keys()], [good.key, other.key]);
  assert.equal(again.problems.length, 2, "the torn line stays torn; the new record is on a line of its own");
  assert.throws(
    () => appendGridLine(file, { ...good, validationAccuracy: NaN } as GridResult),
    /results\.jsonl: not written, the record for s32-h10-e4-b20-relu-lr0\.001 is invalid: validationAccuracy null/,
  );
});
