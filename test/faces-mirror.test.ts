/**
 * On the mirrored FaceScrub images (../shared/facescrub, read in place, never copied): the
 * splits come out as the report's rule says and one quick-profile configuration beats
 * chance (1/6) clearly. Uses the project's data/faces cache when present.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { projectRoot } from "@csc411/lib/runtime";
import { initBackend } from "@csc411/lib/runtime";
import { ACTORS, loadFaceSplits, faceCrop, faceMatrix } from "@csc411/lib/data/faces";
import { gridData, part8Space } from "@csc411/lib/experiments/faces";
import { gridConfigs } from "@csc411/lib/models/mlp";
import { mlpAccuracy, trainMlp } from "@csc411/lib/models/mlp";

const mirror = path.resolve(projectRoot(), "..", "shared", "facescrub", "mirror", "manifest.tsv");

test(
  "mirrored faces: disjoint splits, crops in range, a quick configuration well above chance",
  { skip: !fs.existsSync(mirror) && "no mirror at ../shared/facescrub" },
  async () => {
    await initBackend();
    const s = await loadFaceSplits({ seed: 0 });
    const again = await loadFaceSplits({ seed: 0 });
    assert.deepEqual(again, s);
    const shas = [...s.train, ...s.validation, ...s.test].map((i) => i.sha256);
    assert.equal(new Set(shas).size, shas.length);
    // The mirror holds re-hosted copies of some photos: same pixels, different file hashes.
    const pixels = [...s.train, ...s.validation, ...s.test].map((i) => i.contentHash);
    assert.ok(pixels.every((p) => typeof p === "string" && p.length === 64));
    assert.equal(new Set(pixels).size, pixels.length, "no face in two sets or twice in one");
    for (const [label] of ACTORS.entries())
      assert.ok(s.train.filter((i) => i.label === label).length >= 40, ACTORS[label]);
    const rgb = await faceCrop(s.train[0], "rgb227");
    assert.equal(rgb.length, 227 * 227 * 3);
    assert.ok(rgb.every((v) => v >= 0 && v <= 1));
    const cfg = gridConfigs(part8Space("quick")).find((c) => c.size === 32 && c.activation === "leaky_relu")!;
    const d = await gridData(s, 32);
    const r = trainMlp(d.train, d.validation, { ...cfg, seed: 0 });
    const testAcc = mlpAccuracy(r.weights, await faceMatrix(s.test, "grey32"));
    assert.ok(
      r.validationAccuracy > 0.45 && testAcc > 0.45,
      `validation ${r.validationAccuracy}, test ${testAcc}; chance is ${(1 / 6).toFixed(3)}`,
    );
  },
);
