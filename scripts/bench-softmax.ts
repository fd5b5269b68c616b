/**
 * Benchmark of the Part 4/5 training step (minibatch 1000 of MNIST, forward, hand-written
 * gradient, momentum update) as trainSoftmax runs it on each engine (the WebAssembly SIMD
 * kernel that the notebooks use, on two threads by default and on one, and TensorFlow.js
 * ops), against numpy (Debian's
 * python3-numpy under /usr/bin/python3) on the same machine in the same run.
 *
 *   npm run bench:softmax [-- --iterations 500] [-- --rounds 3] [-- --python /usr/bin/python3]
 *
 * Prints ms per iteration, GFLOP/s (2 * 1000 * 784 * 10 multiply-adds for each of the two
 * products, counted dense for every engine: the kernel skips zero pixels, so its rate is
 * an effective one) and the ratios to numpy. The machine is shared and its speed drifts
 * by tens of percent within minutes, so the three are timed in turn, round after round,
 * and each one's best round is compared; the per-round kernel/numpy ratios are printed too.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { initBackend } from "@csc411/lib/runtime";
import { loadMnist, oneHot } from "@csc411/lib/data/mnist";
import { Engine, trainSoftmax } from "@csc411/lib/models/softmax";
import { Random, xavierNormal } from "@csc411/lib/runtime";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const ITERATIONS = Number(arg("iterations", "500"));
const ROUNDS = Number(arg("rounds", "3"));
const PYTHON = arg("python", "/usr/bin/python3");
const BATCH = 1000;
const FLOP_PER_STEP = 2 * (2 * BATCH * 784 * 10); // the two matrix products dominate

function engineMs(train: ReturnType<typeof loadMnist>["train"], engine: Engine, threads: 1 | 2 = 1): number {
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
      threads,
    });
  run(20); // warm-up: wasm compilation, operator caches, heap growth
  const r = run(ITERATIONS);
  return r.stepMs / r.iterations;
}

/** Writes the training set as raw float32 files for the numpy side; returns the folder. */
function writeForNumpy(train: ReturnType<typeof loadMnist>["train"]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-softmax-"));
  fs.writeFileSync(path.join(dir, "images.f32"), Buffer.from(train.x.buffer, train.x.byteOffset, train.x.byteLength));
  fs.writeFileSync(path.join(dir, "labels.f32"), Buffer.from(oneHot(train, 10).buffer));
  return dir;
}

function numpyMs(dir: string, count: number): { ms: number; numpy: string } {
  const script = path.join(__dirname, "bench_softmax_numpy.py");
  const args = [
    script,
    path.join(dir, "images.f32"),
    path.join(dir, "labels.f32"),
    String(count),
    String(ITERATIONS),
    "3",
  ];
  try {
    const out = execFileSync(PYTHON, args, { encoding: "utf8" });
    return JSON.parse(out.trim().split("\n").pop()!);
  } catch (e) {
    throw new Error(
      `numpy reference failed under ${PYTHON} (is python3-numpy installed? apt-get install python3-numpy): ${(e as Error).message}`,
      { cause: e },
    );
  }
}

async function main() {
  const backend = await initBackend();
  const { train } = loadMnist();
  const gflops = (ms: number) => FLOP_PER_STEP / (ms * 1e6);
  const dir = writeForNumpy(train);
  const rounds: { kernel2: number; kernel: number; tfjs: number; numpy: number }[] = [];
  let numpyVersion = "";
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const kernel2 = engineMs(train, "kernel", 2);
      const kernel = engineMs(train, "kernel", 1);
      const tfjs = engineMs(train, "tfjs");
      const np = numpyMs(dir, train.rows);
      numpyVersion = np.numpy;
      rounds.push({ kernel2, kernel, tfjs, numpy: np.ms });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const best = (k: keyof (typeof rounds)[0]) => Math.min(...rounds.map((r) => r[k]));
  const runs = (k: keyof (typeof rounds)[0]) => rounds.map((r) => r[k].toFixed(3)).join(", ");
  const threads = process.env.OPENBLAS_NUM_THREADS ?? `default (${os.cpus().length} cores)`;
  console.log(
    `softmax training step: batch ${BATCH}, 784 -> 10, momentum update, ${ITERATIONS} iterations x ${ROUNDS} rounds, ${(FLOP_PER_STEP / 1e6).toFixed(1)} MFLOP/step`,
  );
  const line = (name: string, k: keyof (typeof rounds)[0], note = "") =>
    console.log(
      `  ${name.padEnd(24)} ${best(k).toFixed(3).padStart(7)} ms/iter  ${gflops(best(k)).toFixed(2).padStart(6)} GFLOP/s  ratio to numpy ${(best(k) / best("numpy")).toFixed(2)}  (rounds: ${runs(k)})${note}`,
    );
  line("wasm kernel, 2 threads", "kernel2", ", counted dense");
  line("wasm kernel, 1 thread", "kernel", ", counted dense");
  line(`tfjs ${backend.name}`, "tfjs");
  line(`numpy ${numpyVersion}`, "numpy", `, OpenBLAS threads: ${threads}`);
  console.log(
    `  kernel (2 threads, as trainSoftmax runs by default) / numpy within each round: ${rounds.map((r) => (r.kernel2 / r.numpy).toFixed(2)).join(", ")} (below 1 is faster than numpy)`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
