/**
 * Worker thread of the grid search: trains one job (one configuration, or on the kernel a
 * group of them, see grid-groups.ts) per message, posts each configuration's result, then
 * `jobDone`. It receives training and validation sets only; the test set stays with the caller.
 */
import { parentPort, workerData } from "worker_threads";
import { initBackend } from "../../runtime/backend";
import { MlpDivergenceError, trainMlp } from "./mlp";
import type { GridDivergence } from "./grid-results";
import { configKey, GridConfig, GridData, GridResult } from "./grid-search";
import { GroupRun, trainGridGroup } from "./grid-groups";

const data = workerData.data as Record<32 | 64, GridData>;
const ready = initBackend();

type Job = { configs: GridConfig[]; seed: number; curveEvery: number[]; engine: "kernel" | "tfjs" };

parentPort!.on("message", async (msg: Job) => {
  try {
    await ready;
    const { configs, seed, engine } = msg;
    const d = data[configs[0].size];
    const post = (r: GroupRun) => {
      const result: GridResult = {
        key: configKey(r.config),
        config: r.config,
        seed,
        trainAccuracy: r.trainAccuracy,
        validationAccuracy: r.validationAccuracy,
        seconds: r.seconds,
        curve: r.curve,
      };
      parentPort!.postMessage({ result });
    };
    // Each configuration alone: a diverged one is posted as such (the grid records it, unranked).
    const trainEach = () => {
      for (const [i, config] of configs.entries()) {
        try {
          const r = trainMlp(d.train, d.validation, { ...config, seed }, { curveEvery: msg.curveEvery[i], engine });
          post({ config, ...r });
        } catch (e) {
          if (!(e instanceof MlpDivergenceError)) throw e;
          const diverged: GridDivergence = {
            key: configKey(config),
            config,
            seed,
            diverged: { epoch: e.epoch, reason: e.reason },
          };
          parentPort!.postMessage({ diverged });
        }
      }
    };
    if (engine === "kernel" && configs.length > 1) {
      let runs: GroupRun[] | null = null;
      try {
        runs = trainGridGroup(d, configs, seed, msg.curveEvery);
      } catch (e) {
        // One configuration of the group diverged: train them one by one so the others still count.
        if (!(e instanceof MlpDivergenceError)) throw e;
      }
      if (runs) for (const r of runs) post(r);
      else trainEach();
    } else trainEach();
    parentPort!.postMessage({ jobDone: true });
  } catch (e) {
    parentPort!.postMessage({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
