import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { MlpConfig } from "../models/mlp/mlp";
import {
  CandidateIngredients,
  candidateKey,
  CandidateScores,
  canonicalJson,
  TestRun,
  TestRuns,
  testRunKey,
} from "./transfer-results";

const CLASSIFIER: MlpConfig = {
  hidden: 100,
  activation: "leaky_relu",
  learningRate: 1e-3,
  batchSize: 100,
  epochs: 100,
  seed: 10,
};
const hash = (c: string) => c.repeat(64);
const BASE: CandidateIngredients = {
  backbone: "mobilenet_v2-nsfwjs-4.4.0",
  activations: "mobilenet_v2-nsfwjs-4.4.0/block_9_add",
  layer: "block_9_add",
  pooling: "mean",
  flip: false,
  train: { images: [hash("a"), hash("b")], labels: [0, 1] },
  validation: { images: [hash("c")], labels: [2] },
  backend: "wasm",
  featuresVersion: "1",
  classifier: CLASSIFIER,
  engine: "kernel",
};
const TEST = { images: [hash("d"), hash("e")], labels: [3, 4] };

test("the key of the base ingredients is pinned (a change unreads every kept score: bump the files' version)", () => {
  // SHA-256 of {"kind":"candidate", ...BASE} as JSON with sorted keys, computed apart from this code with
  // Python's hashlib.sha256(json.dumps(d, sort_keys=True, separators=(",", ":")).encode()).
  assert.equal(candidateKey(BASE), "fcc64560ce41811165851c0677b367648333617951de1d74c8a6a901b23172ae");
});

const CHANGES: [string, Partial<CandidateIngredients>][] = [
  ["the backbone's name", { backbone: "mobilenet_v2-nsfwjs-4.4.1" }],
  ["the activation identity (the cache's folder)", { activations: "mobilenet_v2-nsfwjs-4.4.0/folded/block_9_add" }],
  ["the tap layer", { layer: "block_12_add" }],
  ["the pooling", { pooling: "flat" }],
  ["the mirrored crops", { flip: true }],
  ["a training image", { train: { images: [hash("a"), hash("f")], labels: [0, 1] } }],
  ["the training images' order", { train: { images: [hash("b"), hash("a")], labels: [0, 1] } }],
  ["a training label", { train: { images: [hash("a"), hash("b")], labels: [0, 2] } }],
  ["a training image more", { train: { images: [hash("a"), hash("b"), hash("f")], labels: [0, 1, 1] } }],
  ["a validation image", { validation: { images: [hash("f")], labels: [2] } }],
  ["a validation label", { validation: { images: [hash("c")], labels: [3] } }],
  ["the TensorFlow.js backend", { backend: "tensorflow" }],
  ["the features' code version", { featuresVersion: "2" }],
  ["the classifier's hidden units", { classifier: { ...CLASSIFIER, hidden: 99 } }],
  ["the classifier's activation", { classifier: { ...CLASSIFIER, activation: "relu" } }],
  ["the classifier's learning rate", { classifier: { ...CLASSIFIER, learningRate: 2e-3 } }],
  ["the classifier's batch size", { classifier: { ...CLASSIFIER, batchSize: 50 } }],
  ["the classifier's epochs", { classifier: { ...CLASSIFIER, epochs: 99 } }],
  ["the classifier's seed", { classifier: { ...CLASSIFIER, seed: 11 } }],
  ["the training engine", { engine: "tfjs" }],
];
for (const [what, change] of CHANGES) {
  test(`the key changes with ${what}`, () => {
    assert.notEqual(candidateKey({ ...BASE, ...change }), candidateKey(BASE));
    assert.notEqual(testRunKey({ ...BASE, ...change }, TEST), testRunKey(BASE, TEST));
  });
}

test("the key does not depend on the order an object's fields were written in", () => {
  const reordered: CandidateIngredients = {
    engine: "kernel",
    classifier: { seed: 10, epochs: 100, batchSize: 100, learningRate: 1e-3, activation: "leaky_relu", hidden: 100 },
    featuresVersion: "1",
    backend: "wasm",
    validation: { labels: [2], images: [hash("c")] },
    train: { labels: [0, 1], images: [hash("a"), hash("b")] },
    flip: false,
    pooling: "mean",
    layer: "block_9_add",
    activations: "mobilenet_v2-nsfwjs-4.4.0/block_9_add",
    backbone: "mobilenet_v2-nsfwjs-4.4.0",
  };
  assert.equal(candidateKey(reordered), candidateKey(BASE));
  assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }), '{"a":[{"c":3,"d":2}],"b":1}');
});

