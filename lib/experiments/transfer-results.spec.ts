import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { LabelledMatrix } from "../data/labelled";
import type { MlpConfig } from "../models/mlp/mlp";
import { candidateKey, CandidateScores } from "./transfer-results";

const set = (x: number[], labels: number[]): LabelledMatrix => ({
  rows: labels.length,
  dim: x.length / labels.length,
  x: Float32Array.from(x),
  labels: Uint8Array.from(labels),
});
const TRAIN = set([1, 2, 3, 4], [0, 1]);
const VALIDATION = set([5, 6], [1]);
const CLASSIFIER: MlpConfig = {
  hidden: 100,
  activation: "leaky_relu",
  learningRate: 1e-3,
  batchSize: 100,
  epochs: 100,
  seed: 10,
};

test("the key changes with every value, label, shape, setting and engine, and only with them", () => {
  const key = candidateKey(TRAIN, VALIDATION, CLASSIFIER, "kernel");
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.equal(candidateKey(set([1, 2, 3, 4], [0, 1]), set([5, 6], [1]), { ...CLASSIFIER }, "kernel"), key);
  const changed: [string, string][] = [
    ["a training value", candidateKey(set([1, 2, 3, 4.5], [0, 1]), VALIDATION, CLASSIFIER, "kernel")],
    ["a training label", candidateKey(set([1, 2, 3, 4], [0, 2]), VALIDATION, CLASSIFIER, "kernel")],
    ["the shape (same values)", candidateKey(set([1, 2, 3, 4], [0, 1, 1, 1]), VALIDATION, CLASSIFIER, "kernel")],
    ["a validation value", candidateKey(TRAIN, set([5, 7], [1]), CLASSIFIER, "kernel")],
    ["a validation label", candidateKey(TRAIN, set([5, 6], [0]), CLASSIFIER, "kernel")],
    ["the epochs", candidateKey(TRAIN, VALIDATION, { ...CLASSIFIER, epochs: 99 }, "kernel")],
    ["the seed", candidateKey(TRAIN, VALIDATION, { ...CLASSIFIER, seed: 11 }, "kernel")],
    ["the engine", candidateKey(TRAIN, VALIDATION, CLASSIFIER, "tfjs")],
  ];
  for (const [what, other] of changed) assert.notEqual(other, key, what);
});

test("scores read back as written; untrusted lines are named and skipped", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "candidate-scores-"));
  try {
    const file = path.join(dir, "scores.jsonl");
    const key = (c: string) => c.repeat(64);
    const first = new CandidateScores(file);
    assert.equal(first.get(key("a")), undefined);
    first.add(key("a"), { train: 1, validation: 0.9483, seconds: 12.5 });
    assert.deepEqual(new CandidateScores(file).get(key("a")), { train: 1, validation: 0.9483, seconds: 12.5 });
    const bad: [string, string][] = [
      ['{"key":"bbbb', "not valid JSON (cut short or damaged)"],
      ['["a"]', "not a JSON object"],
      ['{"key":"xyz","train":1,"validation":1,"seconds":1}', "key is not a SHA-256"],
      [`{"key":"${key("c")}","train":1.5,"validation":1,"seconds":1}`, "train 1.5 is not an accuracy in [0, 1]"],
      [`{"key":"${key("c")}","train":1,"validation":null,"seconds":1}`, "validation null is not an accuracy in [0, 1]"],
      [`{"key":"${key("c")}","train":1,"validation":1,"seconds":-1}`, "seconds -1 is not a duration"],
    ];
    fs.appendFileSync(file, bad.map(([line]) => line).join("\n") + "\n");
    fs.appendFileSync(file, `{"key":"${key("d")}","train":0.5,"validation":0.25,"seconds":0}\n`);
    const again = new CandidateScores(file);
    assert.deepEqual(
      again.problems.map((p) => p.replace(/^.*scores\.jsonl:/, "")),
      bad.map(([, why], i) => `${i + 2}: ${why}`),
    );
    assert.equal(again.get(key("c")), undefined);
    assert.deepEqual(again.get(key("a")), { train: 1, validation: 0.9483, seconds: 12.5 });
    assert.deepEqual(again.get(key("d")), { train: 0.5, validation: 0.25, seconds: 0 });
    assert.throws(
      () => again.add(key("e"), { train: NaN, validation: 1, seconds: 1 }),
      /CandidateScores.add: train NaN is not an accuracy/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
