/** The arithmetic that scripts/bench-floor.ts divides by WebAssembly's peak, worked by hand. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { coldMainWork } from "../scripts/bench-floor";

// Full-profile face counts (notebook 10 prints them: 373 training, 116 validation, 116 test).
const FACES = { train: 373, validation: 116, test: 116 };
const HIDDEN_EPOCHS = 100 * 100;
// Notebook 10's full search: flattened MobileNetV2 block_5/9/12/15_add and InceptionV3 mixed8,
// channel means of those MobileNetV2 taps and out_relu and of InceptionV3 mixed2-8 and mixed10.
const FLAT = 28 * 28 * 32 + 14 * 14 * 64 + 14 * 14 * 96 + 7 * 7 * 160 + 8 * 8 * 1280;
const MEAN = 32 + 64 + 96 + 160 + 1280 + 288 + 4 * 768 + 1280 + 2048;

const CASES: [string, number][] = [
  // 2 sizes (32², 64²) x 3 hidden (10, 20, 50) x 3 batch sizes x 4 activation/rate variants, each one run of 500 epochs.
  ["notebook 08: the grid's first-layer products", 4 * 373 * 500 * (32 * 32 + 64 * 64) * (10 + 20 + 50) * 3 * 4],
  ["notebook 10: InceptionV3 on 862 faces", 2 * 5.71e9 * (373 + 373 + 116)],
  ["notebook 10: MobileNetV2 on 978 faces", 2 * 0.3e9 * (373 + 373 + 116 + 116)],
  ["notebook 10: 34 candidate classifiers", 4 * (373 + 746) * (FLAT + MEAN) * HIDDEN_EPOCHS],
  ["notebook 10: the chosen classifier's final run", (4 * 746 + 2 * (746 + 116)) * 14 * 14 * 96 * HIDDEN_EPOCHS],
];

test("the cold main job's work, item by item, as counted by hand", () => {
  const { items, gridRuns } = coldMainWork(FACES);
  assert.equal(gridRuns, 72);
  assert.deepEqual(
    items.map(([name]) => name),
    CASES.map(([name]) => name),
  );
  for (const [i, [name, flops]] of CASES.entries()) {
    const got = items[i][1];
    assert.ok(Math.abs(got - flops) <= 1e-9 * flops, `${name}: ${got} flops, by hand ${flops}`);
  }
});
