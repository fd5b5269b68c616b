/**
 * `npm run bench:mobilenet`: MobileNetV2 feature extraction as notebook 10 runs it, against a
 * hand-written PyTorch 2.13 MobileNetV2 (scripts/bench_mobilenet_torch.py) on the same machine
 * in the same run.
 *
 * Ours: ParallelBackbone({ kind: "mobilenet_v2" }) on two worker threads (the notebook's
 * setup), fed 227x227 RGB crops in chunks of 16 (cachedActivationsAt's default chunk, split
 * 8 + 8 over the threads), every tap layer of the full profile's search from one forward pass
 * per chunk (block_5_add, block_9_add, block_12_add, block_15_add, out_relu: the whole
 * convolutional network). `--taps quick` times the quick profile's single tap, block_9_add
 * (the network up to block 9). Also timed: the same backbone on one worker thread, and the
 * full path through the activation cache (hashing, writing every layer's file, averaging
 * out_relu) into an empty temporary cache, which is what a cold notebook run pays.
 *
 * Torch: the same layers (up to the deepest tap), the same batch of 16 and crop size
 * (resized to 224 inside the timed region, as ours does), eval mode, inference_mode, with
 * torch.set_num_threads(2) and (1). BatchNorm is kept as separate layers on both sides
 * (nsfwjs's model runs its 52 BatchNormalization layers as their own ops); `--fold-bn` adds
 * torch with BatchNorm folded into the convolutions, as a deployment would run it.
 *
 * Rounds interleave the sides (ours, torch 2 threads, torch 1 thread, ...); each side's best
 * round is compared. The ratio is our time per image over torch's (torch images/s over ours:
 * below 1 is faster than torch), against torch at its faster thread count in the run, as
 * scripts/bench-faces.ts does.
 *
 *   npm run bench:mobilenet [-- --images 64] [-- --rounds 3] [-- --taps full|quick|a,b,c] [-- --fold-bn]
 *
 * TFJS_BATCH_NORM=tfjs and TFJS_PAD=tfjs in the environment time ours with tfjs's own
 * FusedBatchNorm and PadV2 kernels instead of the project's (lib/models/backbones/batch-norm.ts,
 * pad.ts; the same outputs, slower): the figures before those kernels.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { initBackend, Random } from "@csc411/lib/runtime";
import {
  batchNormKernelPath,
  cachedActivationsAt,
  ParallelBackbone,
  RgbImage,
  tapLayer,
} from "@csc411/lib/models/backbones";
import { meanPool } from "@csc411/lib/experiments/transfer";
import {
  BlasInfo,
  blasLine,
  machineLine,
  printBenchmarkJson,
  PROJECT_PYTHON,
  runPython,
  cliArg,
} from "./bench-reference";

function positive(name: string, fallback: number): number {
  const v = Number(cliArg(name, String(fallback)));
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${cliArg(name, "")}`);
  return v;
}

/** The tap layers of notebook 10's SEARCH.mobilenet, per profile (keep in step with the notebook). */
const PROFILE_TAPS: Record<string, string[]> = {
  full: ["block_5_add", "block_9_add", "block_12_add", "block_15_add", "out_relu"],
  quick: ["block_9_add"],
};
/** Taps whose activations the full profile keeps only averaged (the notebook's "mean"-only poolings). */
const MEAN_ONLY = new Set(["out_relu"]);

const TAPS_ARG = cliArg("taps", "full");
const TAPS = PROFILE_TAPS[TAPS_ARG] ?? TAPS_ARG.split(",");
const IMAGES = positive("images", 64);
const ROUNDS = positive("rounds", 3);
/** cachedActivationsAt's default chunk: one activationsAt call per 16 images. */
const CHUNK = 16;
const CROP = 227;
const FOLD_BN = process.argv.includes("--fold-bn");
const TORCH = path.join(__dirname, "bench_mobilenet_torch.py");

interface TorchRun extends BlasInfo {
  imagesPerSecond: number;
  seconds: number;
  cpu: number;
  macsPerImage: number;
  meanAbs: Record<string, number>;
}

function crops(n: number, rng: Random): RgbImage[] {
  return Array.from({ length: n }, () => ({
    width: CROP,
    height: CROP,
    data: Float32Array.from({ length: CROP * CROP * 3 }, () => rng.uniform()),
  }));
}

/** Images per second through activationsAt, chunk by chunk, as cachedActivationsAt calls it on cache misses. */
async function network(net: ParallelBackbone, imgs: RgbImage[]): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < imgs.length; i += CHUNK) await net.activationsAt(imgs.slice(i, i + CHUNK), TAPS);
  return imgs.length / ((performance.now() - t0) / 1000);
}

