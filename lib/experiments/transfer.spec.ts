import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { FaceImage } from "../data/faces";
import type { Backbone, RgbImage } from "../models/backbones/backbone";
import { activationCacheName, activationFile } from "../models/backbones/activation-cache";
import { MlpConfig, mlpAccuracy, trainMlp } from "../models/mlp/mlp";
import {
  BackboneSearch,
  Candidate,
  CandidateResult,
  chooseCandidate,
  activationIdentity,
  CropLoader,
  evaluateCandidates,
  faceFeaturesAt,
  flipHorizontal,
  firstPerActor,
  meanPool,
  stackRows,
  testCandidate,
} from "./transfer";

test("flipHorizontal mirrors each row and keeps channels together", () => {
  // 2 rows x 3 columns, pixel (y, x) = [10y + x, 100 + 10y + x, 200 + 10y + x].
  const px = (y: number, x: number) => [10 * y + x, 100 + 10 * y + x, 200 + 10 * y + x];
  const data = Float32Array.from([0, 1].flatMap((y) => [0, 1, 2].flatMap((x) => px(y, x))));
  const flipped = flipHorizontal({ width: 3, height: 2, data });
  assert.deepEqual(
    [...flipped.data],
    [0, 1].flatMap((y) => [2, 1, 0].flatMap((x) => px(y, x))),
  );
  assert.deepEqual(flipHorizontal(flipped).data, data);
});

test("meanPool averages each channel over the positions of an HWC map", () => {
  // 2x2 positions, 3 channels.
  const f = Float32Array.from([1, 10, 100, 2, 20, 200, 3, 30, 300, 6, 60, 600]);
  assert.deepEqual([...meanPool(f, [2, 2, 3])], [3, 30, 300]);
  assert.deepEqual([...meanPool(Float32Array.from([4, 5]), [1, 1, 2])], [4, 5]);
});

test("stackRows appends rows and labels; different widths are refused", () => {
  const a = { rows: 1, dim: 2, x: Float32Array.of(1, 2), labels: Uint8Array.of(3) };
  const b = { rows: 2, dim: 2, x: Float32Array.of(5, 6, 7, 8), labels: Uint8Array.of(0, 1) };
  const s = stackRows(a, b);
  assert.deepEqual(
    { rows: s.rows, dim: s.dim, x: [...s.x], labels: [...s.labels] },
    { rows: 3, dim: 2, x: [1, 2, 5, 6, 7, 8], labels: [3, 0, 1] },
  );
  assert.throws(() => stackRows(a, { ...b, dim: 4, rows: 1 }), /2 inputs per row against 4/);
});

const CHOICES: { name: string; rows: { validation: number; features: number }[]; chosen: number }[] = [
  {
    name: "highest validation wins",
    rows: [
      { validation: 0.9, features: 10 },
      { validation: 0.95, features: 5000 },
    ],
    chosen: 1,
  },
  {
    name: "a tie goes to fewer features",
    rows: [
      { validation: 0.95, features: 5000 },
      { validation: 0.95, features: 768 },
    ],
    chosen: 1,
  },
  {
    name: "a full tie goes to the earlier",
    rows: [
      { validation: 0.9, features: 64 },
      { validation: 0.9, features: 64 },
    ],
    chosen: 0,
  },
];
for (const c of CHOICES) {
  test(`chooseCandidate: ${c.name}`, () => assert.equal(chooseCandidate(c.rows), c.rows[c.chosen]));
}
test("chooseCandidate refuses an empty list", () => assert.throws(() => chooseCandidate([]), /no candidates/));

test("firstPerActor keeps the first n of each label in order", () => {
  const faces = [0, 1, 0, 0, 1, 2].map((label, i) => ({ actor: `a${label}`, label, sha256: `h${i}` }));
  assert.deepEqual(
    firstPerActor(faces, 2).map((f) => f.sha256),
    ["h0", "h1", "h2", "h4", "h5"],
  );
});

// evaluateCandidates and testCandidate on a stub backbone and 2x2 "crops", with their files in a temporary folder.
const STUB_LAYERS = [{ name: "t", shape: [2, 2, 3], description: "the stub's only tap" }] as const;

