/**
 * Starts a worker thread from a module beside the caller: the compiled .js in the build,
 * or the .ts source under tsx (specs and scripts), loaded through tsx's require hook
 * because loader flags given to the parent process do not reach worker threads.
 */
import * as path from "path";
import { Worker, WorkerOptions } from "worker_threads";

export function startModuleWorker(callerFile: string, moduleName: string, options: WorkerOptions = {}): Worker {
  const ext = path.extname(callerFile);
  const file = path.join(path.dirname(callerFile), `${moduleName}${ext}`);
  if (ext !== ".ts") return new Worker(file, options);
  return new Worker(`require("tsx/cjs"); require(${JSON.stringify(file)});`, { ...options, eval: true });
}
