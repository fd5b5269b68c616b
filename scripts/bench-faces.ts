/**
 * `npm run bench:faces`: (1) the face pipeline on the mirrored images, timed by stage, into a
 * fresh cache and then again on that cache; (2) one Part 8 network (the report's choice) on
 * the WebAssembly kernel against torch 2.13 from the project venv on 2 threads and 1 (the
 * TensorFlow.js engine once, for scale); (3) the grid on a subset of whole jobs against
 * torch on 2 processes of 1 thread. The sides run on the same arrays, interleaved round by
 * round (BENCH_ROUNDS, default 2). BENCH_SKIP_PIPELINE=1 skips (1); BENCH_PART=one or grid
 * runs only (2) or (3).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readFaceList, runFacePipeline, sourceFromEnv, summarisePipeline } from "@csc411/lib/data/faces";
import { ACTORS, loadFaceSplits } from "@csc411/lib/data/faces";
import { gridDataBySize } from "@csc411/lib/experiments/faces";
import {
  GridConfig,
  gridConfigs,
  GridData,
  GridResult,
  REPORT_GRID,
  runGridSearch,
  trainMlp,
  chooseMlpEngine,
} from "@csc411/lib/models/mlp";
import { initBackend } from "@csc411/lib/runtime";
import {
  BlasInfo,
  blasLine,
  machineLine,
  machinePeak,
  printBenchmarkJson,
  PROJECT_PYTHON,
  runPython,
} from "./bench-reference";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);

const CONFIG = {
  size: 64 as const,
  hidden: 20,
  batchSize: 100,
  epochs: 200,
  activation: "leaky_relu" as const,
  learningRate: 1e-3,
};

async function benchPipeline() {
  const { list, source } = await sourceFromEnv();
  const rows = (await readFaceList(list)).rows.filter((r) => ACTORS.includes(r.actor));
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-faces-"));
  console.log(
    `pipeline: ${rows.length} rows from ${source.description}, fresh cache ${cacheDir}, ${os.cpus().length} cores`,
  );
  try {
    for (const label of ["first run (empty cache)", "rerun (cached)"]) {
      const r = await runFacePipeline(rows, { source, cacheDir, decodeWorkers: 2 });
      console.log(`-- ${label}\n${summarisePipeline(r)}`);
    }
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

/** Writes one size's training and validation arrays for the torch side; returns the folder. */
function writeForTorch(d: GridData, root: string, size: 32 | 64): string {
  const folder = path.join(root, `s${size}`);
  fs.mkdirSync(folder, { recursive: true });
  const raw = (a: Float32Array | Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  fs.writeFileSync(path.join(folder, "meta.json"), JSON.stringify({ dim: d.train.dim }));
  fs.writeFileSync(path.join(folder, "train_x.f32"), raw(d.train.x));
  fs.writeFileSync(path.join(folder, "train_y.u8"), raw(d.train.labels));
  fs.writeFileSync(path.join(folder, "val_x.f32"), raw(d.validation.x));
  fs.writeFileSync(path.join(folder, "val_y.u8"), raw(d.validation.labels));
  return folder;
}

const TORCH = path.join(__dirname, "bench_faces_torch.py");
type TorchOne = { seconds: number; cpu: number; steps: number; validation: number } & BlasInfo;

/** One Part 8 network (the report's configuration): kernel and torch interleaved, tfjs once. */
async function benchOneNetwork(data: Record<32 | 64, GridData>, folders: Record<32 | 64, string>) {
  const backend = await initBackend();
  const d = data[CONFIG.size];
  const cfg = { ...CONFIG, seed: 0 };
  const torchArgs = (threads: number) => [
    "one",
    folders[CONFIG.size],
    String(CONFIG.hidden),
    String(CONFIG.batchSize),
    String(CONFIG.epochs),
    String(CONFIG.learningRate),
    CONFIG.activation,
    String(threads),
  ];
  trainMlp(d.train, d.validation, { ...cfg, epochs: 2 }, { engine: "kernel" }); // warm-up: compile the kernel
  const rounds: {
    kernel2: number;
    kernel: number;
    torch2: number;
    torch1: number;
    kernelCpu: number;
    torch1Cpu: number;
    kernelVal: number;
    torchVal: number;
  }[] = [];
  let blas: BlasInfo | null = null;
  for (let r = 0; r < ROUNDS; r++) {
    const k2 = trainMlp(d.train, d.validation, cfg, { engine: "kernel", threads: 2 });
    const t2 = runPython<TorchOne>(PROJECT_PYTHON, TORCH, torchArgs(2), "torch");
    const c0 = process.cpuUsage();
    const k = trainMlp(d.train, d.validation, cfg, { engine: "kernel", threads: 1 });
    const kernelCpu = process.cpuUsage(c0).user / 1e6;
    const t1 = runPython<TorchOne>(PROJECT_PYTHON, TORCH, torchArgs(1), "torch");
    blas = t2;
    if (k2.validationAccuracy !== k.validationAccuracy)
      throw new Error(
        `bench-faces: the kernel on 2 threads reached ${k2.validationAccuracy}, on 1 ${k.validationAccuracy}`,
      );
    rounds.push({
      kernel2: k2.seconds,
      kernel: k.seconds,
      torch2: t2.seconds,
      torch1: t1.seconds,
      kernelCpu,
      torch1Cpu: t1.cpu,
      kernelVal: k.validationAccuracy,
      torchVal: t2.validation,
    });
  }
  const tfjs = trainMlp(d.train, d.validation, cfg, { engine: "tfjs" });
  const best = (k: "kernel2" | "kernel" | "torch2" | "torch1" | "kernelCpu" | "torch1Cpu") =>
    Math.min(...rounds.map((x) => x[k]));
  const steps = tfjs.steps;
  // Two threads of torch on a machine whose cores are taken by other jobs wait for each other
  // (OpenMP barriers): then its 2-thread time says more about the load than about torch.
  const degraded = best("torch2") > best("torch1");
  const cpuRatio = best("kernelCpu") / best("torch1Cpu");
  // The reference is torch at its faster thread count in this run (see `degraded`).
  const reference = Math.min(best("torch2"), best("torch1"));
  // The kernel as trainMlp runs it on this machine: 2 threads.
  const ratio = best("kernel2") / reference;
  const perRound = rounds.map((x) => (x.kernel2 / Math.min(x.torch2, x.torch1)).toFixed(2)).join(", ");
  // Lower bound: the first layer's forward and weight-gradient products at the machine's peak.
  const flop = 4 * d.train.rows * CONFIG.epochs * d.train.dim * CONFIG.hidden;
  const peak = machinePeak();
  const bound = `${((flop / peak.flops) * 1e3).toFixed(0)} ms (${(flop / 1e9).toFixed(1)} GFLOP of first-layer products at ${peak.label})`;
  console.log(
    `one Part 8 network ${JSON.stringify(CONFIG)} on ${d.train.rows} images, ${steps} steps, ${ROUNDS} interleaved rounds`,
  );
  console.log(`  reference: ${blasLine(blas!)} (${PROJECT_PYTHON})`);
  const line = (name: string, s: number, note: string) =>
    console.log(
      `  ${name.padEnd(30)} ${s.toFixed(2).padStart(6)} s  ${((1000 * s) / steps).toFixed(2)} ms/step  ${note}`,
    );
  line(
    "wasm kernel, 2 threads",
    best("kernel2"),
    `validation ${rounds[0].kernelVal.toFixed(4)} (the same on 1 thread); rounds ${rounds.map((x) => x.kernel2.toFixed(2)).join(", ")}`,
  );
  line("wasm kernel, 1 thread", best("kernel"), `rounds ${rounds.map((x) => x.kernel.toFixed(2)).join(", ")}`);
  line(
    `tfjs ${backend.name}`,
    tfjs.seconds,
    `validation ${tfjs.validationAccuracy.toFixed(4)} (one run, after the rounds)`,
  );
  line(
    "torch 2 threads",
    best("torch2"),
    `validation ${rounds[0].torchVal.toFixed(4)} (its own init and shuffles); rounds ${rounds.map((x) => x.torch2.toFixed(2)).join(", ")}`,
  );
  line("torch 1 thread", best("torch1"), `rounds ${rounds.map((x) => x.torch1.toFixed(2)).join(", ")}`);
  console.log(
    `  kernel / torch at its faster thread count (${degraded ? 1 : 2}): best ${ratio.toFixed(2)}, per round ${perRound}; target <= 1.0: ${ratio <= 1 ? "met" : "NOT met"}`,
  );
  console.log(
    `  CPU seconds (less sensitive to other jobs): kernel ${best("kernelCpu").toFixed(2)}, torch 1 thread ${best("torch1Cpu").toFixed(2)}: ratio ${cpuRatio.toFixed(2)}`,
  );
  if (degraded)
    console.log(
      "  note: torch on 2 threads was slower than on 1 (cores busy with other jobs: its threads wait for each other), so 1 thread is the reference",
    );
  console.log(`  lower bound: ${bound}`);
  printBenchmarkJson({
    name: "One Part 8 network",
    command: "BENCH_SKIP_PIPELINE=1 BENCH_PART=one npm run bench:faces",
    ratio,
    target: "kernel (2 threads) / torch 2.13 on 2 threads (or 1, when faster in the run) <= 1.0",
    met: ratio <= 1,
    figures: {
      "wasm kernel, 2 threads": `${best("kernel2").toFixed(2)} s`,
      "wasm kernel, 1 thread": `${best("kernel").toFixed(2)} s`,
      [`tfjs ${backend.name}`]: `${tfjs.seconds.toFixed(2)} s (one run)`,
      "torch 2 threads": `${best("torch2").toFixed(2)} s`,
      "torch 1 thread": `${best("torch1").toFixed(2)} s`,
      "kernel 2 threads / torch 2 threads": (best("kernel2") / best("torch2")).toFixed(2),
      "kernel 1 thread / torch 1 thread": (best("kernel") / best("torch1")).toFixed(2),
      "CPU seconds, kernel / torch 1 thread": `${best("kernelCpu").toFixed(2)} / ${best("torch1Cpu").toFixed(2)} = ${cpuRatio.toFixed(2)}`,
      "ratio per round": perRound,
    },
    references: [blasLine(blas!)],
    lowerBound: bound,
    notes: [
      `${JSON.stringify(CONFIG)}, ${steps} Adam steps; best of ${ROUNDS} interleaved rounds for kernel and torch`,
      "2 threads: the second thread takes half of the batch's rows in the first layer's product and half of the inputs in its gradient and Adam update; the weights are the same bit for bit as on 1 thread",
      "machine shared with other jobs while measured: timings are noisy, ratios less so",
      ...(degraded
        ? [
            "torch on 2 threads was slower than on 1 in this run (cores busy with other jobs, its threads wait for each other): the ratio is against torch on 1 thread",
          ]
        : []),
    ],
  });
}

/**
 * The grid on a subset of whole jobs (every activation, rate and epoch count of some
 * size/hidden/batch combinations): runGridSearch on the kernel (2 workers) against torch
 * (2 processes of 1 thread, longest first), interleaved; the full grid's times are
 * estimated by scaling with the first layer's work (the subset's share of it is printed).
 */
async function benchGrid(data: Record<32 | 64, GridData>, folders: Record<32 | 64, string>, root: string) {
  const subset = (c: GridConfig) =>
    (c.size === 32 && c.hidden === 20 && c.batchSize === 50) ||
    (c.size === 64 && c.hidden === 10 && c.batchSize === 100);
  const all = gridConfigs(REPORT_GRID);
  const configs = all.filter(subset);
  const work = (cs: GridConfig[]) => cs.reduce((s, c) => s + c.epochs * c.size * c.size * c.hidden, 0);
  const share = work(configs) / work(all);
  // The grid picks its engine as trainMlp's "auto" does: this benchmark is about the kernel.
  const { engine, note } = chooseMlpEngine("auto", 6);
  if (engine !== "kernel") throw new Error(`bench-faces: the grid would not run on the kernel: ${note}`);
  const configsFile = path.join(root, "configs.json");
  fs.writeFileSync(configsFile, JSON.stringify(configs));
  const rounds: { kernel: number; torch: number }[] = [];
  let blas: BlasInfo | null = null;
  let kernelResults: GridResult[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const file = path.join(root, `grid-${r}.jsonl`);
    const t0 = performance.now();
    kernelResults = await runGridSearch(configs, data, {
      resultsFile: file,
      workers: 2,
      log: () => {},
    });
    const kernel = (performance.now() - t0) / 1000;
    const t = runPython<{ seconds: number } & BlasInfo>(
      PROJECT_PYTHON,
      TORCH,
      ["grid", folders[32], folders[64], configsFile, "2"],
      "torch",
    );
    blas = t;
    rounds.push({ kernel, torch: t.seconds });
  }
  const best = (k: "kernel" | "torch") => Math.min(...rounds.map((x) => x[k]));
  const ratio = best("kernel") / best("torch");
  const perRound = rounds.map((x) => (x.kernel / x.torch).toFixed(2)).join(", ");
  const rows = data[32].train.rows;
  const flop = all.reduce((s, c) => s + 4 * rows * c.epochs * c.size * c.size * c.hidden, 0);
  const peak = machinePeak();
  const bound = `${(flop / peak.flops).toFixed(0)} s (${(flop / 1e12).toFixed(1)} TFLOP of first-layer products at ${peak.label}); ${(flop / 2 / peak.flops).toFixed(0)} s when the epoch counts share one run`;
  const top = kernelResults.reduce((a, b) => (b.validationAccuracy > a.validationAccuracy ? b : a));
  console.log(
    `grid: ${configs.length} of ${all.length} configurations (${(100 * share).toFixed(1)}% of the first layer's work), ${ROUNDS} interleaved rounds`,
  );
  console.log(`  reference: ${blasLine(blas!)}, 2 processes x 1 thread`);
  console.log(
    `  wasm kernel, 2 workers: ${best("kernel").toFixed(1)} s (rounds ${rounds.map((x) => x.kernel.toFixed(1)).join(", ")}), full grid by scaling about ${(best("kernel") / share).toFixed(0)} s; best of subset ${top.key} ${top.validationAccuracy.toFixed(4)}`,
  );
  console.log(
    `  torch:                  ${best("torch").toFixed(1)} s (rounds ${rounds.map((x) => x.torch.toFixed(1)).join(", ")}), full grid by scaling about ${(best("torch") / share).toFixed(0)} s`,
  );
  console.log(
    `  kernel / torch: best ${ratio.toFixed(2)}, per round ${perRound}; target <= 0.5: ${ratio <= 0.5 ? "met" : "NOT met"}`,
  );
  console.log(`  lower bound: ${bound}`);
  printBenchmarkJson({
    name: "The 216-configuration grid",
    command: "BENCH_SKIP_PIPELINE=1 BENCH_PART=grid npm run bench:faces",
    ratio,
    target: "kernel / torch 2.13 (2 processes x 1 thread) <= 0.5",
    met: ratio <= 0.5,
    figures: {
      "configurations timed": `${configs.length} of ${all.length} (${(100 * share).toFixed(1)}% of the first layer's work)`,
      "wasm kernel, 2 workers": `${best("kernel").toFixed(1)} s (full grid by scaling: ${(best("kernel") / share).toFixed(0)} s)`,
      "torch, 2 x 1 thread": `${best("torch").toFixed(1)} s (full grid by scaling: ${(best("torch") / share).toFixed(0)} s)`,
      "ratio per round": perRound,
    },
    references: [`${blasLine(blas!)}, 2 processes x 1 thread`],
    lowerBound: bound,
    notes: [
      "a subset of whole jobs (32x32/20 hidden/batch 50 and 64x64/10 hidden/batch 100, each with every activation, rate and epoch count); full-grid times scaled by the first layer's work",
      "the subset is 2 jobs for 2 workers, so the kernel's time is its longer job's (about two thirds of the work) while torch spreads 24 configurations evenly: the scaled full-grid figure overstates the kernel's full grid (18 jobs balance over both workers), and the ratio is pessimistic for the kernel",
      "the kernel trains a job's 12 configurations together (4 variants as one wider network, the epoch counts as one run); torch trains each configuration on its own",
      "machine shared with other jobs while measured: timings are noisy, ratios less so",
    ],
  });
}

async function benchTraining() {
  const splits = await loadFaceSplits({ seed: 0 });
  const data = await gridDataBySize(splits);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-torch-"));
  try {
    const folders = { 32: writeForTorch(data[32], root, 32), 64: writeForTorch(data[64], root, 64) };
    console.log(`machine: ${machineLine()}`);
    const part = process.env.BENCH_PART ?? "all";
    if (part === "one" || part === "all") await benchOneNetwork(data, folders);
    if (part === "grid" || part === "all") await benchGrid(data, folders, root);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

async function main() {
  if (!process.env.BENCH_SKIP_PIPELINE) await benchPipeline();
  await benchTraining();
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
