/** The thread of wasm-thread.ts: one instance of the kernel on the shared memory, running calls as they come. */
import { workerData } from "worker_threads";
import { Ctrl, reportFailure, spinWhile, WasmThreadData } from "./wasm-thread";

const { kernel, memory, stackTop, functions, ctrl, args, message } = workerData as WasmThreadData;

try {
  const ex = new WebAssembly.Instance(kernel, { env: { memory } }).exports as Record<string, unknown>;
  const sp = ex.__stack_pointer as WebAssembly.Global | undefined;
  if (!sp) throw new Error("the kernel does not export __stack_pointer, so this thread cannot have a stack of its own");
  sp.value = stackTop;
  const calls = functions.map((name) => {
    const f = ex[name];
    if (typeof f !== "function") throw new Error(`the kernel has no function ${name}`);
    return f as (...a: number[]) => unknown;
  });
  Atomics.store(ctrl, Ctrl.State, 1);
  Atomics.notify(ctrl, Ctrl.State);
  let generation = 0;
  for (;;) {
    if (spinWhile(ctrl, Ctrl.Request, generation) === generation) Atomics.wait(ctrl, Ctrl.Request, generation);
    const request = Atomics.load(ctrl, Ctrl.Request);
    if (request < 0) break;
    if (request === generation) continue;
    generation = request;
    calls[Atomics.load(ctrl, Ctrl.Function)](...Array.from(args.subarray(0, Atomics.load(ctrl, Ctrl.Arity))));
    Atomics.store(ctrl, Ctrl.Done, generation);
    Atomics.notify(ctrl, Ctrl.Done);
  }
} catch (e) {
  reportFailure(ctrl, message, e);
}
