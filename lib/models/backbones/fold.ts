/**
 * An inference executor for Keras functional models (nsfwjs's MobileNetV2 and InceptionV3,
 * notebook 10) that folds each BatchNormalization into the convolution before it and fuses
 * the ReLU / ReLU6 after it into that convolution.
 *
 * Keras runs Conv2D (no bias), BatchNormalization and ReLU6 as three layers: three passes over
 * large activations and three layers' JS overhead. In inference BatchNormalization is an affine
 * map per channel, gamma * (y - mean) / sqrt(variance + epsilon) + beta, so with
 * s = gamma / sqrt(variance + epsilon) (gamma = 1 where the layer has `scale: false`, as
 * InceptionV3's) it becomes the convolution's filter scaled by s per output channel and the bias
 * beta + (bias - mean) * s (beta = 0 without `center`, bias = 0 without `use_bias`). The folded
 * weights are computed once at load, in float64, then rounded to float32. The activation then
 * runs inside the convolution: tf.fused.conv2d / tf.fused.depthwiseConv2d with bias and
 * activation, which tfjs-backend-wasm runs through XNNPACK with the clamp in its output loop.
 *
 * A group is folded only where the graph allows it: the convolution's output goes only to the
 * BatchNormalization (and the BatchNormalization's only to the activation, for the activation to
 * be fused), the convolution has no activation of its own, and no layer inside the group is one
 * of the outputs asked for. A ZeroPadding2D read only by such a folded convolution (MobileNetV2
 * pads before its strided convolutions) becomes that convolution's explicit padding: XNNPACK
 * reads zeros at the border instead of a padded copy, the same floats bit for bit (fold.spec.ts).
 * Every other layer (Add, Concatenate, pooling, a padding or BatchNormalization that cannot be
 * folded) runs as Keras runs it, and every requested output is
 * the tensor the Keras layer of that name produces, up to float32 rounding (the folded
 * arithmetic rounds in other places: fold.spec.ts measures the difference on the real models).
 *
 * Used by NsfwjsBackbone (nsfwjs.ts), i.e. notebook 10 through ParallelBackbone.
 */
import { tf } from "../../runtime/backend";

/**
 * The identity of the folded computation, part of the activation cache's key
 * (Backbone.computation): the floats differ from the unfolded model's by rounding, so files
 * of one must never be served as the other's. Change it whenever the folded arithmetic changes.
 */
export const FOLDED_COMPUTATION = "bn-folded-1";

type Activation = "linear" | "relu" | "relu6";

/** One convolution with its BatchNormalization (and activation) folded in. */
interface FoldGroup {
  conv: tf.layers.Layer;
  depthwise: boolean;
  bn: tf.layers.Layer;
  /** The fused activation layer, if any. */
  act: tf.layers.Layer | null;
  activation: Activation;
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
  strides: [number, number];
  padding: "valid" | "same";
  dilations: [number, number];
}

/** tfjs's explicit padding of an NHWC convolution: [[0, 0], [top, bottom], [left, right], [0, 0]]. */
type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

type Step =
  | { kind: "fused"; group: FoldGroup; input: string; output: string; pad: "valid" | "same" | ExplicitPadding }
  | { kind: "layer"; layer: tf.layers.Layer; inputs: string[]; output: string };

/** What a plan does, for tests and the benchmark. */
export interface FoldCounts {
  /** Convolutions run with a folded BatchNormalization. */
  folded: number;
  /** Of those, with the activation layer fused in too. */
  fusedActivations: number;
  /** Keras layers run as they are. */
  layers: number;
  /** BatchNormalization layers run as they are (not foldable for this set of outputs). */
  batchNorms: number;
  /** ZeroPadding2D layers done inside the convolution after them (its explicit padding). */
  paddings: number;
}

interface Plan {
  steps: Step[];
  /** For each step, the names whose tensors can be released after it. */
  release: string[][];
  counts: FoldCounts;
}

