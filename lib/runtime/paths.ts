/** Where things live, and atomic file writes for caches under data/. */
import * as fs from "fs";
import * as path from "path";

/** The project root: the folder holding the top-level package.json with the lib workspace. */
export function projectRoot(): string {
  // lib/dist/runtime/paths.js or lib/runtime/paths.ts -> walk up to the folder with notebooks/ and lib/
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, "lib", "package.json")) && fs.existsSync(path.join(dir, "package.json")))
      return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`projectRoot: no project root above ${__dirname}`);
    dir = parent;
  }
}

/** A folder under data/ (ignored by git), created on demand. DATA_DIR overrides the root, e.g. for tests. */
export function dataDir(...parts: string[]): string {
  const root = process.env.DATA_DIR ? path.resolve(process.env.DATA_DIR) : path.join(projectRoot(), "data");
  const dir = path.join(root, ...parts);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Writes a file atomically: a temp file in the same folder, then rename. A run killed
 * halfway leaves at worst a stray *.tmp file, never a truncated file that a later run trusts.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.floor(performance.now() * 1000)}.tmp`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
