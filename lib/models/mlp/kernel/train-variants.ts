/**
 * Minibatch Adam on the kernel for one or more variants that share a training set, batch
 * size and seed: the same epochs, shuffles and batches as trainMlp's TensorFlow.js engine
 * (order from Random(seed + 1), one permutation per epoch, the last batch of an epoch
 * smaller). Accuracies are recorded and weights copied at the epochs asked for, so runs
 * that differ only in their number of epochs come out of one longer run: after epoch e the
 * longer run's weights are exactly those of a run of e epochs.
 */
import { Random } from "../../../runtime/random";
import type { LabelledMatrix } from "../../../data/labelled";
import { AdamConstants, KernelVariant, MlpKernel } from "./mlp-kernel";
import type { MlpWeights } from "../mlp";

export interface VariantOutcome {
  /** Accuracies at each epoch in `recordAt`, in epoch order. */
  curve: { epoch: number; train: number; validation: number }[];
  /** Weights (without the activation field) after each epoch in `snapshotAt`. */
  snapshots: Map<number, Omit<MlpWeights, "activation">>;
  /** The first epoch at which the loss or a weight was not finite, and which. */
  diverged: { epoch: number; reason: string } | null;
  /** Mean training loss of each epoch, as the steps saw it. */
  losses: number[];
}

export interface VariantsResult {
  outcomes: VariantOutcome[];
  /** Seconds from the start to the end of each epoch (index epoch - 1), for all variants together. */
  secondsAt: number[];
  /** Adam steps per variant. */
  steps: number;
}

export function trainVariants(
  train: LabelledMatrix,
  validation: LabelledMatrix,
  variants: KernelVariant[],
  o: {
    batchSize: number;
    epochs: number;
    seed: number;
    recordAt: Set<number>;
    snapshotAt: Set<number>;
    adam: AdamConstants;
    file?: string;
    /** 2: each step split over two threads (the same weights as with 1; see mlp-kernel.ts). */
    threads?: 1 | 2;
  },
): VariantsResult {
  const t0 = performance.now();
  const kernel = new MlpKernel(train, [validation], variants, o.batchSize, o.adam, {
    file: o.file,
    threads: o.threads,
  });
  try {
    return trainKernel(kernel, variants.length, o, t0);
  } finally {
    kernel.dispose();
  }
}

function trainKernel(
  kernel: MlpKernel,
  count: number,
  o: { batchSize: number; epochs: number; seed: number; recordAt: Set<number>; snapshotAt: Set<number> },
  t0: number,
): VariantsResult {
  const { train } = kernel;
  const N = train.rows;
  const shuffleRng = new Random(o.seed + 1);
  const outcomes: VariantOutcome[] = Array.from({ length: count }, () => ({
    curve: [],
    snapshots: new Map(),
    diverged: null,
    losses: [],
  }));
  const secondsAt: number[] = [];
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const order = shuffleRng.permutation(N);
    for (let start = 0; start < N; start += o.batchSize) kernel.step(order, start, Math.min(N, start + o.batchSize));
    const loss = kernel.takeLoss();
    const finite = kernel.finite();
    for (const [v, out] of outcomes.entries()) {
      out.losses.push(loss[v] / N);
      if (out.diverged) continue;
      if (!Number.isFinite(loss[v])) out.diverged = { epoch, reason: `the training loss became ${loss[v]}` };
      else if (!finite[v]) out.diverged = { epoch, reason: "a weight became NaN or infinite" };
    }
    if (o.recordAt.has(epoch)) {
      const tr = kernel.accuracies(0),
        va = kernel.accuracies(1);
      for (const [v, out] of outcomes.entries()) out.curve.push({ epoch, train: tr[v], validation: va[v] });
    }
    if (o.snapshotAt.has(epoch)) for (const [v, out] of outcomes.entries()) out.snapshots.set(epoch, kernel.weights(v));
    secondsAt.push((performance.now() - t0) / 1000);
    if (outcomes.every((x) => x.diverged)) break;
  }
  return { outcomes, secondsAt, steps: kernel.steps };
}
