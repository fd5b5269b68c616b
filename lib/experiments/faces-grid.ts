/**
 * The Part 8 grid search in view (notebook 08): every configuration as a danfojs DataFrame
 * in selection order, the marginal validation accuracy of each hyper-parameter value
 * (danfojs groupby), where a given configuration ranks, and a heatmap of the whole grid.
 */
import { GridConfig, GridResult, trainingCost } from "../models/mlp/grid-search";
import { heatmapChart, HeatmapMark } from "../plots/heatmap";
import type { Figure } from "../plots/figures";

/** The report's chosen configuration (its text; its Figure 8 caption says otherwise). */
export const REPORT_CHOICE: GridConfig = {
  size: 64,
  hidden: 20,
  epochs: 200,
  batchSize: 100,
  activation: "leaky_relu",
  learningRate: 1e-3,
};

export const activationName = (a: GridConfig["activation"]): string => (a === "relu" ? "ReLU" : "LeakyReLU(0.01)");

export const sameConfig = (a: GridConfig, b: GridConfig): boolean =>
  (Object.keys(a) as (keyof GridConfig)[]).every((k) => a[k] === b[k]);

/**
 * Results in the order the selection ranks them: validation accuracy descending, then the
 * cheaper configuration, then grid order; the first is `bestResult`'s choice.
 */
export function selectionOrder(results: readonly GridResult[]): GridResult[] {
  return results
    .map((r, i) => ({ r, i }))
    .sort(
      (a, b) =>
        b.r.validationAccuracy - a.r.validationAccuracy ||
        trainingCost(a.r.config) - trainingCost(b.r.config) ||
        a.i - b.i,
    )
    .map((x) => x.r);
}

export interface ConfigRank {
  result: GridResult;
  /** 1 + the number of configurations with a strictly higher validation accuracy. */
  rank: number;
  /** Other configurations with exactly the same validation accuracy. */
  tiedWith: number;
  of: number;
}

export function configRank(results: readonly GridResult[], config: GridConfig): ConfigRank {
  const result = results.find((r) => sameConfig(r.config, config));
  if (!result) throw new Error(`configRank: ${JSON.stringify(config)} is not among the ${results.length} results`);
  const v = result.validationAccuracy;
  return {
    result,
    rank: 1 + results.filter((r) => r.validationAccuracy > v).length,
    tiedWith: results.filter((r) => r !== result && r.validationAccuracy === v).length,
    of: results.length,
  };
}

// danfojs ships no usable types for its DataFrame in Node.
/* eslint-disable @typescript-eslint/no-explicit-any */
type DataFrame = any;

function danfo(): any {
  // Loaded on first use: it is heavy, and only the notebook's tables need it.
  return require("danfojs-node");
}
/* eslint-enable @typescript-eslint/no-explicit-any */

function row(r: GridResult) {
  return {
    size: `${r.config.size}x${r.config.size}`,
    hidden: r.config.hidden,
    epochs: r.config.epochs,
    batch: r.config.batchSize,
    activation: activationName(r.config.activation),
    lr: r.config.learningRate,
    train: Number(r.trainAccuracy.toFixed(4)),
    validation: Number(r.validationAccuracy.toFixed(4)),
    seconds: Number(r.seconds.toFixed(1)),
  };
}

/** Every configuration, in selection order, with its place in it ("order": 1 is the chosen one). */
export function resultsFrame(results: readonly GridResult[]): DataFrame {
  return new (danfo().DataFrame)(selectionOrder(results).map((r, i) => ({ order: i + 1, ...row(r) })));
}

const PARAMETERS = ["size", "hidden", "epochs", "batch", "activation", "lr"] as const;

/**
 * For each hyper-parameter value, the mean, best and worst validation accuracy over the
 * configurations that use it (danfojs groupby), one frame with a "parameter" column.
 */
export function marginalFrame(results: readonly GridResult[]): DataFrame {
  const dfd = danfo();
  const df = new dfd.DataFrame(results.map(row));
  const parts = PARAMETERS.map((p) => {
    const g = df.groupby([p]).agg({ validation: ["mean", "max", "min", "count"] });
    return g.values.map((v: (string | number)[]) => ({
      parameter: p,
      value: String(v[0]),
      "mean validation": Number((v[1] as number).toFixed(4)),
      best: v[2],
      worst: v[3],
      configurations: v[4],
    }));
  });
  return new dfd.DataFrame(parts.flat());
}

const unique = <T>(xs: T[]): T[] => [...new Set(xs)];

/**
 * The whole grid as one heatmap of validation accuracy: rows image size x hidden units x
 * epochs, columns batch size x activation x learning rate, with chosen cells outlined.
 */
export function gridHeatmap(
  results: readonly GridResult[],
  marks: { config: GridConfig; name: string; color: string; dash?: HeatmapMark["dash"] }[],
  title: string,
): Figure {
  const c = results.map((r) => r.config);
  const rowKey = (x: GridConfig) => `${x.size}|${x.hidden}|${x.epochs}`;
  const colKey = (x: GridConfig) => `${x.batchSize}|${x.activation}|${x.learningRate}`;
  const rowKeys = unique(c.map(rowKey));
  const colKeys = unique(c.map(colKey));
  const z: (number | null)[][] = rowKeys.map(() => colKeys.map(() => null));
  for (const r of results)
    z[rowKeys.indexOf(rowKey(r.config))][colKeys.indexOf(colKey(r.config))] = 100 * r.validationAccuracy;
  const rowLabels = rowKeys.map((k) => {
    const [s, h, e] = k.split("|");
    return `${s}x${s}, ${h} hidden, ${e} ep.`;
  });
  const colLabels = colKeys.map((k) => {
    const [b, a, lr] = k.split("|");
    return `${b}<br>${a === "relu" ? "ReLU" : "Leaky"}<br>${Number(lr).toExponential(0).replace("e-", "e−")}`;
  });
  // The colours span the upper 90% of the grid: a few runs that end at chance level would
  // otherwise take most of the scale and leave the rest one colour.
  const sorted = results.map((r) => 100 * r.validationAccuracy).sort((a, b) => a - b);
  const zmin = sorted[Math.floor(0.1 * (sorted.length - 1))];
  return heatmapChart({
    title,
    zmin,
    rowLabels,
    colLabels,
    z,
    format: (v) => v.toFixed(1),
    colorTitle: `validation<br>accuracy (%)<br>darkest: ≤ ${zmin.toFixed(1)}`,
    xTitle: "batch size, activation (Leaky: LeakyReLU(0.01)), learning rate",
    marks: marks
      .filter((m) => results.some((r) => sameConfig(r.config, m.config)))
      .map((m) => ({
        row: rowKeys.indexOf(rowKey(m.config)),
        col: colKeys.indexOf(colKey(m.config)),
        name: m.name,
        color: m.color,
        dash: m.dash,
      })),
  });
}
