import { test } from "node:test";
import assert from "node:assert/strict";
import { byProfile, parseProfile } from "./profile";

test("parseProfile table", () => {
  const cases: [string | undefined, string][] = [
    [undefined, "full"],
    ["", "full"],
    ["full", "full"],
    ["quick", "quick"],
  ];
  for (const [input, expected] of cases) assert.equal(parseProfile(input), expected);
});

test("an unknown profile names the value", () => {
  assert.throws(() => parseProfile("fast"), /REPORT_PROFILE="fast" is not a profile/);
});

test("byProfile picks the setting", () => {
  assert.equal(byProfile({ full: 10000, quick: 300 }, "full"), 10000);
  assert.equal(byProfile({ full: 10000, quick: 300 }, "quick"), 300);
});
