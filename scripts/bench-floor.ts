/**
 * `npm run bench:floor`: how fast WebAssembly can do float arithmetic on this machine, and
 * what that means for a cold `bash scripts/main.sh`. It measures the peak (scripts/wasm-peak.c:
 * multiplies and adds in registers, no memory traffic) on one thread and on every usable core
 * at once, then divides the arithmetic a cold main job cannot avoid by it:
 *
 *   - the 216-configuration grid's first-layer products (notebook 08), each job's epoch counts
 *     trained as one run, as the kernel does;
 *   - the forward passes of notebook 10's full search: InceptionV3 and MobileNetV2 on the
 *     training faces, their mirror images and the validation faces, MobileNetV2 also on the
 *     test faces (its candidate is chosen);
 *   - the first-layer products of the 34 candidate classifiers and of the chosen one's final run.
 *
 * Everything else (Parts 1-7, the face pipeline, face-api, the PDF export, memory traffic) is
 * left out, so the sum is a floor: no implementation in WebAssembly on this machine finishes a
 * cold main job sooner. The ratio printed is that floor over the issue's five minutes.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Worker } from "worker_threads";
import { loadFaceSplits } from "@csc411/lib/data/faces";
import { INCEPTION_LAYERS, MOBILENET_LAYERS, TapLayer } from "@csc411/lib/models/backbones";
import { gridConfigs, REPORT_GRID } from "@csc411/lib/models/mlp";
import { machineLine } from "./bench-reference";

const TARGET_SECONDS = 5 * 60;
/** Multiply-adds per image of the whole network, from the sources named in the notes below. */
const INCEPTION_MACS = 5.71e9;
const MOBILENET_MACS = 0.3e9;
/** Notebook 10's classifier (100 hidden units, 100 epochs) and its full search (settings cell). */
const HIDDEN = 100;
const EPOCHS = 100;
const SEARCH: { layers: readonly TapLayer[]; flat: string[]; mean: string[] }[] = [
  {
    layers: MOBILENET_LAYERS,
    flat: ["block_5_add", "block_9_add", "block_12_add", "block_15_add"],
    mean: ["block_5_add", "block_9_add", "block_12_add", "block_15_add", "out_relu"],
  },
  {
    layers: INCEPTION_LAYERS,
    flat: ["mixed8"],
    mean: ["mixed2", "mixed4", "mixed5", "mixed6", "mixed7", "mixed8", "mixed10"],
  },
];
const CHOSEN = { layers: MOBILENET_LAYERS, layer: "block_12_add" };
const PEAK_C = path.join(__dirname, "wasm-peak.c");

/** Compiles wasm-peak.c with scripts/build-wasm.mjs's target and optimisation flags (that script builds only lib/). */
function compilePeak(dir: string): string {
  const out = path.join(dir, "wasm-peak.wasm");
  const flags = ["--target=wasm32", "-O3", "-msimd128", "-nostdlib", "-Wl,--no-entry", "-Wl,--export-dynamic"];
  const r = spawnSync("clang", [...flags, "-fvisibility=default", "-o", out, PEAK_C], { encoding: "utf8" });
  if (r.error || r.status !== 0)
    throw new Error(`bench-floor: clang could not build ${PEAK_C}: ${r.error?.message ?? r.stderr}`);
  return out;
}

// Runs in each worker: the best GFLOP/s of five timed calls after a warm-up.
const WORKER = `
const { parentPort, workerData } = require("worker_threads");
const fs = require("fs");
const e = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(workerData.file))).exports;
e.wasm_peak(1e6, 1);
let best = 0;
for (let r = 0; r < 5; r++) {
  const n = 2e7, t = process.hrtime.bigint();
  e.wasm_peak(n, 1 + r);
  best = Math.max(best, (n * 96) / (Number(process.hrtime.bigint() - t) / 1e9) / 1e9);
}
parentPort.postMessage(best);
`;

/** GFLOP/s of `threads` workers running the peak loop at the same time, each one's best. */
async function peak(file: string, threads: number): Promise<number[]> {
  return Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(WORKER, { eval: true, workerData: { file } });
          w.once("message", (v: number) => resolve(v));
          w.once("error", reject);
        }),
    ),
  );
}

function features(layers: readonly TapLayer[], name: string, pooling: "flat" | "mean"): number {
  const layer = layers.find((l) => l.name === name);
  if (!layer) throw new Error(`bench-floor: no tap layer ${name}`);
  return pooling === "mean" ? layer.shape[layer.shape.length - 1] : layer.shape.reduce((a, b) => a * b, 1);
}

/**
 * The floating-point operations a cold main job cannot avoid, by item, for these face counts
 * (full profile): 4 per weight and row per epoch for a first layer (its forward product and its
 * weight gradient), 2 per multiply-add for a forward pass through a CNN.
 */
