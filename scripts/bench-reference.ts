/**
 * The Python side of the benchmarks: which interpreter, with which environment, and how a
 * result comes back. The reference is numpy 2.4.6 and torch 2.13 from the project's venv
 * (.venv, made by scripts/install.sh from jupyter/requirements.txt); Debian's python3 builds
 * (numpy 1.24 on the reference BLAS, torch 1.13 with BLAS_INFO=generic) may run as a second
 * line, labelled "reference BLAS", never as the reference a target is measured against.
 *
 * Each Python script prints one JSON line last, with its figures and a `blas` object (what
 * threadpoolctl and torch.__config__ report), so every printed ratio says what it was
 * measured against. A benchmark ends by printing one `BENCHMARK_JSON {...}` line, from which
 * scripts/bench-all.ts writes BENCHMARKS.md.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const PROJECT_PYTHON = path.join(__dirname, "..", ".venv", "bin", "python");
export const DEBIAN_PYTHON = "/usr/bin/python3";

/**
 * The environment of a Python subprocess. For numpy, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
 * are removed: set for the wheel's bundled OpenBLAS they pin a slow generic kernel
 * (../shared/docs/PLATFORM.md); only the numpy side's environment changes.
 */
export function pythonEnv(side: "numpy" | "torch"): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (side === "numpy") {
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
  }
  return env;
}

/** Runs a Python script and returns its last output line parsed as JSON; the error names the interpreter and script. */
export function runPython<T>(
  python: string,
  script: string,
  args: string[],
  side: "numpy" | "torch",
  extraEnv: Record<string, string> = {},
): T {
  if (!fs.existsSync(python))
    throw new Error(`${python} does not exist (the project venv is made by bash scripts/install.sh)`);
  let out: string;
  try {
    out = execFileSync(python, [script, ...args], {
      encoding: "utf8",
      env: { ...pythonEnv(side), ...extraEnv },
      maxBuffer: 1 << 26,
    });
  } catch (e) {
    throw new Error(`${path.basename(script)} failed under ${python}: ${(e as Error).message}`, { cause: e });
  }
  const last = out.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(
      `${path.basename(script)} under ${python} printed no JSON result; last line: ${last.slice(0, 200)}`,
    );
  }
}

/** True when `python` can import every module named. */
export function pythonHas(python: string, modules: string[]): boolean {
  if (!fs.existsSync(python)) return false;
  try {
    execFileSync(python, ["-c", `import ${modules.join(", ")}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** What a Python side reports about its BLAS (see blas_info() in the Python scripts). */
export interface BlasInfo {
  /** e.g. "numpy 2.4.6" or "torch 2.13.0+cpu". */
  library: string;
  /** e.g. "openblas 0.3.29, kernel SkylakeX, 2 threads" or "BLAS_INFO=mkl, CPU capability AVX512, 2 threads". */
  blas: string;
}

export function blasLine(b: BlasInfo): string {
  return `${b.library}: ${b.blas}`;
}

/** One line the BENCHMARKS.md generator reads. */
export function printBenchmarkJson(record: BenchmarkRecord): void {
  console.log(`BENCHMARK_JSON ${JSON.stringify(record)}`);
}

export interface BenchmarkRecord {
  name: string;
  command: string;
  /** What is compared: "ours / reference" in time, below 1 is faster than the reference. */
  ratio: number;
  target: string;
  met: boolean;
  figures: Record<string, string>;
  references: string[];
  lowerBound: string;
  notes: string[];
}

/** The value after `--name` on the command line, or `fallback`. */
export function cliArg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/**
 * The machine's peak float32 rate, the lower bounds' yardstick: cores x 2 FMA pipes x SIMD
 * lanes (16 with AVX-512, 8 with AVX2, 4 otherwise, from /proc/cpuinfo's flags) x 2 flops x
 * the clock /proc/cpuinfo reports (a VM's nominal clock; turbo may be higher). The project's
 * machines are not all alike: one day's host had AVX-512 at about 3.3 GHz (426 GFLOP/s),
 * another's AVX2 at 2.45 GHz.
 */
export function machinePeak(cpuinfo = readCpuinfo(), cores = os.cpus().length): { flops: number; label: string } {
  const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? "").split(/\s+/));
  const [lanes, simd] = flags.has("avx512f") ? [16, "AVX-512"] : flags.has("avx2") ? [8, "AVX2"] : [4, "SSE"];
  const ghz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo)?.[1] ?? 3000) / 1000;
  const flops = cores * 2 * lanes * 2 * ghz * 1e9;
  return {
    flops,
    label: `${(flops / 1e9).toFixed(0)} GFLOP/s: ${cores} cores x 2 ${simd} FMA pipes x ${lanes} lanes x 2 flops at ${ghz.toFixed(2)} GHz`,
  };
}

function readCpuinfo(): string {
  try {
    return fs.readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return "";
  }
}

export function machineLine(): string {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  return `${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}
