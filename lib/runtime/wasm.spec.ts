import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { compileWasmKernel, wasmKernelPath } from "./wasm";

// The smallest valid module: the magic number and version 1, no sections.
const EMPTY_MODULE = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

test("a kernel's path is its place under lib/dist", () => {
  assert.match(wasmKernelPath("models", "x", "k.wasm"), /lib\/dist\/models\/x\/k\.wasm$/);
});

test("a module is compiled once per file; missing and damaged files are named with the fix", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-"));
  try {
    const good = path.join(dir, "good.wasm");
    fs.writeFileSync(good, EMPTY_MODULE);
    const m = compileWasmKernel(good, "test kernel");
    assert.ok(m instanceof WebAssembly.Module);
    assert.equal(compileWasmKernel(good, "test kernel"), m);
    const missing = path.join(dir, "missing.wasm");
    assert.throws(
      () => compileWasmKernel(missing, "test kernel"),
      new RegExp(`^Error: test kernel: ${missing} is missing\\. Build it with \`npm run build\``),
    );
    const bad = path.join(dir, "bad.wasm");
    fs.writeFileSync(bad, "not wasm");
    assert.throws(
      () => compileWasmKernel(bad, "test kernel"),
      (e: Error) => e.message.startsWith(`test kernel: ${bad} is not a valid WebAssembly module (`),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
