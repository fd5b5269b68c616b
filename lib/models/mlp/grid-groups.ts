/**
 * The grid's structure, used by the kernel engine. Configurations of one input size, hidden
 * size and batch size see the same batches in the same order (the shuffles come from the
 * seed) and start from the same weights (the activation does not change the initial
 * draw), so they train together on one MlpKernel:
 *  - the activation x learning-rate variants as one wider network (each variant's columns
 *    are computed exactly as if it trained alone: tested bit for bit), and
 *  - the epoch counts as one run of the longest: after epoch e its weights are those of a
 *    run of e epochs, so each configuration's accuracies are read off at its own epochs.
 * With TensorFlow.js each configuration is a job of its own, as before.
 */
import type { LabelledMatrix } from "../../data/labelled";
import type { CurvePoint } from "./mlp";
import { activationSlope, ADAM, initWeights, MlpDivergenceError } from "./mlp";
import { trainVariants } from "./kernel/train-variants";
import type { GridConfig } from "./grid-search";

/** Jobs for the workers, longest first; `cost` is in multiply-adds of the first layer, up to a constant. */
export function gridJobs(todo: GridConfig[], engine: "kernel" | "tfjs"): { configs: GridConfig[]; cost: number }[] {
  const groups = new Map<string, GridConfig[]>();
  for (const c of todo) {
    const key = engine === "kernel" ? `${c.size}/${c.hidden}/${c.batchSize}` : JSON.stringify(c);
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const jobs = [...groups.values()].map((configs) => {
    const c = configs[0];
    const variants = new Set(configs.map((x) => `${x.activation}/${x.learningRate}`)).size;
    const epochs = Math.max(...configs.map((x) => x.epochs));
    // Per epoch: the first layer's product for every variant, plus a fixed cost per step
    // (about 4 KB of first-layer work's worth) that makes small batches dearer.
    const stepsPerRow = 1 / c.batchSize;
    return { configs, cost: epochs * (c.size * c.size * c.hidden * variants + 4096 * 20 * stepsPerRow) };
  });
  return jobs.sort((a, b) => b.cost - a.cost);
}

/** What the worker reports for each configuration of a job. */
export interface GroupRun {
  config: GridConfig;
  curve: CurvePoint[];
  trainAccuracy: number;
  validationAccuracy: number;
  /** The shared run's time to this configuration's last epoch, divided by the variants trained together. */
  seconds: number;
}

/**
 * Trains one job's configurations together on the kernel (they must share size, hidden and
 * batch size). `curveEvery[i]` is configuration i's curve spacing, as trainMlp's option.
 * A configuration that diverges throws trainMlp's error for it.
 */
export function trainGridGroup(
  d: { train: LabelledMatrix; validation: LabelledMatrix },
  configs: GridConfig[],
  seed: number,
  curveEvery: number[],
): GroupRun[] {
  const { hidden, batchSize } = configs[0];
  for (const c of configs)
    if (c.hidden !== hidden || c.batchSize !== batchSize || c.size !== configs[0].size)
      throw new Error(`trainGridGroup: configurations differ in size, hidden or batch size (${JSON.stringify(c)})`);
  const variantKeys = [...new Set(configs.map((c) => `${c.activation}/${c.learningRate}`))];
  const variantOf = (c: GridConfig) => variantKeys.indexOf(`${c.activation}/${c.learningRate}`);
  const variants = variantKeys.map((k) => {
    const c = configs.find((x) => `${x.activation}/${x.learningRate}` === k)!;
    return {
      init: initWeights(d.train.dim, hidden, 6, c.activation, seed),
      slope: activationSlope(c.activation),
      learningRate: c.learningRate,
    };
  });
  const curveEpochs = configs.map((c, i) => {
    const every = curveEvery[i];
    const out: number[] = [];
    for (let e = 1; e <= c.epochs; e++) if ((every > 0 && e % every === 0) || e === c.epochs) out.push(e);
    return out;
  });
  const epochs = Math.max(...configs.map((c) => c.epochs));
  const r = trainVariants(d.train, d.validation, variants, {
    batchSize,
    epochs,
    seed,
    recordAt: new Set(curveEpochs.flat()),
    snapshotAt: new Set(),
    adam: ADAM,
  });
  return configs.map((config, i) => {
    const out = r.outcomes[variantOf(config)];
    if (out.diverged && out.diverged.epoch <= config.epochs)
      throw new MlpDivergenceError({ ...config, seed }, out.diverged.epoch, out.diverged.reason);
    const wanted = new Set(curveEpochs[i]);
    const curve = out.curve.filter((p) => wanted.has(p.epoch));
    const last = curve[curve.length - 1];
    return {
      config,
      curve,
      trainAccuracy: last.train,
      validationAccuracy: last.validation,
      seconds: r.secondsAt[config.epochs - 1] / variants.length,
    };
  });
}
