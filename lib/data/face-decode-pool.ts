/**
 * A fixed pool of decode workers (see face-decode-worker.ts), or in-thread decoding when
 * `workers` is 0 (simpler to debug, and what tests of the image code use).
 *
 * A bad image is answered with an ImageRejection (a verdict on the image, cached by the
 * pipeline). A worker that dies is a DecoderCrash: it says nothing certain about the image
 * (the machine may have been short of memory), so the pipeline records it as a failure and
 * tries again next run. Images too large to decode safely never reach a worker: their
 * declared size is refused first (face-image.ts, MAX_PIXELS).
 */
import { Worker } from "worker_threads";
import { startModuleWorker } from "../runtime/workers";
import { processImage, ImageRejection, Crops } from "./face-image";
import type { DecodeJob, DecodeReply } from "./face-decode-worker";

/** A decode worker died (crash, out of memory, killed) while holding the job: retryable, never cached. */
export class DecoderCrash extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecoderCrash";
  }
}

export interface DecodePool {
  run(bytes: Uint8Array, bbox: [number, number, number, number]): Promise<Crops>;
  close(): Promise<void>;
}

export function createDecodePool(
  workers: number,
  startWorker: () => Worker = () => startModuleWorker(__filename, "face-decode-worker"),
): DecodePool {
  if (workers <= 0) {
    return { run: (bytes, bbox) => processImage(bytes, bbox), close: async () => {} };
  }
  const idle: Worker[] = [];
  const all: Worker[] = [];
  const queue: { job: DecodeJob; resolve: (c: Crops) => void; reject: (e: Error) => void }[] = [];
  const pending = new Map<number, { resolve: (c: Crops) => void; reject: (e: Error) => void; worker: Worker }>();
  let nextId = 0;
  let closed = false;

  const pump = () => {
    while (idle.length > 0 && queue.length > 0) {
      const w = idle.pop()!;
      const { job, resolve, reject } = queue.shift()!;
      pending.set(job.id, { resolve, reject, worker: w });
      w.postMessage(job, [job.bytes.buffer as ArrayBuffer]);
    }
  };
  for (let i = 0; i < workers; i++) {
    const w = startWorker();
    w.on("message", (r: DecodeReply) => {
      const p = pending.get(r.id);
      pending.delete(r.id);
      idle.push(w);
      if (p) {
        if (r.ok) p.resolve({ width: r.width, height: r.height, crops: r.crops as Crops["crops"], ms: r.ms });
        else p.reject(new ImageRejection(r.reason as ImageRejection["reason"], r.message));
      }
      pump();
    });
    // A crashed or exited worker (e.g. out of memory) fails its job, not the run; the others
    // carry on, and with none left the queued jobs fail instead of hanging.
    const lost = (why: string) => {
      if (!all.includes(w)) return;
      for (const [id, p] of pending)
        if (p.worker === w) {
          pending.delete(id);
          p.reject(new DecoderCrash(`decode worker crashed: ${why}`));
        }
      all.splice(all.indexOf(w), 1);
      if (idle.includes(w)) idle.splice(idle.indexOf(w), 1);
      if (all.length === 0)
        for (const q of queue.splice(0)) q.reject(new DecoderCrash(`all decode workers crashed (last: ${why})`));
    };
    w.on("error", (e) => lost(e.message));
    w.on("exit", (code) => {
      if (!closed) lost(`exited with code ${code}`);
    });
    all.push(w);
    idle.push(w);
  }
  return {
    run(bytes, bbox) {
      if (closed) return Promise.reject(new Error("decode pool is closed"));
      if (all.length === 0) return Promise.reject(new DecoderCrash("no decode workers left"));
      // Copy so the caller's buffer survives the transfer to the worker.
      const job: DecodeJob = { id: nextId++, bytes: bytes.slice(), bbox };
      return new Promise<Crops>((resolve, reject) => {
        queue.push({ job, resolve, reject });
        pump();
      });
    },
    async close() {
      closed = true;
      await Promise.all(all.map((w) => w.terminate()));
    },
  };
}