export function coldMainWork(faces: { train: number; validation: number; test: number }): {
  items: [string, number][];
  gridRuns: number;
} {
  const { train, validation, test } = faces;
  // The grid: a job's epoch counts are one run of the longest, as the kernel trains them.
  const jobs = new Map<string, number>();
  for (const c of gridConfigs(REPORT_GRID)) {
    const key = `${c.size}|${c.hidden}|${c.batchSize}|${c.activation}|${c.learningRate}`;
    jobs.set(key, Math.max(jobs.get(key) ?? 0, c.epochs * c.size * c.size * c.hidden));
  }
  const grid = 4 * train * [...jobs.values()].reduce((a, b) => a + b, 0);
  const extractionImages = 2 * train + validation;
  const inception = 2 * INCEPTION_MACS * extractionImages;
  const mobilenet = 2 * MOBILENET_MACS * (extractionImages + test);
  let searchFeatures = 0,
    taps = 0;
  for (const s of SEARCH) {
    taps += s.flat.length + s.mean.length;
    searchFeatures +=
      s.flat.reduce((a, l) => a + features(s.layers, l, "flat"), 0) +
      s.mean.reduce((a, l) => a + features(s.layers, l, "mean"), 0);
  }
  // Each candidate trains once on the faces as they are and once with their mirror images.
  const candidates = 4 * (train + 2 * train) * searchFeatures * HIDDEN * EPOCHS;
  const chosenFeatures = features(CHOSEN.layers, CHOSEN.layer, "flat");
  // The final run trains on faces and mirrors and scores training and validation faces every epoch.
  const finalRun = (4 * 2 * train + 2 * (2 * train + validation)) * chosenFeatures * HIDDEN * EPOCHS;
  return {
    items: [
      ["notebook 08: the grid's first-layer products", grid],
      [`notebook 10: InceptionV3 on ${extractionImages} faces`, inception],
      [`notebook 10: MobileNetV2 on ${extractionImages + test} faces`, mobilenet],
      [`notebook 10: ${2 * taps} candidate classifiers`, candidates],
      ["notebook 10: the chosen classifier's final run", finalRun],
    ],
    gridRuns: jobs.size,
  };
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-floor-"));
  try {
    const file = compilePeak(dir);
    const cores = os.availableParallelism();
    // The best of three rounds: another job on the machine can only make the peak look lower
    // (and the floor higher), so the fastest round is the honest one.
    let one = 0,
      all = 0;
    for (let r = 0; r < 3; r++) {
      one = Math.max(one, ...(await peak(file, 1)));
      all = Math.max(
        all,
        (await peak(file, cores)).reduce((a, b) => a + b, 0),
      );
    }
    const flops = all * 1e9;

    const splits = await loadFaceSplits();
    const counts = { train: splits.train.length, validation: splits.validation.length, test: splits.test.length };
    const { items, gridRuns } = coldMainWork(counts);
    const { train, validation, test } = counts;
    const total = items.reduce((s, [, f]) => s + f, 0);
    const floor = total / flops;
    const figures: Record<string, string> = {
      "WebAssembly SIMD peak, 1 thread": `${one.toFixed(1)} GFLOP/s`,
      [`WebAssembly SIMD peak, ${cores} threads at once`]: `${all.toFixed(1)} GFLOP/s`,
    };
    for (const [name, f] of items)
      figures[name] = `${(f / 1e12).toFixed(2)} TFLOP, ${(f / flops).toFixed(0)} s at the peak`;
    figures["floor of a cold main job"] = `${(total / 1e12).toFixed(2)} TFLOP, ${floor.toFixed(0)} s`;
    console.log(`machine: ${machineLine()}`);
    for (const [k, v] of Object.entries(figures)) console.log(`  ${k.padEnd(52)} ${v}`);
    const record = {
      name: "The cold main job's arithmetic at WebAssembly's peak",
      command: "npm run bench:floor",
      ratio: floor / TARGET_SECONDS,
      target: "floor / 5 minutes <= 1.0 (a cold main job within five minutes is possible at all)",
      met: floor <= TARGET_SECONDS,
      figures,
      references: [
        "InceptionV3: 5.71 G multiply-adds per 299x299 image (torchvision's model table; OpenVINO's model zoo lists 11.47 GFLOPs for it)",
        "MobileNetV2 1.0: 300 M multiply-adds per 224x224 image (Sandler et al., MobileNetV2: Inverted Residuals and Linear Bottlenecks, 2018; bench:mobilenet counts 599 MFLOP of its convolutions up to out_relu)",
      ],
      lowerBound: `${floor.toFixed(0)} s: this record is itself a lower bound`,
      notes: [
        `faces: ${train} training, ${validation} validation, ${test} test (full profile); the grid's ${gridConfigs(REPORT_GRID).length} configurations as ${gridRuns} runs of their longest epoch count`,
        "the peak is wasm-peak.c: 12 independent chains of f32x4 multiply then add in registers, nothing else; WebAssembly in Node 20 has no fused multiply-add and no vectors wider than 4 floats, so this is as fast as the kernels and XNNPACK's convolutions can compute (the Part 4 kernel reaches about 95% of it on one thread)",
        "left out, each adding to the floor: Parts 1-7, the face pipeline, face-api's descriptors, the Part 8 network, memory traffic and the PDF export",
      ],
    };
    console.log(`BENCHMARK_JSON ${JSON.stringify(record)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module)
  main().catch((e) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  });
