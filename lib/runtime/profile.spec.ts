import { test } from "node:test";
import assert from "node:assert/strict";
import { byProfile, parseProfile, profile, setProfile } from "./profile";

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
  assert.throws(() => parseProfile("fast"), /REPORT_PROFILE="fast" is not a profile: use "full" or "quick"/);
});

test("the parameters cell's profile wins over REPORT_PROFILE, and a wrong one names the cell", () => {
  const env = process.env.REPORT_PROFILE;
  try {
    process.env.REPORT_PROFILE = "quick";
    assert.equal(profile(), "quick");
    assert.equal(setProfile("full"), "full");
    assert.equal(profile(), "full");
    assert.equal(byProfile({ full: 10000, quick: 300 }), 10000);
    assert.throws(
      () => setProfile("Quick"),
      /the parameters cell \(tagged "parameters"\) sets profileName = "Quick", which is not a profile: allowed values are "full" or "quick"/,
    );
    assert.equal(profile(), "full", "a rejected value changes nothing");
    setProfile("quick");
    assert.equal(profile(), "quick");
  } finally {
    process.env.REPORT_PROFILE = env;
  }
});

test("byProfile picks the setting", () => {
  assert.equal(byProfile({ full: 10000, quick: 300 }, "full"), 10000);
  assert.equal(byProfile({ full: 10000, quick: 300 }, "quick"), 300);
});
