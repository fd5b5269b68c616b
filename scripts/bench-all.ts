/**
 * `npm run bench`: runs the benchmarks that measure against numpy 2.4.6 and torch 2.13, reads
 * the `BENCHMARK_JSON` line each prints (scripts/bench-reference.ts), and writes BENCHMARKS.md
 * from them: command, machine, figures, ratio against the reference measured in the same run,
 * target and lower bound.
 *
 *   npm run bench                      # every benchmark (about five and a half minutes on 2 cores)
 *   npm run bench -- --only softmax    # only those whose name contains a word; the others keep
 *                                      # their last figures (read back from BENCHMARKS.md)
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { BenchmarkRecord, machineLine } from "./bench-reference";

const ROOT = path.join(__dirname, "..");
const OUT = path.join(ROOT, "BENCHMARKS.md");
const DATA_MARK = "<!-- benchmark records:";

const BENCHMARKS: { key: string; args: string[]; env?: Record<string, string> }[] = [
  { key: "softmax", args: ["scripts/bench-softmax.ts", "--iterations", "300", "--rounds", "3"] },
  { key: "network", args: ["scripts/bench-faces.ts"], env: { BENCH_SKIP_PIPELINE: "1", BENCH_PART: "one" } },
  { key: "grid", args: ["scripts/bench-faces.ts"], env: { BENCH_SKIP_PIPELINE: "1", BENCH_PART: "grid" } },
  { key: "mobilenet", args: ["scripts/bench-mobilenet.ts"] },
  { key: "floor", args: ["scripts/bench-floor.ts"] },
];

/** Runs one benchmark with its output passed through; returns its records. */
function run(b: (typeof BENCHMARKS)[0]): Promise<(BenchmarkRecord & { ranAt: string; machine: string })[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", ...b.args], {
      cwd: ROOT,
      env: { ...process.env, ...b.env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      process.stdout.write(chunk);
      out += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`${b.args.join(" ")} exited with ${code}`));
      const records = out
        .split("\n")
        .filter((l) => l.startsWith("BENCHMARK_JSON "))
        .map((l) => ({
          ...(JSON.parse(l.slice("BENCHMARK_JSON ".length)) as BenchmarkRecord),
          ranAt: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
          machine: machineLine(),
        }));
      if (records.length === 0) return reject(new Error(`${b.args.join(" ")} printed no BENCHMARK_JSON line`));
      resolve(records);
    });
  });
}

type Stored = BenchmarkRecord & { ranAt: string; machine: string; key: string };

function previous(): Stored[] {
  if (!fs.existsSync(OUT)) return [];
  const text = fs.readFileSync(OUT, "utf8");
  const at = text.indexOf(DATA_MARK);
  if (at < 0) return [];
  const json = text.slice(at + DATA_MARK.length, text.indexOf("-->", at)).trim();
  try {
    return JSON.parse(json) as Stored[];
  } catch (e) {
    throw new Error(
      `${OUT}: the stored records do not parse (${(e as Error).message}); run npm run bench without --only`,
      { cause: e },
    );
  }
}

function render(records: Stored[]): string {
  const lines = [
    "# Benchmarks",
    "",
    "Written by `npm run bench` (scripts/bench-all.ts) from the JSON record each benchmark prints; do",
    "not edit by hand. Every ratio is this project's time over the reference's, both measured in the",
    "same run with their rounds interleaved (below 1 is faster than the reference). References: numpy",
    "2.4.6 and torch 2.13 from the project venv (`.venv`, `jupyter/requirements.txt`), with the BLAS",
    "each reported; Debian's builds appear only as a second line labelled reference BLAS. The lower",
    "bound is the work at the peak of the machine it ran on (cores x 2 FMA pipes x SIMD lanes x 2",
    "flops at the clock /proc/cpuinfo reports; each section names it), which neither side reaches.",
    "The last section is not a comparison: its ratio is the arithmetic a cold main job cannot avoid,",
    "at WebAssembly's peak measured on the same machine, over the five minutes the main job may take.",
    "",
  ];
  for (const r of records) {
    lines.push(`## ${r.name}`, "");
    lines.push(`- command: \`${r.command}\``);
    lines.push(`- ran: ${r.ranAt} on ${r.machine}`);
    lines.push(`- ratio: **${r.ratio.toFixed(2)}**; target ${r.target}: **${r.met ? "met" : "not met"}**`);
    lines.push(`- lower bound: ${r.lowerBound}`);
    for (const ref of r.references) lines.push(`- reference: ${ref}`);
    lines.push("", "| | |", "|---|---|");
    for (const [k, v] of Object.entries(r.figures)) lines.push(`| ${k} | ${v} |`);
    lines.push("");
    for (const n of r.notes) lines.push(`- ${n}`);
    lines.push("");
  }
  lines.push(`${DATA_MARK}`, JSON.stringify(records, null, 1), "-->", "");
  return lines.join("\n");
}

async function main() {
  const i = process.argv.indexOf("--only");
  const only = i >= 0 ? process.argv[i + 1] : null;
  const chosen = BENCHMARKS.filter((b) => !only || b.key.includes(only));
  if (chosen.length === 0)
    throw new Error(`--only ${only}: no benchmark named so (${BENCHMARKS.map((b) => b.key).join(", ")})`);
  const kept = only ? previous().filter((r) => !chosen.some((b) => b.key === r.key)) : [];
  const fresh: Stored[] = [];
  for (const b of chosen) for (const r of await run(b)) fresh.push({ ...r, key: b.key });
  const order = BENCHMARKS.map((b) => b.key);
  const all = [...kept, ...fresh].sort((a, b) => order.indexOf(a.key) - order.indexOf(b.key));
  fs.writeFileSync(OUT, render(all));
  console.log(`bench: wrote ${path.relative(ROOT, OUT)} (${fresh.length} fresh, ${kept.length} kept)`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