/** A backbone whose activations are each pixel times its position; `broken`: one that throws if asked. */
function stubBackbone(broken = false): Backbone & { images: number } {
  const stub = {
    name: "stub-net",
    inputSize: 2,
    preprocessing: "none",
    layers: STUB_LAYERS,
    images: 0,
    activations: async (images: readonly RgbImage[]) => {
      if (broken) throw new Error("the stub's activations were asked for");
      stub.images += images.length;
      return images.map((img) => Float32Array.from(img.data, (v, i) => v * (i + 1)));
    },
    dispose: () => {},
  };
  return stub;
}

const face = (label: number, i: number): FaceImage => ({ actor: `actor ${label}`, label, sha256: `face-${i}` });
/** Six actors; each face's 2x2 crop depends on its label (so there is something to learn) and on the face. */
const STUB_FACES = {
  train: Array.from({ length: 24 }, (_, i) => face(i % 6, i)),
  validation: Array.from({ length: 12 }, (_, i) => face(i % 6, 100 + i)),
  test: Array.from({ length: 12 }, (_, i) => face(i % 6, 200 + i)),
};
const stubCrop: CropLoader = async (f) => {
  const n = Number(f.sha256.slice(5));
  return {
    width: 2,
    height: 2,
    data: Float32Array.from({ length: 12 }, (_, j) => ((f.label * 7 + j * 3) % 11) / 10 + n / 1000),
  };
};
const STUB_CLASSIFIER: MlpConfig = {
  hidden: 8,
  activation: "leaky_relu",
  learningRate: 0.01,
  batchSize: 8,
  epochs: 4,
  seed: 3,
};
const stubSearch = (backbone: Backbone): BackboneSearch => ({
  backbone,
  taps: [{ layer: "t", poolings: ["flat", "mean"] }],
  flips: [false, true],
});

