import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initBackend } from "../../runtime/backend";
import { Backbone, RgbImage, tapLayer } from "./backbone";
import { MobileNetV2 } from "./mobilenet";
import { InceptionV3 } from "./inception";
import { FaceDescriptor } from "./face-descriptor";

function gradient(size: number, phase: number): RgbImage {
  const data = new Float32Array(size * size * 3);
  for (let i = 0; i < size * size; i++)
    for (let c = 0; c < 3; c++) data[i * 3 + c] = (Math.sin(i * 0.01 + c + phase) + 1) / 2;
  return { width: size, height: size, data };
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

before(async () => {
  await initBackend();
});

// The layer shapes here are the networks' real ones (from the Keras topologies and the
// face-api ResNet), not read back from the code under test.
// `run` limits the forward passes to some layers where the network is slow (InceptionV3, about 1 image/s).
const EXPECTED: {
  load: () => Promise<Backbone>;
  inputSize: number;
  shapes: Record<string, number[]>;
  run?: string[];
}[] = [
  {
    load: () => MobileNetV2.load(),
    inputSize: 224,
    shapes: {
      block_2_add: [56, 56, 24],
      block_5_add: [28, 28, 32],
      block_9_add: [14, 14, 64],
      block_12_add: [14, 14, 96],
      block_15_add: [7, 7, 160],
      out_relu: [7, 7, 1280],
    },
  },
  {
    load: () => InceptionV3.load(),
    inputSize: 299,
    shapes: {
      mixed2: [35, 35, 288],
      mixed4: [17, 17, 768],
      mixed5: [17, 17, 768],
      mixed6: [17, 17, 768],
      mixed7: [17, 17, 768],
      mixed8: [8, 8, 1280],
      mixed10: [8, 8, 2048],
    },
    run: ["mixed2", "mixed8"],
  },
  { load: () => FaceDescriptor.load(), inputSize: 150, shapes: { descriptor: [128] } },
];

for (const { load, inputSize, shapes, run } of EXPECTED) {
  test(`${Object.keys(shapes)[0]}...: output shapes for a known 227x227 input`, async () => {
    const net = await load();
    assert.equal(net.inputSize, inputSize);
    assert.deepEqual(Object.fromEntries(net.layers.map((l) => [l.name, l.shape])), shapes);
    const a = gradient(227, 0);
    const b = gradient(227, 2);
    for (const [layer, shape] of Object.entries(shapes).filter(([l]) => !run || run.includes(l))) {
      const [fa, fb] = await net.activations([a, b], layer);
      assert.equal(fa.length, numel(shape), layer);
      assert.ok(fa.every(Number.isFinite), layer);
      assert.notDeepEqual(fa, fb, `${layer}: two different images gave identical features`);
      // Batching must not change an image's features.
      const [alone] = await net.activations([a], layer);
      const worst = alone.reduce((m, v, i) => Math.max(m, Math.abs(v - fa[i])), 0);
      assert.ok(worst < 1e-4, `${layer}: batch vs single differ by ${worst}`);
    }
    assert.throws(() => tapLayer(net, "conv9"), /no tap layer "conv9"; available: /);
    await assert.rejects(
      net.activations([{ width: 10, height: 10, data: new Float32Array(7) }], net.layers[0].name),
      /7 values do not make a 10x10x3/,
    );
  });
}
