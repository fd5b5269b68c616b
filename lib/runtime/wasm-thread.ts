/**
 * A second thread for a WebAssembly kernel built on shared memory: it instantiates the same
 * module on the same WebAssembly.Memory and runs one of its exported functions when asked,
 * while the calling thread runs another part of the same step. Used by softmax-kernel.ts
 * (models/softmax) and mlp-kernel.ts (models/mlp) to split a training step over both cores.
 *
 * The hand-over is two counters in a SharedArrayBuffer with Atomics.wait / notify, not
 * messages: the callers are synchronous training loops with steps of a millisecond or so.
 * Both sides first spin for up to SPIN_MS on the counter they wait for, and only then sleep:
 * waking a sleeping thread costs tens to hundreds of microseconds on a virtual machine, two
 * hand-overs a step, while the other side's part usually ends within that time. The thread
 * gets a C stack of its own (THREAD_STACK_BYTES from `stackBase`, which the caller allocates
 * in the kernel's memory), so the two threads never share one.
 */
import type { Worker } from "worker_threads";
import { compileWasmKernel } from "./wasm";
import { startModuleWorker } from "./workers";

/** Control words of the shared block. */
export const Ctrl = {
  /** Generation of the latest request; -1 tells the thread to stop. */
  Request: 0,
  /** Generation of the latest finished request. */
  Done: 1,
  /** 0 starting, 1 ready, 2 failed (the message holds why). */
  State: 2,
  /** Which function of `functions` the latest request calls. */
  Function: 3,
  /** How many of `args` it passes. */
  Arity: 4,
} as const;

/** The second thread's C stack (the kernels keep at most a few hundred bytes there). */
export const THREAD_STACK_BYTES = 64 * 1024;

/** Memory pages a kernel's shared memory may grow to (the kernels' own limit: 4 GiB, address space only). */
const MAX_PAGES = 65536;

/**
 * A kernel built with `build-wasm: shared-memory` (scripts/build-wasm.mjs), instantiated on a
 * new shared memory that a second thread can later be given; `what` names it in errors.
 */
export function instantiateShared<T>(
  file: string,
  what: string,
): { kernel: WebAssembly.Module; memory: WebAssembly.Memory; exports: T } {
  const kernel = compileWasmKernel(file, what);
  const memory = new WebAssembly.Memory({ initial: 2, maximum: MAX_PAGES, shared: true });
  try {
    return { kernel, memory, exports: new WebAssembly.Instance(kernel, { env: { memory } }).exports as T };
  } catch (e) {
    throw new Error(
      `${what}: ${file} does not run on a shared memory (${(e as Error).message}); rebuild it with \`npm run build\``,
      { cause: e },
    );
  }
}

/** Most arguments a request passes. */
export const MAX_ARGS = 24;

/** How long a waiting side spins before it sleeps. */
export const SPIN_MS = 1;

/** Spins until ctrl[index] differs from `v` or `ms` have passed; returns the value last read. */
export function spinWhile(ctrl: Int32Array, index: number, v: number, ms = SPIN_MS): number {
  const t0 = performance.now();
  let now = Atomics.load(ctrl, index);
  while (now === v && performance.now() - t0 < ms) now = Atomics.load(ctrl, index);
  return now;
}

export interface WasmThreadData {
  /** The compiled kernel (not named `module`: a CommonJS file cannot declare that name). */
  kernel: WebAssembly.Module;
  memory: WebAssembly.Memory;
  stackTop: number;
  functions: string[];
  ctrl: Int32Array;
  args: Float64Array;
  message: Uint8Array;
}

export interface WasmThread {
  /** Starts fn(...args) on the thread; the caller must wait() before the next call. */
  start(fn: string, args: number[]): void;
  /** Waits until the started call has returned (rethrowing its error, if any). */
  wait(): void;
  /** Stops the thread. */
  dispose(): void;
}

/** Reads a failed thread's message. */
function messageOf(message: Uint8Array): string {
  const end = message.indexOf(0);
  return Buffer.from(message.slice(0, end < 0 ? message.length : end)).toString("utf8");
}

