/** The benchmarks' lower bounds use the peak of the machine they run on (scripts/bench-reference.ts). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { machinePeak } from "../scripts/bench-reference";

const cpuinfo = (flags: string, mhz: string) => `processor\t: 0\ncpu MHz\t\t: ${mhz}\nflags\t\t: fpu sse2 ${flags}\n`;

const CASES: { what: string; info: string; cores: number; gflops: number; label: RegExp }[] = [
  {
    what: "AVX-512 at 3.3 GHz, 2 cores",
    info: cpuinfo("avx2 fma avx512f", "3300.000"),
    cores: 2,
    gflops: 422.4,
    label: /AVX-512 FMA pipes x 16 lanes/,
  },
  {
    what: "AVX2 at 2.445 GHz, 2 cores",
    info: cpuinfo("avx2 fma", "2445.404"),
    cores: 2,
    gflops: 156.5,
    label: /AVX2 FMA pipes x 8 lanes x 2 flops at 2\.45 GHz/,
  },
  {
    what: "neither, 4 cores at 2 GHz",
    info: cpuinfo("", "2000"),
    cores: 4,
    gflops: 128,
    label: /4 cores x 2 SSE FMA pipes x 4 lanes/,
  },
];

for (const c of CASES)
  test(`machinePeak: ${c.what}`, () => {
    const p = machinePeak(c.info, c.cores);
    assert.equal(Number((p.flops / 1e9).toFixed(1)), c.gflops);
    assert.match(p.label, c.label);
  });
