import { test } from "node:test";
import assert from "node:assert/strict";
import { CORES_ENV, defaultWorkers, usableCores } from "./cores";

test("usableCores: the machine's cores, capped by REPORT_CORES", () => {
  const rows: [string | undefined, number, number][] = [
    [undefined, 2, 2],
    ["", 2, 2],
    ["1", 2, 1],
    [" 1 ", 2, 1],
    ["2", 2, 2],
    ["8", 2, 2],
    ["3", 16, 3],
  ];
  for (const [value, machine, expected] of rows)
    assert.equal(usableCores({ [CORES_ENV]: value }, machine), expected, `${CORES_ENV}=${value} on ${machine} cores`);
});

test("usableCores: a value that is not a whole number >= 1 is named, not guessed at", () => {
  for (const value of ["0", "-1", "1.5", "two", "2x", "1e3"])
    assert.throws(
      () => usableCores({ [CORES_ENV]: value }, 2),
      new RegExp(
        `^Error: REPORT_CORES="${value.replace(".", "\\.")}" is not a whole number of cores >= 1 \\(unset it to use all 2 cores`,
      ),
    );
});

test("defaultWorkers: two on the project's machines, one when REPORT_CORES=1", () => {
  assert.equal(defaultWorkers({ [CORES_ENV]: "1" }), 1);
  assert.equal(defaultWorkers({ [CORES_ENV]: "64" }), Math.min(2, usableCores({})));
});
