/**
 * Static figure rendering benchmark: browser start-up once, then ms per PNG for each
 * figure kind the report uses, median over a few repetitions, against the 200 ms target.
 *
 *   npx tsx scripts/bench-figures.ts [--reps 5] [--out DIR]   (--out also writes one PNG per kind)
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  Figure,
  barChart,
  contourPaths,
  imageGrid,
  learningCurves,
  lineChart,
  renderPng,
  weightImages,
} from "@csc411/lib/plots";
import { closeBrowser, warmUp } from "@csc411/lib/plots";
import { Random } from "@csc411/lib/runtime";

const TARGET_MS = 200;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** Figures shaped like the report's: sizes and point counts of the real ones. */
export function sampleFigures(seed = 1): Record<string, Figure> {
  const rng = new Random(seed);
  const epochs = Array.from({ length: 200 }, (_, i) => i + 1);
  const curve = (rate: number, top: number) => epochs.map((e) => top * (1 - Math.exp(-e / rate)) + 0.01 * rng.normal());
  const weights = Array.from({ length: 10 }, () => Float32Array.from({ length: 784 }, () => 0.1 * rng.normal()));
  const hidden = Array.from({ length: 12 }, () => Float32Array.from({ length: 32 * 32 }, () => rng.normal()));
  const digits = Array.from({ length: 20 }, () =>
    Float32Array.from({ length: 784 }, () => (rng.uniform() > 0.8 ? rng.uniform() : 0)),
  );
  const faces = Array.from({ length: 6 }, () => Float32Array.from({ length: 32 * 32 * 3 }, () => rng.uniform()));
  const grid = Array.from({ length: 81 }, (_, i) => -2 + (4 * i) / 80);
  const z = grid.map((y) => grid.map((x) => x * x + 4 * y * y));
  const path = (decay: number, turn: number): [number, number][] =>
    Array.from({ length: 20 }, (_, i) => [
      1.8 * Math.pow(decay, i) * Math.cos(turn * i),
      0.9 * Math.pow(decay, i) * Math.cos(1.3 * turn * i),
    ]);
  return {
    learningCurves: learningCurves({
      title: "Learning curves",
      xTitle: "epoch",
      yTitle: "accuracy",
      series: [
        { name: "train", x: epochs, y: curve(20, 0.95) },
        { name: "validation", x: epochs, y: curve(25, 0.92) },
        { name: "test", x: epochs, y: curve(25, 0.91) },
      ],
    }),
    weightImages: weightImages({
      title: "Weights going into each output",
      images: weights,
      width: 28,
      height: 28,
      titles: weights.map((_, d) => `digit ${d}`),
    }),
    hiddenUnits: weightImages({
      title: "Hidden units",
      images: hidden,
      width: 32,
      height: 32,
      titles: hidden.map((_, k) => `unit ${k}`),
      cols: 6,
    }),
    digits: imageGrid({
      title: "MNIST digits",
      images: digits,
      width: 28,
      height: 28,
      cols: 10,
      titles: digits.map((_, k) => String(k % 10)),
    }),
    faces: imageGrid({
      title: "Faces",
      images: faces,
      width: 32,
      height: 32,
      cols: 3,
      channels: 3,
      titles: ["bracco", "gilpin", "harmon", "baldwin", "hader", "carell"],
    }),
    contour: contourPaths({
      title: "Cost surface with trajectories",
      xTitle: "w1",
      yTitle: "w2",
      x: grid,
      y: grid,
      z,
      paths: [
        { name: "gradient descent", points: path(0.85, 0.0) },
        { name: "momentum", points: path(0.9, 0.6) },
      ],
    }),
    timingLine: lineChart({
      title: "Time per iteration",
      xTitle: "hidden units",
      yTitle: "ms",
      xLog: true,
      yLog: true,
      series: [
        { name: "vectorised", x: [10, 30, 100, 300, 1000], y: [0.5, 1, 3, 9, 30] },
        { name: "loops", x: [10, 30, 100, 300, 1000], y: [5, 20, 80, 300, 1200] },
      ],
    }),
    timingBar: barChart({
      title: "Gradient computation time",
      xTitle: "method",
      yTitle: "ms (log)",
      yLog: true,
      categories: ["vectorised", "finite differences", "loops"],
      series: [
        { name: "784-10", y: [0.8, 120, 40] },
        { name: "784-300-10", y: [5, 9000, 2500] },
      ],
    }),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const reps = Number(arg("--reps", "5"));
  const out = process.argv.includes("--out") ? arg("--out", "build/figures") : null;
  const t0 = performance.now();
  await warmUp();
  const startup = performance.now() - t0;
  console.log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")} on ${os.cpus().length} cores (numbers scale with it)`,
  );
  console.log(`browser start-up + plotly load: ${startup.toFixed(0)} ms (once per process)`);
  // Reference in the same run: the cheapest possible figure, i.e. the fixed cost of a render round trip.
  const trivial = lineChart({ title: "", xTitle: "", yTitle: "", series: [{ name: "a", x: [0], y: [0] }] });
  const refTimes: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    await renderPng(trivial);
    refTimes.push(performance.now() - t);
  }
  const ref = median(refTimes);
  console.log(`reference (one-point line chart): ${ref.toFixed(1)} ms median`);
  console.log(
    `${"figure".padEnd(16)} ${"size".padEnd(9)} ${"median ms".padStart(9)} ${"min".padStart(6)} ${"max".padStart(6)}  vs ${TARGET_MS} ms`,
  );
  const medians: number[] = [];
  for (const [name, fig] of Object.entries(sampleFigures())) {
    const times: number[] = [];
    let png: Buffer | null = null;
    for (let r = 0; r < reps; r++) {
      const t = performance.now();
      png = await renderPng(fig);
      times.push(performance.now() - t);
    }
    const m = median(times);
    medians.push(m);
    const w = fig.layout.width ?? 720;
    const h = fig.layout.height ?? 450;
    console.log(
      `${name.padEnd(16)} ${`${w}x${h}`.padEnd(9)} ${m.toFixed(1).padStart(9)} ${Math.min(...times)
        .toFixed(1)
        .padStart(6)} ${Math.max(...times)
        .toFixed(1)
        .padStart(6)}  ${(m / TARGET_MS).toFixed(2)}x of target, ${(m / ref).toFixed(1)}x reference`,
    );
    if (out && png) {
      fs.mkdirSync(out, { recursive: true });
      fs.writeFileSync(path.join(out, `${name}.png`), png);
    }
  }
  const overall = median(medians);
  console.log(
    `median over kinds: ${overall.toFixed(1)} ms per figure = ${(overall / TARGET_MS).toFixed(2)} of the ${TARGET_MS} ms target; start-up = ${(startup / overall).toFixed(0)} figures`,
  );
  await closeBrowser();
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
