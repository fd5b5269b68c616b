import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend, tf } from "../../runtime/backend";
import { padCalls, usePadKernel } from "./pad";

before(async () => {
  await initBackend("wasm");
});

interface Case {
  name: string;
  shape: number[];
  paddings: [number, number][];
  value: number;
  dtype?: "float32" | "int32";
  /** Whether the row-copy kernel serves it (else tfjs's kernel does). */
  rows: boolean;
}

const CASES: Case[] = [
  {
    name: "Keras ZeroPadding2D ((0, 1), (0, 1))",
    shape: [2, 5, 4, 3],
    paddings: [
      [0, 0],
      [0, 1],
      [0, 1],
      [0, 0],
    ],
    value: 0,
    rows: true,
  },
  {
    name: "symmetric 1",
    shape: [1, 3, 3, 8],
    paddings: [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
    value: 0,
    rows: true,
  },
  {
    name: "uneven, a constant not exact in float",
    shape: [3, 2, 4, 5],
    paddings: [
      [0, 0],
      [2, 0],
      [0, 3],
      [0, 0],
    ],
    value: 0.1,
    rows: true,
  },
  {
    name: "nothing to pad",
    shape: [1, 2, 2, 2],
    paddings: [
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ],
    value: -1.5,
    rows: true,
  },
  {
    name: "channels padded: tfjs",
    shape: [1, 2, 2, 2],
    paddings: [
      [0, 0],
      [1, 0],
      [0, 0],
      [0, 2],
    ],
    value: 0,
    rows: false,
  },
  {
    name: "batch padded: tfjs",
    shape: [1, 2, 2, 2],
    paddings: [
      [1, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ],
    value: 0,
    rows: false,
  },
  {
    name: "3-D: tfjs",
    shape: [3, 4, 2],
    paddings: [
      [1, 1],
      [0, 2],
      [0, 0],
    ],
    value: 0,
    rows: false,
  },
  {
    name: "int32: tfjs",
    shape: [1, 2, 3, 1],
    paddings: [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
    value: 7,
    dtype: "int32",
    rows: false,
  },
];

async function pad(c: Case): Promise<Uint32Array> {
  const n = c.shape.reduce((a, b) => a * b, 1);
  // Distinct values, negative zero among them, so a misplaced copy or a lost sign shows.
  const values = Array.from({ length: n }, (_, i) => (i === 1 ? -0 : (i - n / 2) * 0.37));
  const x =
    c.dtype === "int32" ? tf.tensor(values.map(Math.round), c.shape, "int32") : tf.tensor(values, c.shape, "float32");
  const out = tf.pad(x, c.paddings, c.value);
  const data = await out.data();
  tf.dispose([x, out]);
  return new Uint32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

test("the row-copy PadV2 gives tfjs's wasm kernel's outputs bit for bit, and falls back where it does not apply", async () => {
  const tfjs = new Map<string, Uint32Array>();
  for (const c of CASES) tfjs.set(c.name, await pad(c));
  assert.ok(usePadKernel(), "usePadKernel() did not install the kernel on the wasm backend");
  for (const c of CASES) {
    const calls = { ...padCalls };
    assert.deepEqual(await pad(c), tfjs.get(c.name), `${c.name}: outputs differ from tfjs's`);
    assert.deepEqual(
      { rows: padCalls.rows - calls.rows, tfjs: padCalls.tfjs - calls.tfjs },
      c.rows ? { rows: 1, tfjs: 0 } : { rows: 0, tfjs: 1 },
      `${c.name}: which kernel ran`,
    );
  }
});

test("a small case by hand: one row of zeros below and one column to the right", async () => {
  assert.ok(usePadKernel());
  const out = tf.pad(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]), [
    [0, 0],
    [0, 1],
    [0, 1],
    [0, 0],
  ]);
  assert.deepEqual(Array.from(await out.data()), [1, 2, 0, 3, 4, 0, 0, 0, 0]);
  out.dispose();
});
