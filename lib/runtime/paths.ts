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

/**
 * A path as output shows it: relative to the project root, with "/" ("data/faces/grid/x.jsonl",
 * "../shared/facescrub/list.txt"), so notebooks and logs hold no machine's absolute paths.
 * URLs and relative paths pass through as they are.
 */
export function displayPath(file: string): string {
  // URLs, and relative paths, which already say the path as their caller means it.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file) || !path.isAbsolute(file)) return file;
  const rel = path.relative(projectRoot(), file);
  return rel === "" ? "." : rel.split(path.sep).join("/");
}

/** A folder under data/ (ignored by git), created on demand. DATA_DIR overrides the root, e.g. for tests. */
export function dataDir(...parts: string[]): string {
  const root = process.env.DATA_DIR ? path.resolve(process.env.DATA_DIR) : path.join(projectRoot(), "data");
  const dir = path.join(root, ...parts);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** A write that failed, naming the file and the reason (e.g. "no space left on device"); `code` is the errno name. */
export class FileWriteError extends Error {
  constructor(
    readonly file: string,
    readonly code: string | undefined,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`could not write ${file}: ${reason}`, options);
    this.name = "FileWriteError";
  }
}

const ERRNO_TEXT: Record<string, string> = {
  ENOSPC: "no space left on device (ENOSPC)",
  EDQUOT: "disk quota exceeded (EDQUOT)",
  EROFS: "read-only file system (EROFS)",
  EACCES: "permission denied (EACCES)",
};

function writeError(file: string, e: unknown, kept: string): FileWriteError {
  const code = (e as { code?: string })?.code;
  const why = (code && ERRNO_TEXT[code]) ?? String((e as Error)?.message ?? e);
  return new FileWriteError(file, code, `${why}; ${kept}`, { cause: e });
}

/**
 * Writes a file atomically: a temp file in the same folder, then rename. A run killed
 * halfway leaves at worst a stray *.tmp file, never a truncated file that a later run trusts;
 * a failed write (e.g. a full disk) removes the temp file and throws a FileWriteError naming `file`.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.${Math.floor(performance.now() * 1000)}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw writeError(file, e, fs.existsSync(file) ? "the previous file is unchanged" : "nothing was written");
  }
}

/**
 * Appends `text` to `file` whole or not at all: if the append fails (a full disk can write
 * part of it), the file is cut back to its previous length, so no torn line is left behind.
 */
export function appendFileWhole(file: string, text: string): void {
  let before = 0;
  try {
    before = fs.statSync(file).size;
  } catch {
    // a new file
  }
  try {
    fs.appendFileSync(file, text);
  } catch (e) {
    let kept = "the file is as it was before";
    try {
      if (before === 0) fs.rmSync(file, { force: true });
      else fs.truncateSync(file, before);
    } catch (e2) {
      kept = `and cutting it back to ${before} bytes failed too (${(e2 as Error).message})`;
    }
    throw writeError(file, e, kept);
  }
}
