/**
 * Where an image's bytes come from: the internet (the list's own URLs), a mirror
 * directory (manifest.tsv maps URL -> file), or an HTTP server serving such a directory.
 * All three answer the same way, so everything after the bytes arrive is one code path.
 * A URL the mirror does not hold is dead, and is answered as a 404 like the real web.
 */
import * as fs from "fs";
import * as path from "path";
import { displayPath, projectRoot } from "../runtime/paths";

export type FetchReason =
  | "http-404"
  | "http-4xx"
  | "too-large"
  | "redirect"
  | "http-5xx"
  | "timeout"
  | "dead-host"
  | "network"
  | "short-body"
  | "mirror-missing";

/**
 * Reasons that are a verdict on the URL itself (the server says it is gone, or serves too
 * much, or sends us in circles): the pipeline caches these as rejections. Every other reason
 * says only that this attempt did not get the bytes (a timeout, a body cut short against its
 * Content-Length, a mirror file missing or unreadable), so nothing about it is cached.
 */
export const FINAL_FETCH_REASONS: ReadonlySet<FetchReason> = new Set(["http-404", "http-4xx", "too-large", "redirect"]);

/** Why bytes could not be had. `transient` errors are worth retrying at once; `final` ones are cached verdicts. */
export class FetchError extends Error {
  constructor(
    readonly reason: FetchReason,
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
  }
  get final(): boolean {
    return FINAL_FETCH_REASONS.has(this.reason);
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
  fetch(url: string, timeoutMs: number, maxBytes?: number): Promise<Fetched>;
}

/** The largest body read (FaceScrub's largest originals are a few MB); a longer one is refused as it streams. */
export const MAX_BODY_BYTES = 50 * 1024 * 1024;
/** Redirects followed in one fetch, all hops together, under the one deadline. */
export const MAX_REDIRECTS = 5;
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);

