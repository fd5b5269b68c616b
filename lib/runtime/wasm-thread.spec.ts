import { test } from "node:test";
import assert from "node:assert/strict";
import { compileWasmKernel, wasmKernelPath } from "./wasm";
import { instantiateShared, startWasmThread } from "./wasm-thread";

// The mlp kernel is a project kernel built on shared memory (scripts/build-wasm.mjs).
const MLP_KERNEL = wasmKernelPath("models", "mlp", "kernel", "mlp-kernel.wasm");
const kernel = () => compileWasmKernel(MLP_KERNEL, "mlp kernel");
const sharedMemory = () => new WebAssembly.Memory({ initial: 4, maximum: 65536, shared: true });

test("a call on the thread writes the same floats into the shared memory as the same call here", () => {
  const { memory, exports: ex } = instantiateShared<Record<string, CallableFunction>>(MLP_KERNEL, "mlp kernel");
  memory.grow(2);
  const f32 = new Float32Array(memory.buffer);
  // mlp_forward(n, rows, X, d, W1, b1, hw, Z1): 3 rows of 5 inputs, 4 hidden columns.
  const at = { rows: 65536, X: 65600, W1: 66000, b1: 66400, Z1: 66500, Z1b: 66800 };
  new Int32Array(memory.buffer, at.rows, 3).set([2, 0, 1]);
  for (let i = 0; i < 15; i++) f32[at.X / 4 + i] = Math.sin(i + 1);
  for (let i = 0; i < 20; i++) f32[at.W1 / 4 + i] = Math.cos(i) / 3;
  f32.set([0.5, -0.25, 0, 1], at.b1 / 4);
  ex.mlp_forward(3, at.rows, at.X, 5, at.W1, at.b1, 4, at.Z1);
  const thread = startWasmThread(kernel(), memory, 131_072, ["mlp_forward"], "test kernel");
  try {
    thread.start("mlp_forward", [3, at.rows, at.X, 5, at.W1, at.b1, 4, at.Z1b]);
    thread.wait();
  } finally {
    thread.dispose();
  }
  const here = Array.from(f32.subarray(at.Z1 / 4, at.Z1 / 4 + 12));
  assert.ok(here.some((v) => v !== 0));
  assert.deepEqual(Array.from(f32.subarray(at.Z1b / 4, at.Z1b / 4 + 12)), here);
});

test("a kernel built on its own memory is named with the fix, not instantiated on a shared one", () => {
  // The BatchNorm kernel imports a plain memory (build-wasm: import-memory).
  const file = wasmKernelPath("models", "backbones", "batch-norm-kernel.wasm");
  assert.throws(
    () => instantiateShared(file, "k0"),
    new RegExp(`k0: ${file} does not run on a shared memory \\(.*\\); rebuild it with \`npm run build\``),
  );
});

test("errors name what is wrong: memory not shared, a function not given, a stopped thread, a failing start", () => {
  const plain = new WebAssembly.Memory({ initial: 1 });
  assert.throws(
    () => startWasmThread(kernel(), plain, 1024, [], "k1"),
    /k1: a second thread needs a shared WebAssembly.Memory/,
  );
  const thread = startWasmThread(kernel(), sharedMemory(), 131_072, ["mlp_forward"], "k2");
  assert.throws(
    () => thread.start("mlp_head", []),
    /k2: the second thread was not given mlp_head \(it has mlp_forward\)/,
  );
  thread.dispose();
  assert.throws(() => thread.start("mlp_forward", []), /k2: the second thread was stopped/);
  assert.throws(
    () => startWasmThread(kernel(), sharedMemory(), 131_072, ["no_such_function"], "k3"),
    /k3, second thread: the kernel has no function no_such_function/,
  );
});
