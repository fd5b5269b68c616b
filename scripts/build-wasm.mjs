// Builds the WebAssembly kernels of lib/ (lib/**/*.c -> lib/dist/**/*.wasm) with Debian's
// clang and lld. Rebuilds only what is older than its source, so it is cheap to call before
// every run. Without clang the kernels are skipped with a note (trainSoftmax then uses its
// slower TensorFlow.js engine); `--required` makes that an error (tests need the kernels).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const lib = join(root, "lib");
const required = process.argv.includes("--required");

// No libc: the kernels use only SIMD arithmetic and memset. Exports are the C functions
// that softmax-kernel.ts calls, plus the memory and where the free heap starts.
const FLAGS = [
  "--target=wasm32",
  "-O3",
  "-msimd128",
  "-mbulk-memory",
  "-nostdlib",
  "-Wall",
  "-Werror",
  "-Wl,--no-entry",
  "-Wl,--export-dynamic",
  "-Wl,--export=__heap_base",
];

// A source that says `build-wasm: shared-memory` imports a shared memory instead of owning
// one, so that a second thread can instantiate it on the same memory (runtime/wasm-thread.ts):
// that needs the atomics feature, a maximum size (4 GiB, wasm32's limit; only address space is
// reserved), and __stack_pointer exported so the second instance gets a stack of its own.
const SHARED_MEMORY_FLAGS = [
  "-matomics",
  "-mmutable-globals",
  "-Wl,--import-memory",
  "-Wl,--shared-memory",
  "-Wl,--max-memory=4294967296",
  "-Wl,--export=__stack_pointer",
];

// A source that says `build-wasm: import-memory` runs on another module's (non-shared) memory,
// given at instantiation: lib/models/backbones/batch-norm-kernel.c works on TensorFlow.js's
// wasm heap in place. Such a kernel must use no static data and no stack of its own.
const IMPORT_MEMORY_FLAGS = ["-Wl,--import-memory"];

function flagsFor(src) {
  const text = readFileSync(src, "utf8");
  if (text.includes("build-wasm: shared-memory")) return [...FLAGS, ...SHARED_MEMORY_FLAGS];
  if (text.includes("build-wasm: import-memory")) return [...FLAGS, ...IMPORT_MEMORY_FLAGS];
  return FLAGS;
}

function sources(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === "dist" || name === "node_modules") continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith(".c")) out.push(p);
  }
  return out;
}

const stale = sources(lib)
  .map((src) => ({ src, out: join(lib, "dist", relative(lib, src)).replace(/\.c$/, ".wasm") }))
  // Also rebuilt when this script (its flags) changed.
  .filter(
    ({ src, out }) =>
      !existsSync(out) ||
      statSync(out).mtimeMs < Math.max(statSync(src).mtimeMs, statSync(new URL(import.meta.url)).mtimeMs),
  );
if (stale.length === 0) process.exit(0);

const clang = spawnSync("clang", ["--version"], { encoding: "utf8" });
const lld = spawnSync("wasm-ld", ["--version"], { encoding: "utf8" });
if (clang.error || lld.error) {
  const msg =
    `build-wasm: clang and wasm-ld are needed to build ${stale.map((s) => relative(root, s.src)).join(", ")} ` +
    `(Debian: apt-get install clang lld)`;
  if (required) {
    console.error(msg);
    process.exit(1);
  }
  console.warn(`${msg}; skipped, so trainSoftmax will use its slower TensorFlow.js engine`);
  process.exit(0);
}

for (const { src, out } of stale) {
  mkdirSync(dirname(out), { recursive: true });
  // --export-dynamic with default visibility exports every non-static C function.
  const r = spawnSync("clang", [...flagsFor(src), "-fvisibility=default", "-o", out, src], { encoding: "utf8" });
  if (r.status !== 0) {
    console.error(`build-wasm: clang failed on ${relative(root, src)}:\n${r.stderr}`);
    process.exit(1);
  }
  console.log(`build-wasm: ${relative(root, out)} (${statSync(out).size} bytes)`);
}
