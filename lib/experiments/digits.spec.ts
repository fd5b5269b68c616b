import { test } from "node:test";
import assert from "node:assert/strict";
import { setProfile } from "../runtime/profile";
import { DIGIT_SETTINGS } from "./digits";

test("DIGIT_SETTINGS follow a profile changed after import (a re-run parameters cell)", () => {
  const cases: ["full" | "quick", number, number][] = [
    ["quick", 400, 20],
    ["full", 10000, 100],
  ];
  for (const [p, maxIter, recordEvery] of cases) {
    setProfile(p);
    assert.deepEqual(
      { maxIter: DIGIT_SETTINGS.maxIter, recordEvery: DIGIT_SETTINGS.recordEvery },
      { maxIter, recordEvery },
    );
    assert.equal({ ...DIGIT_SETTINGS }.maxIter, maxIter, "spread (the cache key) reads the current value");
  }
});
