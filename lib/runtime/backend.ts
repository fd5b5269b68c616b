/**
 * Chooses the TensorFlow.js backend once per process: the native `tensorflow` backend
 * when the optional `tfjs-node-native` package (an alias of @tensorflow/tfjs-node) is
 * installed and its binary loads, otherwise wasm (offline, SIMD), otherwise cpu.
 * It awaits readiness, because with the wasm backend registered any op that runs
 * before `setBackend` resolves throws "backend 'wasm' has not yet been initialized".
 */
import * as tf from "@tensorflow/tfjs";

export type BackendName = "tensorflow" | "wasm" | "cpu";

export interface BackendInfo {
  name: BackendName;
  /** Why the faster backends were not used, for the notebook's first output. */
  notes: string[];
}

let chosen: Promise<BackendInfo> | null = null;

function tryNative(notes: string[]): boolean {
  try {
    // The alias keeps npm from failing when the binary download is impossible.
    require("tfjs-node-native");
    return tf.findBackend("tensorflow") !== null || tf.engine().registryFactory["tensorflow"] !== undefined;
  } catch (e) {
    notes.push(`tensorflow (tfjs-node) unavailable: ${firstLine(e)}`);
    return false;
  }
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split("\n")[0];
}

async function choose(preferred?: BackendName): Promise<BackendInfo> {
  const notes: string[] = [];
  const order: BackendName[] = preferred ? [preferred] : ["tensorflow", "wasm", "cpu"];
  for (const name of order) {
    if (name === "tensorflow" && !tryNative(notes)) continue;
    if (name === "wasm") {
      try {
        require("@tensorflow/tfjs-backend-wasm");
      } catch (e) {
        notes.push(`wasm unavailable: ${firstLine(e)}`);
        continue;
      }
    }
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return { name, notes };
      }
      notes.push(`${name} did not initialise`);
    } catch (e) {
      notes.push(`${name} failed: ${firstLine(e)}`);
    }
  }
  throw new Error(`No TensorFlow.js backend could be initialised:\n  ${notes.join("\n  ")}`);
}

/**
 * Initialises the backend (once) and returns which one runs. Pass a name to force it;
 * TFJS_BACKEND in the environment does the same for whole runs.
 */
export function initBackend(preferred?: BackendName): Promise<BackendInfo> {
  const forced = preferred ?? (process.env.TFJS_BACKEND as BackendName | undefined);
  if (forced && !["tensorflow", "wasm", "cpu"].includes(forced)) {
    throw new Error(`TFJS_BACKEND=${forced} is not one of tensorflow, wasm, cpu`);
  }
  if (!chosen) chosen = choose(forced || undefined);
  return chosen;
}

export { tf };
