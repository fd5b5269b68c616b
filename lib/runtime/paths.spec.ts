import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "path";
import { displayPath, projectRoot } from "./paths";

test("displayPath: absolute paths relative to the project root, URLs and relative paths as they are", () => {
  const root = projectRoot();
  const cases: [string, string][] = [
    [path.join(root, "data", "faces", "grid", "r.jsonl"), "data/faces/grid/r.jsonl"],
    [path.join(root, "..", "shared", "facescrub", "list.txt"), "../shared/facescrub/list.txt"],
    [root, "."],
    ["https://example.org/a/b.txt", "https://example.org/a/b.txt"],
    ["data/weights/alexnet", "data/weights/alexnet"],
  ];
  for (const [input, shown] of cases) assert.equal(displayPath(input), shown);
});
