/**
 * Worker thread of the grid search: trains one configuration per message and posts its
 * result. It receives training and validation sets only; the test set stays with the caller.
 */
import { parentPort, workerData } from "worker_threads";
import { initBackend } from "../../runtime/backend";
import { trainMlp } from "./mlp";
import { configKey, GridConfig, GridData, GridResult } from "./grid-search";

const data = workerData.data as Record<32 | 64, GridData>;
const ready = initBackend();

parentPort!.on("message", async (msg: { config: GridConfig; seed: number; curveEvery: number }) => {
  try {
    await ready;
    const d = data[msg.config.size];
    const { config, seed } = msg;
    const r = trainMlp(d.train, d.validation, { ...config, seed }, { curveEvery: msg.curveEvery });
    const result: GridResult = {
      key: configKey(config),
      config,
      seed,
      trainAccuracy: r.trainAccuracy,
      validationAccuracy: r.validationAccuracy,
      seconds: r.seconds,
      curve: r.curve,
    };
    parentPort!.postMessage({ result });
  } catch (e) {
    parentPort!.postMessage({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
