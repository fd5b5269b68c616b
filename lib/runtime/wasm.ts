/**
 * The project's WebAssembly kernels (lib/**\/*.c, compiled by scripts/build-wasm.mjs to the
 * same place under lib/dist): where each one is, and its compiled module, once per file.
 * Errors name the file and say how to rebuild it, so a missing or damaged build is never a
 * bare WebAssembly CompileError.
 */
import * as fs from "fs";
import * as path from "path";
import { projectRoot } from "./paths";

/** Where scripts/build-wasm.mjs puts the kernel built from lib/<parts>.c. */
export function wasmKernelPath(...parts: string[]): string {
  return path.join(projectRoot(), "lib", "dist", ...parts);
}

const compiled = new Map<string, WebAssembly.Module>();

/** The compiled module of `file`, compiled once; `what` names the kernel in errors. */
export function compileWasmKernel(file: string, what: string): WebAssembly.Module {
  const known = compiled.get(file);
  if (known) return known;
  if (!fs.existsSync(file))
    throw new Error(
      `${what}: ${file} is missing. Build it with \`npm run build\` (needs clang and lld: apt-get install clang lld)`,
    );
  let kernel: WebAssembly.Module;
  try {
    kernel = new WebAssembly.Module(fs.readFileSync(file));
  } catch (e) {
    throw new Error(
      `${what}: ${file} is not a valid WebAssembly module (${(e as Error).message}); rebuild it with \`npm run build\``,
      { cause: e },
    );
  }
  compiled.set(file, kernel);
  return kernel;
}
