/**
 * How many cores the project's work may use at once: every parallel default (the kernels'
 * second thread, the grid's workers, the backbones' workers, the face decoders) asks here.
 *
 * It is os.availableParallelism(), which honours the process's CPU affinity (taskset), capped
 * by REPORT_CORES when that is set. `npm test` runs two test files at a time on two cores and
 * gives each REPORT_CORES=1: a notebook whose kernel split every step over two threads would
 * otherwise wait, at each step, for a thread the other lane's work keeps off the CPU. The
 * results are the same with one thread or two (the kernels add the same floats in the same
 * order; each worker computes whole jobs or whole images).
 */
import * as os from "os";

export const CORES_ENV = "REPORT_CORES";

/** The cores this process may use: at least 1, at most the machine's. */
export function usableCores(env: NodeJS.ProcessEnv = process.env, machine = os.availableParallelism()): number {
  const raw = env[CORES_ENV];
  if (raw === undefined || raw.trim() === "") return machine;
  if (!/^\s*[1-9]\d*\s*$/.test(raw))
    throw new Error(
      `${CORES_ENV}="${raw}" is not a whole number of cores >= 1 (unset it to use all ${machine} cores of this machine)`,
    );
  return Math.min(Number(raw), machine);
}

/** Workers for a pool that defaults to one per core of the project's two-core machines. */
export function defaultWorkers(env: NodeJS.ProcessEnv = process.env): number {
  return Math.min(2, usableCores(env));
}
