import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { notebookParameters, outputPath, parseArgs, selectNotebooks } from "./run-notebooks";

test("parseArgs table", () => {
  const cases: [string[], Record<string, string | undefined>, object][] = [
    [[], {}, { profile: "full", names: [], keepGoing: false, params: {} }],
    [[], { REPORT_PROFILE: "quick" }, { profile: "quick", names: [], keepGoing: false, params: {} }],
    [["--profile", "quick", "01"], {}, { profile: "quick", names: ["01"], keepGoing: false, params: {} }],
    [
      ["--profile=full", "--keep-going", "a", "b"],
      { REPORT_PROFILE: "quick" },
      { profile: "full", names: ["a", "b"], keepGoing: true, params: {} },
    ],
    [["--quick"], {}, { profile: "quick", names: [], keepGoing: false, params: {} }],
    [
      ["-p", "SEED=7", "--param", 'profileName="quick"', "08"],
      {},
      { profile: "quick", names: ["08"], keepGoing: false, params: { SEED: 7 } },
    ],
  ];
  for (const [argv, env, expected] of cases) assert.deepEqual(parseArgs(argv, env), expected);
  assert.throws(() => parseArgs(["--fast"], {}), /unknown option --fast/);
  assert.throws(() => parseArgs(["--profile", "slow"], {}), /"slow" is not a profile/);
  assert.throws(() => parseArgs(["-p", "profileName=slow"], {}), /"slow" is not a profile/);
});

test("injected parameters: the profile unless full, then every -p", () => {
  const cases: [string[], object][] = [
    [[], {}],
    [["--profile", "quick"], { profileName: "quick" }],
    [["-p", "SEED=3"], { SEED: 3 }],
    [["--quick", "-p", "SEED=3"], { profileName: "quick", SEED: 3 }],
  ];
  for (const [argv, expected] of cases) assert.deepEqual(notebookParameters(parseArgs(argv, {})), expected);
});

test("selectNotebooks: section order, by number, stem or file name; clear errors", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nbs-"));
  for (const f of ["02-softmax.ipynb", "01-mnist.ipynb", "10-transfer.ipynb", "01-mnist.failed.ipynb", "notes.ipynb"]) {
    fs.writeFileSync(path.join(dir, f), "{}");
  }
  const names = (sel: string[]) => selectNotebooks(dir, sel).map((p) => path.basename(p));
  assert.deepEqual(names([]), ["01-mnist.ipynb", "02-softmax.ipynb", "10-transfer.ipynb"]);
  assert.deepEqual(names(["10", "01-mnist", "notebooks/02-softmax.ipynb", "transfer"]), [
    "10-transfer.ipynb",
    "01-mnist.ipynb",
    "02-softmax.ipynb",
    "10-transfer.ipynb",
  ]);
  assert.throws(
    () => selectNotebooks(dir, ["07"]),
    /notebook "07" matches no notebook in .*; have: 01-mnist.ipynb, 02-softmax.ipynb, 10-transfer.ipynb/,
  );
});

test("quick outputs never land on the committed notebooks", () => {
  assert.equal(outputPath("/r", "/r/notebooks/01-mnist.ipynb", "full"), "/r/notebooks/01-mnist.ipynb");
  assert.equal(outputPath("/r", "/r/notebooks/01-mnist.ipynb", "quick"), "/r/build/quick/notebooks/01-mnist.ipynb");
});