function withFolder(name: string, body: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), name));
    try {
      await body(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  "evaluateCandidates: a second run reads every score back and neither runs nor reads the backbone's activations",
  withFolder("candidates-", async (dir) => {
    const opts = {
      scoresFile: path.join(dir, "scores.jsonl"),
      cacheDir: path.join(dir, "activations"),
      loadCrop: stubCrop,
    };
    const net = stubBackbone();
    const lines: string[] = [];
    const cold = await evaluateCandidates([stubSearch(net)], STUB_FACES, STUB_CLASSIFIER, {
      ...opts,
      log: (l) => lines.push(l),
    });
    // Train faces, validation faces and the mirrored train faces, each through the network once.
    assert.equal(net.images, 24 + 12 + 24);
    assert.deepEqual(
      cold.results.map((r) => [r.layer, r.pooling, r.flip, r.features, r.cached]),
      [
        ["t", "flat", false, 12, false],
        ["t", "flat", true, 12, false],
        ["t", "mean", false, 3, false],
        ["t", "mean", true, 3, false],
      ],
    );
    // The activation cache keeps its files in the folder the keys name.
    assert.equal(fs.readdirSync(path.join(opts.cacheDir, activationIdentity(net, "t"))).length, 24 + 12 + 24);
    // Without its activation files, and with a backbone that throws when asked, every score still reads back.
    fs.rmSync(opts.cacheDir, { recursive: true });
    const warmLines: string[] = [];
    const warm = await evaluateCandidates([stubSearch(stubBackbone(true))], STUB_FACES, STUB_CLASSIFIER, {
      ...opts,
      log: (l) => warmLines.push(l),
    });
    assert.deepEqual(
      warm.results,
      cold.results.map((r) => ({ ...r, cached: true })),
    );
    assert.equal(fs.existsSync(opts.cacheDir), false, "no activation file was written or read");
    assert.deepEqual(
      warm.extraction.map((e) => [e.layers.join(","), e.images, e.computed]),
      [
        ["t", 24, 0],
        ["t", 12, 0],
        ["t (mirrored)", 24, 0],
      ],
    );
    assert.equal(warmLines[0], "stub-net: all 4 candidate scores known, so its activations were not read");
    assert.deepEqual(warm.problems, []);
  }),
);

test(
  "evaluateCandidates: a damaged line is named and its candidate alone trains again, to the same score",
  withFolder("candidates-", async (dir) => {
    const opts = {
      scoresFile: path.join(dir, "scores.jsonl"),
      cacheDir: path.join(dir, "activations"),
      loadCrop: stubCrop,
      log: () => {},
    };
    const cold = await evaluateCandidates([stubSearch(stubBackbone())], STUB_FACES, STUB_CLASSIFIER, opts);
    const lines = fs.readFileSync(opts.scoresFile, "utf8").split("\n");
    lines[2] = lines[2].slice(0, 30);
    fs.writeFileSync(opts.scoresFile, lines.join("\n"));
    const net = stubBackbone();
    const again = await evaluateCandidates([stubSearch(net)], STUB_FACES, STUB_CLASSIFIER, opts);
    assert.deepEqual(
      again.problems.map((p) => p.replace(/^.*scores\.jsonl:/, "")),
      ["3: not valid JSON (cut short or damaged)"],
    );
    assert.equal(net.images, 0, "the activations came from their cache");
    assert.deepEqual(
      again.results.map((r) => r.cached),
      [true, true, false, true],
    );
    const strip = (r: CandidateResult) => ({ ...r, seconds: 0, cached: false });
    assert.deepEqual(again.results.map(strip), cold.results.map(strip));
    // The retrained score was appended: a third run reads all four back.
    const third = await evaluateCandidates([stubSearch(stubBackbone(true))], STUB_FACES, STUB_CLASSIFIER, opts);
    assert.deepEqual(
      third.results.map((r) => r.cached),
      [true, true, true, true],
    );
  }),
);

test(
  "testCandidate: the final run reads back exactly, without activations; other test faces train again",
  withFolder("test-runs-", async (dir) => {
    const opts = {
      runsFile: path.join(dir, "runs.jsonl"),
      cacheDir: path.join(dir, "activations"),
      loadCrop: stubCrop,
    };
    const chosen: Candidate = { backbone: "stub-net", layer: "t", pooling: "mean", flip: true };
    const cold = await testCandidate(stubBackbone(), chosen, STUB_FACES, STUB_CLASSIFIER, opts);
    assert.equal(cold.cached, false);
    assert.equal(cold.features, 3);
    assert.deepEqual(
      cold.run.curve.map((p) => p.epoch),
      [1, 2, 3, 4],
    );
    // The run as testCandidate computed it before it kept runs: the same network on the same features.
    const get = async (set: readonly FaceImage[], flip = false) =>
      (await faceFeaturesAt(stubBackbone(), [{ layer: "t", poolings: ["mean"] }], set, { flip, ...opts })).sets.get(
        "t/mean",
      )!;
    const direct = trainMlp(
      stackRows(await get(STUB_FACES.train), await get(STUB_FACES.train, true)),
      await get(STUB_FACES.validation),
      STUB_CLASSIFIER,
      { curveEvery: 1 },
    );
    assert.deepEqual(cold.run.curve, direct.curve);
    assert.equal(cold.test, mlpAccuracy(direct.weights, await get(STUB_FACES.test)));

    fs.rmSync(opts.cacheDir, { recursive: true });
    const warm = await testCandidate(stubBackbone(true), chosen, STUB_FACES, STUB_CLASSIFIER, opts);
    assert.equal(warm.cached, true);
    assert.deepEqual({ ...warm, cached: false }, cold);

    const net = stubBackbone();
    const otherTest = { ...STUB_FACES, test: STUB_FACES.test.slice(1) };
    const changed = await testCandidate(net, chosen, otherTest, STUB_CLASSIFIER, opts);
    assert.equal(changed.cached, false);
    assert.ok(net.images > 0);
    assert.deepEqual(changed.run.curve, cold.run.curve, "the same training, scored on other test faces");
  }),
);

const IDENTITIES: [Pick<Backbone, "name" | "computation">, string, string][] = [
  [{ name: "mobilenet_v2-nsfwjs-4.4.0" }, "block_9_add", "mobilenet_v2-nsfwjs-4.4.0/block_9_add"],
  [
    { name: "mobilenet_v2-nsfwjs-4.4.0", computation: "bn-folded-1" },
    "block_9_add",
    "mobilenet_v2-nsfwjs-4.4.0+bn-folded-1/block_9_add",
  ],
  [{ name: "alexnet-torchvision-0123abcd" }, "conv4", "alexnet-torchvision-0123abcd/conv4"],
  [{ name: "a/b c" }, "x:y", "a_b_c/x_y"],
];
for (const [backbone, layer, folder] of IDENTITIES) {
  test(`activationIdentity of ${JSON.stringify(backbone)} at ${layer} is the cache's folder ${folder}`, () => {
    assert.equal(activationIdentity(backbone, layer), folder);
    assert.equal(path.dirname(activationFile("/root", activationCacheName(backbone), layer, "h")), `/root/${folder}`);
  });
}