const DEAD_HOST_CODES = new Set(["ENOTFOUND", "ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);

function errorCode(e: unknown): string | undefined {
  const cause = (e as { cause?: { code?: string } })?.cause;
  return cause?.code ?? (e as { code?: string })?.code;
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** The body, read as it streams and refused once it passes `maxBytes`; a body shorter than its Content-Length is an error. */
async function readBody(res: Response, url: string, maxBytes: number): Promise<Uint8Array> {
  const lengthHeader = res.headers.get("content-length");
  const encoded = !!res.headers.get("content-encoding") && res.headers.get("content-encoding") !== "identity";
  // With a compressed body the header counts compressed bytes, so only the decoded count is checked.
  const declared = lengthHeader !== null && !encoded ? Number(lengthHeader) : NaN;
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw new FetchError("too-large", `${url} declares ${mb(declared)}, more than the ${mb(maxBytes)} limit`, false);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (res.body) {
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.length;
        if (total > maxBytes) {
          await reader.cancel().catch(() => {});
          throw new FetchError("too-large", `${url} sent more than the ${mb(maxBytes)} limit; stopped reading`, false);
        }
        chunks.push(value);
      }
    } catch (e) {
      if (e instanceof FetchError) throw e;
      if (Number.isFinite(declared) && total < declared) throw shortBody(url, total, declared);
      throw e;
    }
  }
  if (Number.isFinite(declared) && total < declared) throw shortBody(url, total, declared);
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}

function shortBody(url: string, got: number, declared: number): FetchError {
  return new FetchError("short-body", `${url} ended after ${got} of its ${declared} bytes (Content-Length)`, true);
}

/**
 * A GET with one deadline on the whole response (every redirect hop, headers and body),
 * a size limit enforced while the body streams, and redirects followed by hand: only to
 * http(s), at most MAX_REDIRECTS for the whole fetch. Failures are classified into FetchError.
 */
export async function httpGet(url: string, timeoutMs: number, maxBytes = MAX_BODY_BYTES): Promise<Fetched> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let current = url;
  try {
    for (let hops = 0; ; hops++) {
      const res = await fetch(current, { signal: controller.signal, redirect: "manual" });
      if (REDIRECT_STATUS.has(res.status)) {
        await res.body?.cancel().catch(() => {});
        const location = res.headers.get("location");
        let next: URL;
        try {
          next = new URL(location ?? "", current);
        } catch {
          throw new FetchError("redirect", `HTTP ${res.status} from ${current} with no usable Location (${JSON.stringify(location)})`, false);
        }
        if (!location) throw new FetchError("redirect", `HTTP ${res.status} from ${current} without a Location`, false);
        if (next.protocol !== "http:" && next.protocol !== "https:")
          throw new FetchError("redirect", `${current} redirects to ${next.href}; only http(s) redirects are followed`, false);
        if (hops >= MAX_REDIRECTS)
          throw new FetchError("redirect", `${url}: more than ${MAX_REDIRECTS} redirects (the last to ${next.href})`, false);
        current = next.href;
        continue;
      }
      if (res.status === 404 || res.status === 410) throw new FetchError("http-404", `HTTP ${res.status} for ${current}`, false);
      if (res.status === 429 || res.status >= 500) throw new FetchError("http-5xx", `HTTP ${res.status} for ${current}`, true);
      if (!res.ok) throw new FetchError("http-4xx", `HTTP ${res.status} for ${current}`, false);
      const bytes = await readBody(res, current, maxBytes);
      return { bytes, contentType: res.headers.get("content-type") ?? undefined };
    }
  } catch (e) {
    if (controller.signal.aborted) throw new FetchError("timeout", `no complete response within ${timeoutMs} ms from ${url}`, true);
    if (e instanceof FetchError) throw e;
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
    // Checked after trimming: the name checked is the name used.
    const [url, file] = line.split("\t").map((f) => f.trim());
    if (!url || !file) throw new Error(`${where}:${i + 1}: expected "url<TAB>file", got ${JSON.stringify(line.slice(0, 100))}`);
    if (file.includes("/") || file.includes("\\") || file.startsWith(".") || file.includes("\0")) throw new Error(`${where}:${i + 1}: file ${JSON.stringify(file)} must be a plain name inside the mirror`);
    map.set(url, file);
  });
  return map;
}

export function mirrorDirSource(dir: string): FaceSource {
  const manifestFile = path.join(dir, "manifest.tsv");
  if (!fs.existsSync(manifestFile)) throw new Error(`FaceScrub mirror ${dir}: no manifest.tsv in it`);
  const manifest = parseManifest(fs.readFileSync(manifestFile, "utf8"), manifestFile);
  return {
    description: `mirror directory ${displayPath(dir)} (${manifest.size} URLs)`,
    key: `mirror:${path.resolve(dir)}`,
    async fetch(url, _timeoutMs, maxBytes = MAX_BODY_BYTES) {
      const file = manifest.get(url);
      if (!file) throw new FetchError("http-404", `not in the mirror (dead URL): ${url}`, false);
      const full = path.join(dir, file);
      // The manifest says the mirror holds this URL, so a missing or unreadable file is the
      // mirror's problem, not a verdict on the image: a failure, tried again next run.
      let size: number;
      try {
        size = (await fs.promises.stat(full)).size;
      } catch (e) {
        throw new FetchError("mirror-missing", `mirror file ${full} for ${url}: ${(e as Error).message}`, false);
      }
      if (size > maxBytes)
        throw new FetchError("too-large", `mirror file ${full} has ${mb(size)}, more than the ${mb(maxBytes)} limit`, false);
      try {
        return { bytes: new Uint8Array(await fs.promises.readFile(full)) };
      } catch (e) {
        throw new FetchError("mirror-missing", `mirror file ${full} for ${url}: ${(e as Error).message}`, false);
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
    fetch(url, t, maxBytes) {
      const file = manifest.get(url);
      if (!file) return Promise.reject(new FetchError("http-404", `not in the mirror (dead URL): ${url}`, false));
      return httpGet(new URL(encodeURIComponent(file), base).href, t, maxBytes);
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
