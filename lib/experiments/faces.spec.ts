import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { initWeights } from "../models/mlp/mlp";
import { sha256Hex } from "../runtime/integrity";
import { displayPath } from "../runtime/paths";
import type { GridResult } from "../models/mlp/grid-search";
import { readSavedNetwork, writeSavedNetwork } from "./faces";

const config = {
  size: 32 as const,
  hidden: 2,
  epochs: 1,
  batchSize: 5,
  activation: "relu" as const,
  learningRate: 1e-3,
};
const network = {
  split: "abc",
  result: { key: "k", config, seed: 0, trainAccuracy: 1, validationAccuracy: 0.5, seconds: 1, curve: [] } as GridResult,
  curve: [{ epoch: 1, train: 1, validation: 0.5 }],
  trainAccuracy: 1,
  validationAccuracy: 0.5,
};

test("the saved Part 8 network is read back only when its file proves it; otherwise one line names the file and why", () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "part8-")), "part8.json");
  const weights = initWeights(4, 2, 6, "relu", 1);
  writeSavedNetwork(file, network, weights);
  const intact = fs.readFileSync(file, "utf8");
  const read = readSavedNetwork(file, () => assert.fail("an intact file was not trusted"));
  assert.deepEqual(read?.weights, weights);
  const parsed = JSON.parse(intact);
  const cases: [string, string, string][] = [
    ["truncated", intact.slice(0, intact.length >> 1), "unreadable ("],
    ["no checksum", JSON.stringify({ ...parsed, sha256: undefined }), "written before model files carried a checksum"],
    ["a changed weight", intact.replace(/"b2":\[0,/, '"b2":[1,'), "checksum does not match its contents"],
    [
      "a changed accuracy",
      JSON.stringify({ ...parsed, validationAccuracy: 0.9 }),
      "checksum does not match its contents",
    ],
  ];
  for (const [what, text, why] of cases) {
    fs.writeFileSync(file, text);
    const lines: string[] = [];
    assert.equal(
      readSavedNetwork(file, (l) => lines.push(l)),
      null,
      what,
    );
    assert.equal(lines.length, 1, what);
    assert.ok(
      lines[0].startsWith(`${displayPath(file)}: ${why}`) && lines[0].endsWith("; retraining"),
      `${what}: ${lines[0]}`,
    );
  }
  // A consistent file (checksum recomputed) with a weight of the wrong shape: named by weightsFromJson.
  const { sha256: _sum, ...body } = parsed;
  const wrongShape = { ...body, weights: { ...body.weights, W2: [1, 2] } };
  const sum = sha256Hex(JSON.stringify(wrongShape));
  fs.writeFileSync(file, JSON.stringify({ ...wrongShape, sha256: sum }));
  const lines: string[] = [];
  assert.equal(
    readSavedNetwork(file, (l) => lines.push(l)),
    null,
  );
  assert.deepEqual(lines, [`${displayPath(file)}: weights: W2 has 2 values, expected 12; retraining`]);
});

test("non-finite weights are never saved", () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "part8-")), "part8.json");
  const weights = initWeights(4, 2, 6, "relu", 1);
  weights.b1[1] = Infinity;
  assert.throws(() => writeSavedNetwork(file, network, weights), /part8\.json: not saved, b1\[1\] is Infinity/);
  assert.equal(fs.existsSync(file), false);
});
