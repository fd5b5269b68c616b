/**
 * A second thread for the softmax kernel: it computes the gradient of the second half of
 * each minibatch while the calling thread does the first (see SoftmaxKernel.minibatch).
 *
 * The training set is not copied: the helper reads the same images, labels and nonzero
 * index through SharedArrayBuffers (loadMnist allocates its sets there). Per step only the
 * row numbers and the weights (37 KB) go over, and the gradient comes back, through shared
 * buffers, with Atomics.wait / notify for the hand-over: trainSoftmax is synchronous, and
 * a round trip costs about 20 microseconds against a step of about a millisecond.
 */
import * as os from "os";
import type { Worker } from "worker_threads";
import type { LabelledMatrix } from "../../../data/labelled";
import { HalfHelper, kernelPath, nonzeroIndex, NonzeroIndex } from "./softmax-kernel";
import { startModuleWorker } from "../../../runtime/workers";
import { Ctrl as ThreadCtrl, messageOf, waitForWord } from "../../../runtime/wasm-thread";

/** Control words of the shared block: wasm-thread.ts's hand-over words, and the request's row count. */
export const Ctrl = {
  Request: ThreadCtrl.Request,
  Done: ThreadCtrl.Done,
  State: ThreadCtrl.State,
  /** Rows in the latest request. */
  Rows: 3,
} as const;

export interface SharedBlock {
  ctrl: Int32Array;
  rows: Int32Array;
  Wt: Float32Array;
  b: Float32Array;
  G: Float32Array;
  gb: Float32Array;
  cost: Float64Array;
  message: Uint8Array;
}

export interface HelperData {
  set: LabelledMatrix;
  k: number;
  batchSize: number;
  index: NonzeroIndex;
  file: string;
  shared: SharedBlock;
}

const shared = <T>(make: (b: SharedArrayBuffer) => T, bytes: number): T =>
  make(new SharedArrayBuffer(Math.max(8, bytes)));

/** True when a helper thread can read `set` without a copy. */
export function canShare(set: LabelledMatrix): boolean {
  return set.x.buffer instanceof SharedArrayBuffer && set.labels.buffer instanceof SharedArrayBuffer;
}

/** Threads trainSoftmax uses by default for `set`: 2 when the set can be shared and there are 2 cores. */
export function defaultThreads(set: LabelledMatrix): 1 | 2 {
  return canShare(set) && os.availableParallelism() >= 2 ? 2 : 1;
}

/**
 * Starts the helper for training on `set` with k classes and minibatches of at most
 * `batchSize` rows, and waits until it is ready. Errors in the thread come back as errors
 * here, with the thread's message; a thread that does not answer within `timeoutMs` is
 * stopped and reported.
 */
export function startHalfHelper(
  set: LabelledMatrix,
  k: number,
  batchSize: number,
  opts: { file?: string; timeoutMs?: number } = {},
): HalfHelper {
  if (!canShare(set))
    throw new Error("startHalfHelper: the set's images and labels must be in SharedArrayBuffers (as loadMnist's are)");
  const file = opts.file ?? kernelPath();
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const d = set.x.length / set.rows;
  const kp = 4 * Math.ceil(k / 4);
  const block: SharedBlock = {
    ctrl: shared((b) => new Int32Array(b), 16),
    rows: shared((b) => new Int32Array(b), batchSize * 4),
    Wt: shared((b) => new Float32Array(b), d * kp * 4),
    b: shared((b) => new Float32Array(b), kp * 4),
    G: shared((b) => new Float32Array(b), d * kp * 4),
    gb: shared((b) => new Float32Array(b), kp * 4),
    cost: shared((b) => new Float64Array(b), 8),
    message: shared((b) => new Uint8Array(b), 4096),
  };
  // Only the shared arrays are sent: a plain array (e.g. originalIndex of MNIST) would be copied.
  const data: HelperData = {
    set: { rows: set.rows, dim: set.dim, x: set.x, labels: set.labels },
    k,
    batchSize,
    index: nonzeroIndex(set),
    file,
    shared: block,
  };
  const worker: Worker = startModuleWorker(__filename, "softmax-helper-worker", { workerData: data });
  worker.unref();
  const stop = () => {
    Atomics.store(block.ctrl, Ctrl.Request, -1);
    Atomics.notify(block.ctrl, Ctrl.Request);
    worker.terminate().catch(() => undefined);
  };
  const failure = (what: string) => {
    stop();
    return new Error(`softmax kernel helper thread: ${what}`);
  };
  // Blocking waits in short slices, so a failed or silent thread is noticed.
  const waitFor = (index: number, until: (v: number) => boolean, what: string) =>
    waitForWord(block.ctrl, index, until, timeoutMs, failure, block.message, what);
  waitFor(Ctrl.State, (v) => v !== 0, "at start-up");
  if (Atomics.load(block.ctrl, Ctrl.State) === 2) throw failure(messageOf(block.message));

  let generation = 0;
  return {
    request(index, start, end, Wt, b) {
      const n = end - start;
      for (let r = 0; r < n; r++) block.rows[r] = index[start + r];
      block.Wt.set(Wt);
      block.b.set(b);
      Atomics.store(block.ctrl, Ctrl.Rows, n);
      Atomics.store(block.ctrl, Ctrl.Request, ++generation);
      Atomics.notify(block.ctrl, Ctrl.Request);
    },
    wait() {
      waitFor(Ctrl.Done, (v) => v === generation, `to minibatch request ${generation}`);
      return { G: block.G, gb: block.gb, cost: block.cost[0] };
    },
    dispose: stop,
  };
}
