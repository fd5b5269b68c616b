import { test } from "node:test";
import assert from "node:assert/strict";
import { dedupeImages, splitByActor, splitSizes } from "./face-splits";

test("split sizes: 64/20/20 when there are enough, scaled as the report's Peri Gilpin case when not", () => {
  const table: [number, [number, number, number]][] = [
    [104, [64, 20, 20]],
    [150, [64, 20, 20]],
    [86, [54, 16, 16]], // the report's Peri Gilpin
    [92, [58, 17, 17]],
    [100, [62, 19, 19]],
    [5, [5, 0, 0]],
    [0, [0, 0, 0]],
  ];
  for (const [n, [train, validation, test]] of table) assert.deepEqual(splitSizes(n), { train, validation, test }, `n=${n}`);
  assert.throws(() => splitSizes(-1), /non-negative integer, got -1/);
});

function items(counts: Record<string, number>) {
  const out: { actor: string; sha256: string }[] = [];
  for (const [actor, n] of Object.entries(counts)) for (let i = 0; i < n; i++) out.push({ actor, sha256: `${actor}-${String(i).padStart(4, "0")}` });
  return out;
}

test("splits are disjoint, deterministic in the seed, and independent of input order", () => {
  const all = items({ A: 120, B: 86 });
  const a = splitByActor(all, ["A", "B"], 7);
  const b = splitByActor([...all].reverse(), ["A", "B"], 7);
  const c = splitByActor(all, ["A", "B"], 8);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.train, c.train);
  const seen = new Set<string>();
  for (const set of [a.train, a.validation, a.test]) for (const it of set) {
    assert.ok(!seen.has(it.sha256), `${it.sha256} in two sets`);
    seen.add(it.sha256);
  }
  const count = (set: { actor: string }[], actor: string) => set.filter((x) => x.actor === actor).length;
  assert.deepEqual([count(a.train, "A"), count(a.validation, "A"), count(a.test, "A")], [64, 20, 20]);
  assert.deepEqual([count(a.train, "B"), count(a.validation, "B"), count(a.test, "B")], [54, 16, 16]);
});

test("a duplicated hash is one image, and actors outside the list are ignored", () => {
  const all = [...items({ A: 10 }), { actor: "A", sha256: "A-0003" }, { actor: "Z", sha256: "z" }];
  const s = splitByActor(all, ["A"], 1);
  const shas = [...s.train, ...s.validation, ...s.test].map((x) => x.sha256);
  assert.equal(shas.length, 10);
  assert.equal(new Set(shas).size, 10);
});

test("the same cropped pixels under two source hashes are one image, kept by smallest hash", () => {
  const table: [{ actor: string; sha256: string; contentHash?: string }[], string[], number][] = [
    [[{ actor: "A", sha256: "b", contentHash: "p1" }, { actor: "A", sha256: "a", contentHash: "p1" }], ["a"], 1],
    [[{ actor: "A", sha256: "a", contentHash: "p1" }, { actor: "A", sha256: "b", contentHash: "p2" }], ["a", "b"], 0],
    [[{ actor: "A", sha256: "a" }, { actor: "A", sha256: "a", contentHash: "p9" }], ["a"], 1],
    [[{ actor: "A", sha256: "c", contentHash: "p1" }, { actor: "B", sha256: "d", contentHash: "p1" }], ["c"], 1],
  ];
  for (const [input, kept, dropped] of table) {
    const r = dedupeImages(input);
    assert.deepEqual(r.kept.map((x) => x.sha256), kept);
    assert.equal(r.dropped, dropped);
  }
  const all = [...items({ A: 104 }).map((x, i) => ({ ...x, contentHash: `px${i}` })), { actor: "A", sha256: "A-zzzz", contentHash: "px5" }];
  const s = splitByActor(all, ["A"], 3);
  const pixels = [...s.train, ...s.validation, ...s.test].map((x) => x.contentHash);
  assert.equal(new Set(pixels).size, pixels.length, "no cropped image in two places");
  assert.equal(pixels.length, 104);
});