/** Images per second through the activation cache into an empty cache, with the notebook's averaging. */
async function throughCache(net: ParallelBackbone, imgs: RgbImage[]): Promise<number> {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-mobilenet-"));
  try {
    const t0 = performance.now();
    await cachedActivationsAt(net, TAPS, imgs, {
      cacheDir,
      batchSize: CHUNK,
      reduce: (layer, f) => (MEAN_ONLY.has(layer) ? meanPool(f, tapLayer(net, layer).shape) : f),
    });
    return imgs.length / ((performance.now() - t0) / 1000);
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

function torch(threads: number, fold = false): TorchRun {
  const args = [TAPS.join(","), String(CHUNK), String(IMAGES), String(threads), ...(fold ? ["--fold-bn"] : [])];
  return runPython<TorchRun>(PROJECT_PYTHON, TORCH, args, "torch");
}

/** Which BatchNorm and PadV2 kernels our workers run (nsfwjs.ts installs the project's on wasm). */
function kernelsUsed(): string {
  const bn =
    process.env.TFJS_BATCH_NORM === "tfjs"
      ? "tfjs's FusedBatchNorm (TFJS_BATCH_NORM=tfjs)"
      : fs.existsSync(batchNormKernelPath())
        ? "the SIMD BatchNorm of batch-norm.ts"
        : "tfjs's FusedBatchNorm (the SIMD one is not built: npm run build)";
  const pad = process.env.TFJS_PAD === "tfjs" ? "tfjs's PadV2 (TFJS_PAD=tfjs)" : "the row-copy PadV2 of pad.ts";
  const ours = !bn.startsWith("tfjs") || !pad.startsWith("tfjs");
  return `${bn}, ${pad}${ours ? " (the project's give tfjs's outputs bit for bit)" : ""}`;
}

type Side = "ours" | "ours1" | "cache" | "torch2" | "torch1" | "folded2" | "folded1";

async function main() {
  const backend = await initBackend();
  const rng = new Random(411);
  const imgs = crops(IMAGES, rng);
  const two = await ParallelBackbone.start({ kind: "mobilenet_v2" }, 2);
  const one = await ParallelBackbone.start({ kind: "mobilenet_v2" }, 1);
  TAPS.forEach((t) => tapLayer(two, t));
  // Warm-up: each worker builds its tap model and the wasm kernels set up their operators.
  await two.activationsAt(imgs.slice(0, CHUNK), TAPS);
  await one.activationsAt(imgs.slice(0, CHUNK), TAPS);
  const rounds: Record<Side, number>[] = [];
  let ref: TorchRun | null = null;
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const ours = await network(two, imgs);
      const t2 = torch(2);
      const t1 = torch(1);
      const ours1 = await network(one, imgs);
      const cache = await throughCache(two, imgs);
      const f2 = FOLD_BN ? torch(2, true).imagesPerSecond : NaN;
      const f1 = FOLD_BN ? torch(1, true).imagesPerSecond : NaN;
      ref = t2;
      rounds.push({
        ours,
        ours1,
        cache,
        torch2: t2.imagesPerSecond,
        torch1: t1.imagesPerSecond,
        folded2: f2,
        folded1: f1,
      });
      console.log(
        `  round ${r + 1}: ours ${ours.toFixed(1)}, torch 2 threads ${t2.imagesPerSecond.toFixed(1)}, torch 1 thread ${t1.imagesPerSecond.toFixed(1)}, ours 1 thread ${ours1.toFixed(1)}, through the cache ${cache.toFixed(1)} images/s`,
      );
    }
  } finally {
    two.dispose();
    one.dispose();
  }
  const best = (k: Side) => Math.max(...rounds.map((x) => x[k]));
  const runs = (k: Side) => rounds.map((x) => x[k].toFixed(1)).join(", ");
  // Two torch threads on cores taken by other jobs wait for each other (OpenMP barriers): then
  // its 1-thread rate is the higher, and the reference.
  const degraded = best("torch1") > best("torch2");
  const reference = Math.max(best("torch2"), best("torch1"));
  const ratio = reference / best("ours");
  const ratio2 = best("torch2") / best("ours");
  const perRound = rounds.map((x) => (Math.max(x.torch2, x.torch1) / x.ours).toFixed(2)).join(", ");
  const macs = ref!.macsPerImage;
  const boundMs = ((2 * macs) / 426e9) * 1e3;
  const bound = `${boundMs.toFixed(2)} ms per image, ${(1000 / boundMs).toFixed(0)} images/s (${((2 * macs) / 1e6).toFixed(0)} MFLOP of convolutions up to ${TAPS[TAPS.length - 1]} at 426 GFLOP/s)`;
  const layers = `${TAPS.join(", ")} (${TAPS_ARG in PROFILE_TAPS ? `notebook 10's ${TAPS_ARG} profile` : "--taps"})`;
  console.log(
    `MobileNetV2 feature extraction: ${layers}, ${IMAGES} crops of ${CROP}x${CROP} in chunks of ${CHUNK}, ${ROUNDS} interleaved rounds`,
  );
  console.log(`  machine: ${machineLine()}; ours on tfjs ${backend.name}, kernels: ${kernelsUsed()}`);
  console.log(`  reference: ${blasLine(ref!)} (${PROJECT_PYTHON}), BatchNorm not folded`);
  const line = (name: string, k: Side, note = "") =>
    console.log(
      `  ${name.padEnd(44)} ${best(k).toFixed(1).padStart(6)} images/s  ${(1000 / best(k)).toFixed(1).padStart(6)} ms/image  (rounds: ${runs(k)})${note}`,
    );
  line("ours: 2 worker threads (notebook 10)", "ours");
  line("ours: 1 worker thread", "ours1");
  line("ours: 2 threads, through an empty cache", "cache", " (hashing, cache files, averaging)");
  line("torch 2.13, 2 threads", "torch2");
  line("torch 2.13, 1 thread", "torch1");
  if (FOLD_BN) {
    line("torch 2.13, BatchNorm folded, 2 threads", "folded2");
    line("torch 2.13, BatchNorm folded, 1 thread", "folded1");
  }
  console.log(
    `  ours / torch in time per image (torch images/s over ours) at torch's faster thread count (${degraded ? 1 : 2}): best ${ratio.toFixed(2)}, per round ${perRound}; against torch on 2 threads: ${ratio2.toFixed(2)}; target <= 1.0: ${ratio <= 1 ? "met" : "NOT met"}`,
  );
  if (degraded)
    console.log(
      "  note: torch on 2 threads was slower than on 1 (cores busy with other jobs: its threads wait for each other), so 1 thread is the reference",
    );
  console.log(`  torch tap magnitudes (mean |value|, random weights): ${JSON.stringify(ref!.meanAbs)}`);
  console.log(`  lower bound: ${bound}`);
  const rate = (k: Side) => `${best(k).toFixed(1)} images/s`;
  printBenchmarkJson({
    name: "MobileNetV2 feature extraction",
    command: `npm run bench:mobilenet${TAPS_ARG === "full" ? "" : ` -- --taps ${TAPS_ARG}`}`,
    ratio,
    target: "our time per image / torch 2.13's on 2 threads (or 1, when faster in the run) <= 1.0",
    met: ratio <= 1,
    figures: {
      layers,
      "our BatchNorm and padding": kernelsUsed(),
      "ours, 2 worker threads (as notebook 10)": rate("ours"),
      "ours, 1 worker thread": rate("ours1"),
      "ours, 2 threads through an empty activation cache": rate("cache"),
      "torch 2.13, 2 threads": rate("torch2"),
      "torch 2.13, 1 thread": rate("torch1"),
      ...(FOLD_BN
        ? {
            "torch 2.13, BatchNorm folded, 2 threads": rate("folded2"),
            "torch 2.13, BatchNorm folded, 1 thread": rate("folded1"),
          }
        : {}),
      "ours 1 thread / torch 1 thread, in time": (best("torch1") / best("ours1")).toFixed(2),
      "ratio per round": perRound,
    },
    references: [`${blasLine(ref!)}; hand-written MobileNetV2 in torch.nn (no torchvision), random seeded weights`],
    lowerBound: bound,
    notes: [
      `${IMAGES} random ${CROP}x${CROP} crops per round in chunks of ${CHUNK}, resized to 224x224 on both sides inside the timed region; ${ROUNDS} rounds, the sides interleaved; best round of each compared`,
      "ours is nsfwjs's MobileNetV2 on TensorFlow.js wasm (SIMD, one thread per worker), one copy per worker thread, each chunk split 8 + 8; torch runs the same layers with BatchNorm as separate layers (as the nsfwjs model does) and random weights (speed does not depend on their values)",
      "machine shared with other jobs while measured: timings are noisy, ratios less so",
      ...(degraded
        ? [
            "torch on 2 threads was slower than on 1 in this run (cores busy with other jobs, its threads wait for each other): the ratio is against torch on 1 thread",
          ]
        : []),
    ],
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