test("a test run's key adds the test faces, and is never a candidate's key", () => {
  const key = testRunKey(BASE, TEST);
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.notEqual(key, candidateKey(BASE));
  assert.notEqual(testRunKey(BASE, { images: [hash("d"), hash("f")], labels: [3, 4] }), key, "a test image");
  assert.notEqual(testRunKey(BASE, { images: [hash("e"), hash("d")], labels: [3, 4] }), key, "the test order");
  assert.notEqual(testRunKey(BASE, { images: [hash("d"), hash("e")], labels: [3, 5] }), key, "a test label");
});

test("a split with more images than labels (or fewer) is refused, naming it", () => {
  assert.throws(
    () => candidateKey({ ...BASE, validation: { images: [hash("c")], labels: [] } }),
    /candidateKey: the validation split has 1 images and 0 labels/,
  );
  assert.throws(() => testRunKey(BASE, { images: [], labels: [1] }), /the test split has 0 images and 1 labels/);
});

test("scores read back as written; untrusted lines are named and skipped", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "candidate-scores-"));
  try {
    const file = path.join(dir, "scores.jsonl");
    const key = hash;
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

const RUN: TestRun = {
  // Values whose shortest decimal form is long: JSON must give back the same doubles.
  curve: [
    { epoch: 1, train: 1 / 3, validation: 0.1 + 0.2 },
    { epoch: 2, train: 2 / 3, validation: Math.fround(0.9482758620689655) },
    { epoch: 3, train: 1, validation: 110 / 116 },
  ],
  trainAccuracy: 1,
  validationAccuracy: 110 / 116,
  test: 107 / 116,
  features: 1280,
  seconds: 12.345678901234567,
  steps: 24,
  engine: "kernel",
};

test("a test run reads back exactly (every curve number the same double); untrusted lines are named", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "test-runs-"));
  try {
    const file = path.join(dir, "runs.jsonl");
    new TestRuns(file).add(hash("a"), RUN);
    const back = new TestRuns(file).get(hash("a"))!;
    assert.deepEqual(back, RUN);
    for (const [i, p] of RUN.curve.entries()) {
      assert.ok(Object.is(back.curve[i].train, p.train) && Object.is(back.curve[i].validation, p.validation));
    }
    const line = (change: Record<string, unknown>) => JSON.stringify({ key: hash("c"), ...RUN, ...change });
    const bad: [string, string][] = [
      [line({ key: "xyz" }), "key is not a SHA-256"],
      [line({ test: 1.5 }), "test 1.5 is not an accuracy in [0, 1]"],
      [line({ validationAccuracy: null }), "validationAccuracy null is not an accuracy in [0, 1]"],
      [line({ features: 0 }), "features 0 is not a positive integer"],
      [line({ seconds: -1 }), "seconds -1 is not a duration"],
      [line({ steps: 2.5 }), "steps 2.5 is not a count"],
      [line({ engine: "gpu" }), 'engine "gpu" is not kernel or tfjs'],
      [line({ curve: [] }), "curve is not a list of epochs"],
      [line({ curve: [RUN.curve[0], 7] }), "curve[1] is not an object"],
      [line({ curve: [RUN.curve[1], RUN.curve[0]] }), "curve[1].epoch 1 does not follow 2"],
      [
        line({ curve: [{ ...RUN.curve[0], validation: NaN }] }),
        "curve[0].validation null is not an accuracy in [0, 1]",
      ],
      [line({}).slice(0, 80), "not valid JSON (cut short or damaged)"],
    ];
    fs.appendFileSync(file, bad.map(([l]) => l).join("\n") + "\n");
    const again = new TestRuns(file);
    assert.deepEqual(
      again.problems.map((p) => p.replace(/^.*runs\.jsonl:/, "")),
      bad.map(([, why], i) => `${i + 2}: ${why}`),
    );
    assert.equal(again.get(hash("c")), undefined);
    assert.deepEqual(again.get(hash("a")), RUN);
    assert.throws(() => again.add(hash("e"), { ...RUN, test: NaN }), /TestRuns.add: test NaN is not an accuracy/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