/** The parts of tfjs-layers' layers read here (not all in its public types). */
interface ConvInternals {
  kernel?: tf.LayerVariable;
  depthwiseKernel?: tf.LayerVariable;
  bias?: tf.LayerVariable | null;
}
interface BatchNormInternals {
  gamma?: tf.LayerVariable | null;
  beta?: tf.LayerVariable | null;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

function inboundNames(layer: tf.layers.Layer): string[] {
  if (layer.inboundNodes.length !== 1)
    throw new Error(
      `FoldedModel: layer ${layer.name} is called ${layer.inboundNodes.length} times in the graph; shared layers are not supported`,
    );
  return layer.inboundNodes[0].inboundLayers.map((l) => l.name);
}

function pair(v: unknown, what: string, layer: string): [number, number] {
  const a = typeof v === "number" ? [v, v] : (v as number[]);
  if (!Array.isArray(a) || a.length !== 2) throw new Error(`FoldedModel: ${layer}'s ${what} ${JSON.stringify(v)}`);
  return [a[0], a[1]];
}

/** The activation a layer applies, if it is one of those the fused convolutions run. */
function activationOf(layer: tf.layers.Layer): Activation | null {
  const config = layer.getConfig() as Record<string, unknown>;
  const cls = layer.getClassName();
  if (cls === "ReLU") {
    // tfjs's ReLU layer is relu, then a clip to maxValue when set (Keras's threshold and
    // negative_slope are not read by tfjs; a layer carrying them would not load as this class).
    const max = config.maxValue;
    if (max === undefined || max === null) return "relu";
    return max === 6 ? "relu6" : null;
  }
  if (cls === "Activation") {
    const a = config.activation;
    return a === "relu" || a === "relu6" ? a : null;
  }
  return null;
}

function values(v: tf.LayerVariable | null | undefined, n: number, what: string, layer: string): Float32Array | null {
  // tfjs leaves the variables of `scale: false` / `center: false` / `use_bias: false` unset or null.
  if (v === null || v === undefined) return null;
  const data = v.read().dataSync() as Float32Array;
  if (data.length !== n) throw new Error(`FoldedModel: ${layer}'s ${what} has ${data.length} values, expected ${n}`);
  return data;
}

/**
 * The folded filter and bias of `conv` followed by `bn`, computed in float64 and rounded to
 * float32 once. Exported for fold.spec.ts.
 */
export function foldBatchNorm(
  kernel: Float32Array,
  channels: number,
  convBias: Float32Array | null,
  bn: {
    gamma: Float32Array | null;
    beta: Float32Array | null;
    mean: Float32Array;
    variance: Float32Array;
    epsilon: number;
  },
): { filter: Float32Array; bias: Float32Array } {
  if (kernel.length % channels !== 0)
    throw new Error(`foldBatchNorm: ${kernel.length} filter values are not a multiple of ${channels} channels`);
  const scale = new Float64Array(channels);
  const bias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = (bn.gamma ? bn.gamma[c] : 1) / Math.sqrt(bn.variance[c] + bn.epsilon);
    bias[c] = (bn.beta ? bn.beta[c] : 0) + ((convBias ? convBias[c] : 0) - bn.mean[c]) * scale[c];
  }
  // Filters are stored with the output channel last ([h, w, in, out] for Conv2D, [h, w, in,
  // multiplier] for DepthwiseConv2D, whose output channel is in * multiplier + m): the flat
  // index modulo `channels` is the output channel in both.
  const filter = new Float32Array(kernel.length);
  for (let i = 0; i < kernel.length; i++) filter[i] = kernel[i] * scale[i % channels];
  return { filter, bias };
}

function makeGroup(conv: tf.layers.Layer, bn: tf.layers.Layer, act: tf.layers.Layer | null): FoldGroup {
  const depthwise = conv.getClassName() === "DepthwiseConv2D";
  const cc = conv.getConfig() as Record<string, unknown>;
  const internals = conv as unknown as ConvInternals;
  const kernelVar = depthwise ? internals.depthwiseKernel : internals.kernel;
  if (!kernelVar) throw new Error(`FoldedModel: ${conv.name} has no kernel`);
  const shape = kernelVar.shape as [number, number, number, number];
  const channels = depthwise ? shape[2] * shape[3] : shape[3];
  const bc = bn.getConfig() as Record<string, unknown>;
  const b = bn as unknown as BatchNormInternals;
  const epsilon = bc.epsilon as number;
  if (typeof epsilon !== "number" || !(epsilon >= 0)) throw new Error(`FoldedModel: ${bn.name}'s epsilon ${epsilon}`);
  const { filter, bias } = foldBatchNorm(
    kernelVar.read().dataSync() as Float32Array,
    channels,
    values(internals.bias, channels, "bias", conv.name),
    {
      gamma: values(b.gamma, channels, "gamma", bn.name),
      beta: values(b.beta, channels, "beta", bn.name),
      mean: values(b.movingMean, channels, "moving mean", bn.name)!,
      variance: values(b.movingVariance, channels, "moving variance", bn.name)!,
      epsilon,
    },
  );
  return {
    conv,
    depthwise,
    bn,
    act,
    activation: act ? activationOf(act)! : "linear",
    filter: tf.tensor4d(filter, shape),
    bias: tf.tensor1d(bias),
    strides: pair(cc.strides, "strides", conv.name),
    padding: cc.padding as "valid" | "same",
    dilations: pair(cc.dilationRate, "dilation rate", conv.name),
  };
}

