/**
 * Benchmark of the Part 4/5 training step (minibatch 1000 of MNIST, forward, hand-written
 * gradient, momentum update) as trainSoftmax runs it on each engine (the WebAssembly SIMD
 * kernel that the notebooks use, on two threads by default and on one, and TensorFlow.js
 * ops), against numpy 2.4.6 from the project venv (OpenBLAS; the kernel it picked is printed)
 * on the same machine in the same run, and Debian's numpy (reference BLAS) as a second line.
 *
 *   npm run bench:softmax [-- --iterations 500] [-- --rounds 3] [-- --python .venv/bin/python] [-- --no-debian]
 *
 * Prints ms per iteration, GFLOP/s (2 * 1000 * 784 * 10 multiply-adds for each of the two
 * products, counted dense for every engine: the kernel skips zero pixels, so its rate is
 * an effective one) and the ratios to numpy. The machine is shared and its speed drifts
 * by tens of percent within minutes, so the three are timed in turn, round after round,
 * and each one's best round is compared; the per-round kernel/numpy ratios are printed too.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { initBackend } from "@csc411/lib/runtime";
import { loadMnist, oneHot } from "@csc411/lib/data/mnist";
import { Engine, trainSoftmax } from "@csc411/lib/models/softmax";
import { Random, xavierNormal } from "@csc411/lib/runtime";
import {
  BlasInfo,
  blasLine,
  DEBIAN_PYTHON,
  machineLine,
  machinePeak,
  printBenchmarkJson,
  PROJECT_PYTHON,
  pythonHas,
  runPython,
  cliArg,
} from "./bench-reference";

const ITERATIONS = Number(cliArg("iterations", "500"));
const ROUNDS = Number(cliArg("rounds", "3"));
const PYTHON = cliArg("python", PROJECT_PYTHON);
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

function numpyMs(python: string, dir: string, count: number, threads?: number): { ms: number } & BlasInfo {
  const script = path.join(__dirname, "bench_softmax_numpy.py");
  const args = [path.join(dir, "images.f32"), path.join(dir, "labels.f32"), String(count), String(ITERATIONS), "3"];
  return runPython(python, script, args, "numpy", threads ? { OPENBLAS_NUM_THREADS: String(threads) } : {});
}

const TARGET = 0.7;

async function main() {
  const backend = await initBackend();
  const { train } = loadMnist();
  const gflops = (ms: number) => FLOP_PER_STEP / (ms * 1e6);
  const dir = writeForNumpy(train);
  const withDebian = !process.argv.includes("--no-debian") && pythonHas(DEBIAN_PYTHON, ["numpy"]);
  type Round = { kernel2: number; kernel: number; tfjs: number; numpy: number; numpy1: number; debian: number };
  const rounds: Round[] = [];
  let numpyBlas: BlasInfo | null = null,
    debianBlas: BlasInfo | null = null;
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const kernel2 = engineMs(train, "kernel", 2);
      const np = numpyMs(PYTHON, dir, train.rows);
      const kernel = engineMs(train, "kernel", 1);
      const np1 = numpyMs(PYTHON, dir, train.rows, 1);
      const tfjs = engineMs(train, "tfjs");
      const deb = withDebian ? numpyMs(DEBIAN_PYTHON, dir, train.rows) : null;
      numpyBlas = np;
      debianBlas = deb;
      rounds.push({ kernel2, kernel, tfjs, numpy: np.ms, numpy1: np1.ms, debian: deb?.ms ?? NaN });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const best = (k: keyof Round) => Math.min(...rounds.map((r) => r[k]));
  const runs = (k: keyof Round) => rounds.map((r) => r[k].toFixed(3)).join(", ");
  console.log(
    `softmax training step: batch ${BATCH}, 784 -> 10, momentum update, ${ITERATIONS} iterations x ${ROUNDS} interleaved rounds, ${(FLOP_PER_STEP / 1e6).toFixed(1)} MFLOP/step`,
  );
  console.log(`  machine: ${machineLine()}`);
  console.log(`  reference: ${blasLine(numpyBlas!)} (${PYTHON}, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset)`);
  if (debianBlas) console.log(`  reference BLAS line: ${blasLine(debianBlas)} (${DEBIAN_PYTHON})`);
  // The reference is numpy at its better thread count in this run: OpenBLAS's two threads wait
  // for each other when other jobs hold the cores, and then its 1-thread time is the faster.
  const degraded = best("numpy") > best("numpy1");
  const reference = Math.min(best("numpy"), best("numpy1"));
  const line = (name: string, k: keyof Round, note = "") =>
    console.log(
      `  ${name.padEnd(34)} ${best(k).toFixed(3).padStart(7)} ms/iter  ${gflops(best(k)).toFixed(2).padStart(6)} GFLOP/s  ratio to numpy ${(best(k) / reference).toFixed(2)}  (rounds: ${runs(k)})${note}`,
    );
  line("wasm kernel, 2 threads", "kernel2", ", counted dense");
  line("wasm kernel, 1 thread", "kernel", ", counted dense");
  line(`tfjs ${backend.name}`, "tfjs");
  line(numpyBlas!.library, "numpy");
  line(`${numpyBlas!.library}, 1 thread`, "numpy1", " (OPENBLAS_NUM_THREADS=1)");
  if (debianBlas) line(`${debianBlas.library} (reference BLAS)`, "debian");
  const perRound = rounds.map((r) => r.kernel2 / Math.min(r.numpy, r.numpy1));
  const ratio = best("kernel2") / reference;
  // Lower bound: the two products at the machine's peak.
  const peak = machinePeak();
  const bound = `${((FLOP_PER_STEP / peak.flops) * 1e3).toFixed(2)} ms (${(FLOP_PER_STEP / 1e6).toFixed(1)} MFLOP at ${peak.label})`;
  console.log(
    `  kernel (2 threads, as trainSoftmax runs by default) / numpy 2.4.6 at its faster thread count (${degraded ? 1 : 2}): best ${ratio.toFixed(2)}, per round ${perRound.map((x) => x.toFixed(2)).join(", ")}; target <= ${TARGET}: ${ratio <= TARGET ? "met" : "NOT met"}`,
  );
  if (degraded)
    console.log(
      `  note: numpy on 2 threads was slower than on 1 (cores busy with other jobs: its threads wait for each other), so 1 thread is the reference; kernel 1 thread / numpy 1 thread: ${(best("kernel") / best("numpy1")).toFixed(2)}`,
    );
  console.log(`  lower bound: ${bound}`);
  printBenchmarkJson({
    name: "Part 4 training step",
    command: "npm run bench:softmax",
    ratio,
    target: `kernel / numpy 2.4.6 (its faster thread count) <= ${TARGET}`,
    met: ratio <= TARGET,
    figures: {
      "wasm kernel, 2 threads": `${best("kernel2").toFixed(3)} ms/step`,
      "wasm kernel, 1 thread": `${best("kernel").toFixed(3)} ms/step`,
      [`tfjs ${backend.name}`]: `${best("tfjs").toFixed(3)} ms/step`,
      [numpyBlas!.library]: `${best("numpy").toFixed(3)} ms/step`,
      [`${numpyBlas!.library}, 1 thread`]: `${best("numpy1").toFixed(3)} ms/step`,
      "kernel 1 thread / numpy 1 thread": (best("kernel") / best("numpy1")).toFixed(2),
      ...(debianBlas ? { [`${debianBlas.library} (reference BLAS)`]: `${best("debian").toFixed(3)} ms/step` } : {}),
      "ratio per round": perRound.map((x) => x.toFixed(2)).join(", "),
    },
    references: [blasLine(numpyBlas!), ...(debianBlas ? [`reference BLAS: ${blasLine(debianBlas)}`] : [])],
    lowerBound: bound,
    notes: [
      `${ITERATIONS} steps x ${ROUNDS} rounds, the sides interleaved within each round; best round of each compared`,
      "machine shared with other jobs while measured: timings are noisy, ratios less so",
      ...(degraded
        ? [
            "numpy on 2 threads was slower than on 1 in this run (cores busy with other jobs, its threads wait for each other): the ratio is against numpy on 1 thread",
          ]
        : []),
    ],
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
