/**
 * Where an image's bytes come from: the internet (the list's own URLs), a mirror
 * directory (manifest.tsv maps URL -> file), or an HTTP server serving such a directory.
 * All three answer the same way, so everything after the bytes arrive is one code path.
 * A URL the mirror does not hold is dead, and is answered as a 404 like the real web.
 */
import * as fs from "fs";
import * as path from "path";
import { projectRoot } from "../runtime/paths";

/** Why bytes could not be had. `transient` errors are worth retrying; the rest are final. */
export class FetchError extends Error {
  constructor(
    readonly reason: "http-404" | "http-4xx" | "http-5xx" | "timeout" | "dead-host" | "network",
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

export interface Fetched {
  bytes: Uint8Array;
  /** The Content-Type the server sent, if any (a mirror directory sends none). */
  contentType?: string;
}

export interface FaceSource {
  /** Said once at the start of a run, so the output shows where images came from. */
  readonly description: string;
  /** Stable name used to decide whether a cached rejection applies to this source. */
  readonly key: string;
  fetch(url: string, timeoutMs: number): Promise<Fetched>;
}

const DEAD_HOST_CODES = new Set(["ENOTFOUND", "ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);

function errorCode(e: unknown): string | undefined {
  const cause = (e as { cause?: { code?: string } })?.cause;
  return cause?.code ?? (e as { code?: string })?.code;
}

/** A GET with a deadline on the whole response (headers and body), classified into FetchError. */
export async function httpGet(url: string, timeoutMs: number): Promise<Fetched> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetch(url, { signal: controller.signal, redirect: "follow" });
    if (res.status === 404 || res.status === 410) throw new FetchError("http-404", `HTTP ${res.status} for ${url}`, false);
    if (res.status === 429 || res.status >= 500) throw new FetchError("http-5xx", `HTTP ${res.status} for ${url}`, true);
    if (!res.ok) throw new FetchError("http-4xx", `HTTP ${res.status} for ${url}`, false);
    const bytes = new Uint8Array(await res.arrayBuffer());
    return { bytes, contentType: res.headers.get("content-type") ?? undefined };
  } catch (e) {
    if (e instanceof FetchError) throw e;
    if (controller.signal.aborted) throw new FetchError("timeout", `no complete response within ${timeoutMs} ms from ${url}`, true);
    const code = errorCode(e);
    // A refused connection or unknown host is how a dead site looks; retrying rarely helps, but
    // a flaky resolver does recover, so one of them (EAI_AGAIN) stays transient.
    if (code && DEAD_HOST_CODES.has(code)) throw new FetchError("dead-host", `${code} for ${url}`, code === "EAI_AGAIN");
    throw new FetchError("network", `${code ?? (e as Error).message} for ${url}`, true);
  } finally {
    clearTimeout(timer);
  }
}

export function internetSource(): FaceSource {
  return { description: "the internet (each list URL)", key: "internet", fetch: httpGet };
}

/** Reads `url<TAB>file` rows; the header row is optional. */
export function parseManifest(text: string, where: string): Map<string, string> {
  const map = new Map<string, string>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "" || (i === 0 && line.startsWith("url\t"))) return;
    const [url, file] = line.split("\t");
    if (!url || !file) throw new Error(`${where}:${i + 1}: expected "url<TAB>file", got ${JSON.stringify(line.slice(0, 100))}`);
    if (file.includes("/") || file.includes("\\") || file.startsWith(".")) throw new Error(`${where}:${i + 1}: file ${JSON.stringify(file)} must be a plain name inside the mirror`);
    map.set(url.trim(), file.trim());
  });
  return map;
}

export function mirrorDirSource(dir: string): FaceSource {
  const manifestFile = path.join(dir, "manifest.tsv");
  if (!fs.existsSync(manifestFile)) throw new Error(`FaceScrub mirror ${dir}: no manifest.tsv in it`);
  const manifest = parseManifest(fs.readFileSync(manifestFile, "utf8"), manifestFile);
  return {
    description: `mirror directory ${dir} (${manifest.size} URLs)`,
    key: `mirror:${path.resolve(dir)}`,
    async fetch(url) {
      const file = manifest.get(url);
      if (!file) throw new FetchError("http-404", `not in the mirror (dead URL): ${url}`, false);
      try {
        return { bytes: new Uint8Array(await fs.promises.readFile(path.join(dir, file))) };
      } catch (e) {
        throw new FetchError("http-404", `mirror file ${file} for ${url}: ${(e as Error).message}`, false);
      }
    },
  };
}

/** A server serving a mirror directory over HTTP: manifest.tsv once, then one GET per file. */
export async function mirrorHttpSource(baseUrl: string, timeoutMs = 30_000): Promise<FaceSource> {
  const base = baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`;
  let text: string;
  try {
    text = new TextDecoder().decode((await httpGet(new URL("manifest.tsv", base).href, timeoutMs)).bytes);
  } catch (e) {
    throw new Error(`FaceScrub mirror ${base}: manifest.tsv could not be fetched (${(e as Error).message})`, { cause: e });
  }
  const manifest = parseManifest(text, `${base}manifest.tsv`);
  return {
    description: `mirror server ${base} (${manifest.size} URLs)`,
    key: `mirror:${base}`,
    fetch(url, t) {
      const file = manifest.get(url);
      if (!file) return Promise.reject(new FetchError("http-404", `not in the mirror (dead URL): ${url}`, false));
      return httpGet(new URL(encodeURIComponent(file), base).href, t);
    },
  };
}

export interface SourceConfig {
  list: string;
  source: FaceSource;
}

/**
 * FACESCRUB_LIST (path or URL) and FACESCRUB_MIRROR (directory or http(s) URL). With neither,
 * the mirror at <projectRoot>/../shared/facescrub is used when present (this machine and CI);
 * otherwise the list must be given and the images come from the internet.
 */
export async function sourceFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<SourceConfig> {
  const sharedDir = path.resolve(projectRoot(), "..", "shared", "facescrub");
  const listEnv = env.FACESCRUB_LIST?.trim();
  const mirrorEnv = env.FACESCRUB_MIRROR?.trim();
  let list = listEnv;
  let mirror = mirrorEnv;
  if (!list && !mirror && fs.existsSync(path.join(sharedDir, "mirror", "manifest.tsv"))) {
    list = path.join(sharedDir, "facescrub_subset.txt");
    mirror = path.join(sharedDir, "mirror");
  }
  if (!list) {
    throw new Error(
      `No FaceScrub list: set FACESCRUB_LIST to the list's path or URL (and FACESCRUB_MIRROR to a mirror, if any); ` +
        `no default mirror at ${sharedDir}`,
    );
  }
  let source: FaceSource;
  if (!mirror) source = internetSource();
  else if (/^https?:\/\//i.test(mirror)) source = await mirrorHttpSource(mirror);
  else {
    // A mirror given as the facescrub folder (holding mirror/) is accepted too.
    const dir = fs.existsSync(path.join(mirror, "manifest.tsv")) ? mirror : path.join(mirror, "mirror");
    source = mirrorDirSource(fs.existsSync(path.join(dir, "manifest.tsv")) ? dir : mirror);
  }
  return { list, source };
}
