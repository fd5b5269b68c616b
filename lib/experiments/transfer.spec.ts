import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseCandidate, flipHorizontal, firstPerActor, meanPool, stackRows } from "./transfer";

test("flipHorizontal mirrors each row and keeps channels together", () => {
  // 2 rows x 3 columns, pixel (y, x) = [10y + x, 100 + 10y + x, 200 + 10y + x].
  const px = (y: number, x: number) => [10 * y + x, 100 + 10 * y + x, 200 + 10 * y + x];
  const data = Float32Array.from([0, 1].flatMap((y) => [0, 1, 2].flatMap((x) => px(y, x))));
  const flipped = flipHorizontal({ width: 3, height: 2, data });
  assert.deepEqual(
    [...flipped.data],
    [0, 1].flatMap((y) => [2, 1, 0].flatMap((x) => px(y, x))),
  );
  assert.deepEqual(flipHorizontal(flipped).data, data);
});

test("meanPool averages each channel over the positions of an HWC map", () => {
  // 2x2 positions, 3 channels.
  const f = Float32Array.from([1, 10, 100, 2, 20, 200, 3, 30, 300, 6, 60, 600]);
  assert.deepEqual([...meanPool(f, [2, 2, 3])], [3, 30, 300]);
  assert.deepEqual([...meanPool(Float32Array.from([4, 5]), [1, 1, 2])], [4, 5]);
});

test("stackRows appends rows and labels; different widths are refused", () => {
  const a = { rows: 1, dim: 2, x: Float32Array.of(1, 2), labels: Uint8Array.of(3) };
  const b = { rows: 2, dim: 2, x: Float32Array.of(5, 6, 7, 8), labels: Uint8Array.of(0, 1) };
  const s = stackRows(a, b);
  assert.deepEqual(
    { rows: s.rows, dim: s.dim, x: [...s.x], labels: [...s.labels] },
    { rows: 3, dim: 2, x: [1, 2, 5, 6, 7, 8], labels: [3, 0, 1] },
  );
  assert.throws(() => stackRows(a, { ...b, dim: 4, rows: 1 }), /2 inputs per row against 4/);
});

const CHOICES: { name: string; rows: { validation: number; features: number }[]; chosen: number }[] = [
  {
    name: "highest validation wins",
    rows: [
      { validation: 0.9, features: 10 },
      { validation: 0.95, features: 5000 },
    ],
    chosen: 1,
  },
  {
    name: "a tie goes to fewer features",
    rows: [
      { validation: 0.95, features: 5000 },
      { validation: 0.95, features: 768 },
    ],
    chosen: 1,
  },
  {
    name: "a full tie goes to the earlier",
    rows: [
      { validation: 0.9, features: 64 },
      { validation: 0.9, features: 64 },
    ],
    chosen: 0,
  },
];
for (const c of CHOICES) {
  test(`chooseCandidate: ${c.name}`, () => assert.equal(chooseCandidate(c.rows), c.rows[c.chosen]));
}
test("chooseCandidate refuses an empty list", () => assert.throws(() => chooseCandidate([]), /no candidates/));

test("firstPerActor keeps the first n of each label in order", () => {
  const faces = [0, 1, 0, 0, 1, 2].map((label, i) => ({ actor: `a${label}`, label, sha256: `h${i}` }));
  assert.deepEqual(
    firstPerActor(faces, 2).map((f) => f.sha256),
    ["h0", "h1", "h2", "h4", "h5"],
  );
});