/** Writes `e`'s message into the shared block and marks the thread failed. */
export function reportFailure(ctrl: Int32Array, message: Uint8Array, e: unknown): void {
  const text = Buffer.from(e instanceof Error ? e.message : String(e), "utf8").subarray(0, message.length - 1);
  message.set(text);
  message[text.length] = 0;
  Atomics.store(ctrl, Ctrl.State, 2);
  Atomics.notify(ctrl, Ctrl.State);
  Atomics.notify(ctrl, Ctrl.Done);
}

/**
 * Blocks until ctrl[index] satisfies `until`, in short slices so that a failed thread
 * (State 2) or one silent for `timeoutMs` is noticed: `fail` is then called with why.
 */
function waitForWord(
  ctrl: Int32Array,
  index: number,
  until: (v: number) => boolean,
  timeoutMs: number,
  fail: (why: string) => Error,
  message: Uint8Array,
  what: string,
): void {
  const t0 = performance.now();
  for (;;) {
    let v = Atomics.load(ctrl, index);
    if (!until(v)) v = spinWhile(ctrl, index, v);
    if (until(v)) return;
    if (Atomics.load(ctrl, Ctrl.State) === 2) throw fail(messageOf(message));
    if (performance.now() - t0 >= timeoutMs) throw fail(`no answer ${what} within ${timeoutMs} ms`);
    Atomics.wait(ctrl, index, v, 200);
  }
}

/**
 * Starts the thread on `module` over the shared `memory` and waits until it is ready. Its C
 * stack is the THREAD_STACK_BYTES from `stackBase`. `functions` are the exports it may be asked
 * to run; `what` names the kernel in errors.
 */
export function startWasmThread(
  kernel: WebAssembly.Module,
  memory: WebAssembly.Memory,
  stackBase: number,
  functions: string[],
  what: string,
  timeoutMs = 60_000,
): WasmThread {
  if (!(memory.buffer instanceof SharedArrayBuffer))
    throw new Error(`${what}: a second thread needs a shared WebAssembly.Memory`);
  const data: WasmThreadData = {
    kernel,
    memory,
    stackTop: (stackBase + THREAD_STACK_BYTES) & ~15,
    functions,
    ctrl: new Int32Array(new SharedArrayBuffer(8 * 4)),
    args: new Float64Array(new SharedArrayBuffer(MAX_ARGS * 8)),
    message: new Uint8Array(new SharedArrayBuffer(4096)),
  };
  const { ctrl, args, message } = data;
  const worker: Worker = startModuleWorker(__filename, "wasm-thread-worker", { workerData: data });
  worker.unref();
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    Atomics.store(ctrl, Ctrl.Request, -1);
    Atomics.notify(ctrl, Ctrl.Request);
    worker.terminate().catch(() => undefined);
  };
  const fail = (why: string) => {
    stop();
    return new Error(`${what}, second thread: ${why}`);
  };
  waitForWord(ctrl, Ctrl.State, (v) => v !== 0, timeoutMs, fail, message, "at start-up");
  if (Atomics.load(ctrl, Ctrl.State) === 2) throw fail(messageOf(message));
  let generation = 0;
  return {
    start(fn, values) {
      if (stopped) throw new Error(`${what}: the second thread was stopped`);
      const f = functions.indexOf(fn);
      if (f < 0) throw new Error(`${what}: the second thread was not given ${fn} (it has ${functions.join(", ")})`);
      if (values.length > MAX_ARGS) throw new Error(`${what}: ${values.length} arguments (at most ${MAX_ARGS})`);
      args.set(values);
      Atomics.store(ctrl, Ctrl.Function, f);
      Atomics.store(ctrl, Ctrl.Arity, values.length);
      Atomics.store(ctrl, Ctrl.Request, ++generation);
      Atomics.notify(ctrl, Ctrl.Request);
    },
    wait() {
      waitForWord(ctrl, Ctrl.Done, (v) => v === generation, timeoutMs, fail, message, `to call ${generation}`);
    },
    dispose: stop,
  };
}
