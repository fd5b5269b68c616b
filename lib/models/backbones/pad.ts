/**
 * TensorFlow.js's wasm PadV2 kernel computes every output element's source index on its own:
 * MobileNetV2's four ZeroPadding2D layers cost about as much as all its depthwise
 * convolutions. Padding height and width of an NHWC tensor is row copies and fills, which
 * `usePadKernel` does with typed-array memmove and fill on tfjs's wasm heap, in place of tfjs's
 * kernel: a copy, so the outputs are the same floats bit for bit (pad.spec.ts checks it
 * against tfjs's kernel). Other paddings (batch or channel padded, not 4-D, not float32) go to
 * tfjs's kernel. TFJS_PAD=tfjs in the environment keeps tfjs's kernel throughout.
 */
import { tf } from "../../runtime/backend";

/** The parts of tfjs-backend-wasm's BackendWasm this kernel uses (not in its public types). */
interface WasmBackend {
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  wasm: { HEAPF32: Float32Array };
}

let installed: boolean | null = null;
/** Calls served here and passed on to tfjs's kernel, in this thread (for tests). */
export const padCalls = { rows: 0, tfjs: 0 };

/** Registers the row-copy PadV2 on the wasm backend, once per thread; true when it is in use. */
export function usePadKernel(): boolean {
  if (installed !== null) return installed;
  installed = false;
  if (process.env.TFJS_PAD === "tfjs" || tf.getBackend() !== "wasm") return false;
  const original = tf.getKernel("PadV2", "wasm");
  if (!original) return false;
  tf.unregisterKernel("PadV2", "wasm");
  tf.registerKernel({ ...original, kernelFunc: (args) => padV2(original.kernelFunc, args) });
  installed = true;
  return true;
}

function padV2(fallback: tf.KernelFunc, args: Parameters<tf.KernelFunc>[0]): ReturnType<tf.KernelFunc> {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { paddings, constantValue } = args.attrs as { paddings: [number, number][]; constantValue: number };
  const covered =
    x.dtype === "float32" &&
    x.shape.length === 4 &&
    paddings.length === 4 &&
    paddings.every(([a, b]) => Number.isInteger(a) && Number.isInteger(b) && a >= 0 && b >= 0) &&
    paddings[0][0] === 0 &&
    paddings[0][1] === 0 &&
    paddings[3][0] === 0 &&
    paddings[3][1] === 0 &&
    x.shape.every((d) => d > 0);
  if (!covered) {
    padCalls.tfjs++;
    return fallback(args);
  }
  padCalls.rows++;
  const [n, h, w, c] = x.shape;
  const [[top, bottom], [left, right]] = [paddings[1], paddings[2]];
  const outW = w + left + right;
  const backend = args.backend as unknown as WasmBackend;
  const out = backend.makeOutput([n, h + top + bottom, outW, c], "float32");
  // Views read after makeOutput: allocating may have grown the heap.
  const heap = backend.wasm.HEAPF32;
  const src = backend.dataIdMap.get(x.dataId).memoryOffset / 4;
  let o = backend.dataIdMap.get(out.dataId).memoryOffset / 4;
  // tfjs's kernel writes the constant as a float.
  const value = Math.fround(constantValue);
  const row = outW * c;
  for (let b = 0; b < n; b++) {
    heap.fill(value, o, o + top * row);
    o += top * row;
    for (let y = 0; y < h; y++) {
      const from = src + (b * h + y) * w * c;
      heap.fill(value, o, o + left * c);
      heap.copyWithin(o + left * c, from, from + w * c);
      heap.fill(value, o + (left + w) * c, o + row);
      o += row;
    }
    heap.fill(value, o, o + bottom * row);
    o += bottom * row;
  }
  return out;
}
