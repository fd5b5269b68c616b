/**
 * Worker thread for the slow stages (decode, crop, resize): even with JPEGs on the
 * WebAssembly decoder (data/jpeg/, about 40 megapixels/s) an 18-megapixel photo takes half a
 * second to decode and resize, so the pipeline spreads images over one of these per core
 * while the main thread keeps fetching and hashing.
 */
import { parentPort } from "worker_threads";
import { processImage, ImageRejection } from "./face-image";

export interface DecodeJob {
  id: number;
  bytes: Uint8Array;
  bbox: [number, number, number, number];
}

export type DecodeReply =
  | { id: number; ok: true; width: number; height: number; crops: Record<string, Uint8Array>; ms: { decode: number; crop: number; resize: number } }
  | { id: number; ok: false; reason: string; message: string };

parentPort?.on("message", async (job: DecodeJob) => {
  let reply: DecodeReply;
  try {
    const r = await processImage(job.bytes, job.bbox);
    reply = { id: job.id, ok: true, width: r.width, height: r.height, crops: r.crops, ms: r.ms };
  } catch (e) {
    const reason = e instanceof ImageRejection ? e.reason : "undecodable";
    reply = { id: job.id, ok: false, reason, message: String((e as Error).message ?? e).split("\n")[0] };
  }
  parentPort!.postMessage(reply, Object.values(reply.ok ? reply.crops : {}).map((c) => c.buffer as ArrayBuffer));
});
