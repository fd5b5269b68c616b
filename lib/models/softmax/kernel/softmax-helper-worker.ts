/** The helper thread of softmax-helper.ts: one kernel, answering half-minibatch requests. */
import { workerData } from "worker_threads";
import { Ctrl, HelperData } from "./softmax-helper";
import { SoftmaxKernel } from "./softmax-kernel";
import { reportFailure } from "../../../runtime/wasm-thread";

const { set, k, batchSize, index, file, shared } = workerData as HelperData;
const { ctrl } = shared;

try {
  const d = set.x.length / set.rows;
  const kernel = new SoftmaxKernel(set, k, batchSize, new Float32Array(k * d), new Float32Array(k), { file, index });
  Atomics.store(ctrl, Ctrl.State, 1);
  Atomics.notify(ctrl, Ctrl.State);
  let generation = 0;
  for (;;) {
    Atomics.wait(ctrl, Ctrl.Request, generation);
    const request = Atomics.load(ctrl, Ctrl.Request);
    if (request < 0) break;
    if (request === generation) continue;
    generation = request;
    kernel.setPixelMajor(shared.Wt, shared.b);
    const r = kernel.accumulate(shared.rows, 0, Atomics.load(ctrl, Ctrl.Rows));
    shared.G.set(r.G);
    shared.gb.set(r.gb);
    shared.cost[0] = r.cost;
    Atomics.store(ctrl, Ctrl.Done, generation);
    Atomics.notify(ctrl, Ctrl.Done);
  }
} catch (e) {
  reportFailure(ctrl, shared.message, e);
}
