import { test } from "node:test";
import assert from "node:assert/strict";
import { GridResult, gridProgressText } from "./grid-search";
import { progressBar } from "../../runtime/progress";

const result = { key: "s32-h20-e500-b50-leaky_relu-lr0.001", validationAccuracy: 0.853448 } as GridResult;

test("gridProgressText counts only the configurations this run trains", () => {
  const cases: [number, number, number, number, string][] = [
    [10, 216, 4, 30, `${progressBar(6 / 212)} 6/212, 30 s, about 17 min 10 s left`],
    [216, 216, 4, 600, `${progressBar(1)} 212/212, 10 min 00 s`],
  ];
  for (const [done, total, skipped, elapsedSeconds, middle] of cases) {
    assert.equal(
      gridProgressText({ done, total, skipped, elapsedSeconds, last: result }),
      `grid search ${middle}: s32-h20-e500-b50-leaky_relu-lr0.001: validation 0.8534`,
    );
  }
});