/** A ZeroPadding2D layer's padding as a convolution's explicit padding, or null if it is not one of zeros on height and width (NHWC). */
function zeroPadding(layer: tf.layers.Layer): ExplicitPadding | null {
  const c = layer.getConfig() as Record<string, unknown>;
  const p = c.padding as unknown;
  if ((c.dataFormat ?? "channelsLast") !== "channelsLast") return null;
  const ok = (a: unknown): a is [number, number] =>
    Array.isArray(a) && a.length === 2 && a.every((v) => Number.isInteger(v) && (v as number) >= 0);
  if (!Array.isArray(p) || p.length !== 2 || !ok(p[0]) || !ok(p[1])) return null;
  return [[0, 0], p[0], p[1], [0, 0]];
}

/** Whether `conv` may be folded with its only consumer `bn` (before looking at the outputs asked for). */
function foldable(conv: tf.layers.Layer, bn: tf.layers.Layer): boolean {
  const cls = conv.getClassName();
  if (cls !== "Conv2D" && cls !== "DepthwiseConv2D") return false;
  const cc = conv.getConfig() as Record<string, unknown>;
  if (cc.activation !== "linear" || cc.dataFormat !== "channelsLast") return false;
  if (cc.padding !== "valid" && cc.padding !== "same") return false;
  if (bn.getClassName() !== "BatchNormalization") return false;
  const bc = bn.getConfig() as Record<string, unknown>;
  // The per-channel axis must be the last one of a 4-D output (Keras writes -1 or 3).
  return bc.axis === -1 || bc.axis === 3;
}

/**
 * A Keras functional model run layer by layer with its Conv→BatchNorm(→ReLU) groups folded.
 * Construct once per model (the folding reads every weight); plans per set of outputs are
 * kept.
 */
export class FoldedModel {
  private readonly layers: tf.layers.Layer[];
  private readonly byName = new Map<string, tf.layers.Layer>();
  private readonly inputs = new Map<string, string[]>();
  private readonly consumers = new Map<string, string[]>();
  /** Groups by the name of their convolution. */
  private readonly groups = new Map<string, FoldGroup>();
  private readonly plans = new Map<string, Plan>();
  private readonly inputName: string;

  constructor(readonly model: tf.LayersModel) {
    if (model.inputs.length !== 1) throw new Error(`FoldedModel: ${model.name} has ${model.inputs.length} inputs`);
    this.layers = model.layers;
    this.inputName = model.inputLayers[0].name;
    this.consumers.set(this.inputName, []);
    for (const layer of this.layers) {
      this.byName.set(layer.name, layer);
      this.consumers.set(layer.name, []);
    }
    for (const layer of this.layers) {
      if (layer.name === this.inputName) continue;
      const ins = inboundNames(layer);
      this.inputs.set(layer.name, ins);
      for (const i of ins) this.consumers.get(i)!.push(layer.name);
    }
    for (const conv of this.layers) {
      const next = this.consumers.get(conv.name)!;
      if (next.length !== 1) continue;
      const bn = this.byName.get(next[0])!;
      if (!foldable(conv, bn)) continue;
      const after = this.consumers.get(bn.name)!;
      const act = after.length === 1 ? this.byName.get(after[0])! : null;
      this.groups.set(conv.name, makeGroup(conv, bn, act && activationOf(act) ? act : null));
    }
  }

