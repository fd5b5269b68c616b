/**
 * Benchmark of the Part 4/5 training step (minibatch 1000 of MNIST, forward, hand-written
 * gradient, momentum update) as trainSoftmax runs it on each engine (the WebAssembly SIMD
 * kernel that the notebooks use, and TensorFlow.js ops), against numpy (Debian's
 * python3-numpy under /usr/bin/python3) on the same machine in the same run.
 *
 *   npm run bench:softmax [-- --iterations 500] [-- --python /usr/bin/python3]
 *
 * Prints ms per iteration, GFLOP/s (2 * 1000 * 784 * 10 multiply-adds for each of the two
 * products, counted dense for every engine: the kernel skips zero pixels, so its rate is
 * an effective one) and the ratios to numpy. The machine is shared, so only ratios
 * measured in one run mean anything; each engine is timed before and after numpy and
 * the better run is kept.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { initBackend } from "../lib/runtime/backend";
import { loadMnist } from "../lib/data/mnist";
import { Engine, trainSoftmax } from "../lib/models/gradient-descent";
import { Random, xavierNormal } from "../lib/runtime/random";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const ITERATIONS = Number(arg("iterations", "500"));
const PYTHON = arg("python", "/usr/bin/python3");
const BATCH = 1000;
const FLOP_PER_STEP = 2 * (2 * BATCH * 784 * 10); // the two matrix products dominate

function engineMs(train: ReturnType<typeof loadMnist>["train"], engine: Engine): number {
  const rng = new Random(1);
  const run = (iterations: number) =>
    trainSoftmax({
      train,
      W0: xavierNormal(rng, 784, 10),
      b0: new Float32Array(10),
      learningRate: 1e-5,
      momentum: 0.9,
      batchSize: BATCH,
      maxIter: iterations,
      epsilon: 0,
      seed: 2,
      recordEvery: 0,
      engine,
    });
  run(20); // warm-up: wasm compilation, operator caches, heap growth
  const r = run(ITERATIONS);
  return r.stepMs / r.iterations;
}

function numpyMs(train: ReturnType<typeof loadMnist>["train"]): { ms: number; numpy: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-softmax-"));
  try {
    const images = path.join(dir, "images.f32");
    const labels = path.join(dir, "labels.f32");
    fs.writeFileSync(images, Buffer.from(train.images.buffer, train.images.byteOffset, train.images.byteLength));
    fs.writeFileSync(labels, Buffer.from(train.oneHot.buffer, train.oneHot.byteOffset, train.oneHot.byteLength));
    const script = path.join(__dirname, "bench_softmax_numpy.py");
    const out = execFileSync(PYTHON, [script, images, labels, String(train.count), String(ITERATIONS), "3"], { encoding: "utf8" });
    return JSON.parse(out.trim().split("\n").pop()!);
  } catch (e) {
    throw new Error(`numpy reference failed under ${PYTHON} (is python3-numpy installed? apt-get install python3-numpy): ${(e as Error).message}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const backend = await initBackend();
  const { train } = loadMnist();
  const gflops = (ms: number) => FLOP_PER_STEP / (ms * 1e6);
  const before = { kernel: engineMs(train, "kernel"), tfjs: engineMs(train, "tfjs") };
  const np = numpyMs(train);
  const after = { kernel: engineMs(train, "kernel"), tfjs: engineMs(train, "tfjs") };
  const threads = process.env.OPENBLAS_NUM_THREADS ?? `default (${os.cpus().length} cores)`;
  console.log(`softmax training step: batch ${BATCH}, 784 -> 10, momentum update, ${ITERATIONS} iterations, ${(FLOP_PER_STEP / 1e6).toFixed(1)} MFLOP/step`);
  const line = (name: string, ms: number, note: string) =>
    console.log(`  ${name.padEnd(24)} ${ms.toFixed(3).padStart(7)} ms/iter  ${gflops(ms).toFixed(2).padStart(6)} GFLOP/s  ratio to numpy ${(ms / np.ms).toFixed(2)}  ${note}`);
  for (const [engine, label] of [["kernel", "wasm SIMD kernel"], ["tfjs", `tfjs ${backend.name}`]] as const) {
    line(label, Math.min(before[engine], after[engine]), `(runs: ${before[engine].toFixed(3)}, ${after[engine].toFixed(3)})`);
  }
  line(`numpy ${np.numpy}`, np.ms, `(OpenBLAS threads: ${threads})`);
  console.log(`  (a ratio below 1 is faster than numpy)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