  /** The steps that compute `outputs`, folding every group none of whose inner layers is asked for. */
  private plan(outputs: readonly string[]): Plan {
    const key = outputs.join(",");
    const cached = this.plans.get(key);
    if (cached) return cached;
    for (const o of outputs)
      if (!this.consumers.has(o)) throw new Error(`FoldedModel: ${this.model.name} has no layer "${o}"`);
    const wanted = new Set(outputs);
    // Layers the outputs depend on.
    const needed = new Set<string>();
    const stack = [...outputs];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (needed.has(n)) continue;
      needed.add(n);
      stack.push(...(this.inputs.get(n) ?? []));
    }
    const steps: Step[] = [];
    const covered = new Set<string>();
    const counts: FoldCounts = { folded: 0, fusedActivations: 0, layers: 0, batchNorms: 0, paddings: 0 };
    const folds = (g: FoldGroup | undefined): g is FoldGroup =>
      g !== undefined && !wanted.has(g.conv.name) && needed.has(g.bn.name);
    /** Zero paddings taken into the folded convolution after them, by that convolution's name. */
    const padded = new Map<string, { input: string; pad: ExplicitPadding }>();
    for (const layer of this.layers) {
      const name = layer.name;
      if (name === this.inputName || !needed.has(name) || covered.has(name)) continue;
      const g = this.groups.get(name);
      if (folds(g)) {
        // The activation is fused only if the BatchNormalization's output is not asked for itself.
        const act = g.act && !wanted.has(g.bn.name) && needed.has(g.act.name) ? g.act : null;
        const group = act === g.act ? g : { ...g, act: null, activation: "linear" as const };
        const output = act ? act.name : g.bn.name;
        const p = padded.get(name);
        steps.push({
          kind: "fused",
          group,
          input: p?.input ?? this.inputs.get(name)![0],
          output,
          pad: p?.pad ?? g.padding,
        });
        covered.add(g.bn.name);
        if (act) covered.add(act.name);
        counts.folded++;
        if (act) counts.fusedActivations++;
        continue;
      }
      // A ZeroPadding2D read only by a folded "valid" convolution: that convolution pads (XNNPACK
      // reads zeros for the border), one copy of the activations fewer; the same sums.
      const next = this.consumers.get(name)!;
      const target = next.length === 1 ? this.groups.get(next[0]) : undefined;
      const zeros = layer.getClassName() === "ZeroPadding2D" ? zeroPadding(layer) : null;
      if (zeros && !wanted.has(name) && folds(target) && target.padding === "valid") {
        padded.set(target.conv.name, { input: this.inputs.get(name)![0], pad: zeros });
        counts.paddings++;
        continue;
      }
      steps.push({ kind: "layer", layer, inputs: this.inputs.get(name)!, output: name });
      counts.layers++;
      if (layer.getClassName() === "BatchNormalization") counts.batchNorms++;
    }
    // Release each intermediate tensor after the last step that reads it.
    const lastUse = new Map<string, number>();
    steps.forEach((s, i) => (s.kind === "fused" ? [s.input] : s.inputs).forEach((n) => lastUse.set(n, i)));
    const release: string[][] = steps.map(() => []);
    for (const [n, i] of lastUse) if (n !== this.inputName && !wanted.has(n)) release[i].push(n);
    const plan = { steps, release, counts };
    this.plans.set(key, plan);
    return plan;
  }

  /** What running `outputs` folds and runs as it is. */
  counts(outputs: readonly string[]): FoldCounts {
    return { ...this.plan(outputs).counts };
  }

  /**
   * The tensors of the layers named `outputs` for the input batch `x` (NHWC), in that order.
   * Intermediate tensors are disposed as soon as no later step needs them; `x` is not.
   */
  predict(x: tf.Tensor, outputs: readonly string[]): tf.Tensor[] {
    const { steps, release } = this.plan(outputs);
    const values = new Map<string, tf.Tensor>([[this.inputName, x]]);
    const get = (n: string) => {
      const t = values.get(n);
      if (!t) throw new Error(`FoldedModel: ${n} is read before it is computed`);
      return t;
    };
    steps.forEach((s, i) => {
      let y: tf.Tensor;
      if (s.kind === "fused") {
        const g = s.group;
        const args = {
          x: get(s.input) as tf.Tensor4D,
          filter: g.filter,
          strides: g.strides,
          dilations: g.dilations,
          bias: g.bias,
          activation: g.activation,
        };
        // tfjs's typings leave explicit padding out of the fused depthwise op; its kernels (the
        // shared computeConv2DInfo) take it as the plain one does.
        y = g.depthwise
          ? tf.fused.depthwiseConv2d({ ...args, pad: s.pad as "valid" })
          : tf.fused.conv2d({ ...args, pad: s.pad });
      } else {
        const ins = s.inputs.map(get);
        y = s.layer.apply(ins.length === 1 ? ins[0] : ins) as tf.Tensor;
      }
      values.set(s.output, y);
      for (const n of release[i]) {
        const t = values.get(n)!;
        values.delete(n);
        // A layer may hand its input back as its output (Dropout at inference): keep it then.
        if (![...values.values()].includes(t)) t.dispose();
      }
    });
    return outputs.map(get);
  }

  /** Frees the folded weights (not the Keras model's). */
  dispose(): void {
    for (const g of this.groups.values()) {
      g.filter.dispose();
      g.bias.dispose();
    }
    this.groups.clear();
    this.plans.clear();
  }
}
