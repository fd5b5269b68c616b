import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FetchError, mirrorDirSource, parseManifest, sourceFromEnv } from "./face-source";

function mirrorDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mirror-"));
  fs.writeFileSync(path.join(dir, "manifest.tsv"), "url\tfile\nhttp://a/x.jpg\timg-1.jpg\nhttp://a/gone.jpg\timg-missing.jpg\n");
  fs.writeFileSync(path.join(dir, "img-1.jpg"), Uint8Array.from([1, 2, 3]));
  return dir;
}

test("manifest rows map URL to file; malformed rows and paths are named", () => {
  assert.deepEqual([...parseManifest("url\tfile\nhttp://a\tb.jpg\n\n", "m")], [["http://a", "b.jpg"]]);
  assert.throws(() => parseManifest("http://a\n", "m.tsv"), /m.tsv:1: expected "url<TAB>file"/);
  assert.throws(() => parseManifest("http://a\t../etc/passwd\n", "m.tsv"), /m.tsv:1: file "..\/etc\/passwd" must be a plain name/);
  // Names are checked after trimming, so padding cannot smuggle a hidden file or ".." past the check.
  assert.deepEqual([...parseManifest(" http://a \t b.jpg \n", "m")], [["http://a", "b.jpg"]]);
  for (const bad of [" ..", " .hidden", " .. "])
    assert.throws(() => parseManifest(`http://a\t${bad}\n`, "m.tsv"), /m.tsv:1: file "\.[^"]*" must be a plain name/);
  assert.throws(() => parseManifest("http://a\t   \n", "m.tsv"), /m.tsv:1: expected "url<TAB>file"/);
});

test("a mirror directory serves its files, answers unknown URLs as 404 (final) and a missing file as retryable", async () => {
  const src = mirrorDirSource(mirrorDir());
  assert.deepEqual(Array.from((await src.fetch("http://a/x.jpg", 1000)).bytes), [1, 2, 3]);
  await assert.rejects(
    src.fetch("http://a/unknown.jpg", 1000),
    (e: unknown) => e instanceof FetchError && e.reason === "http-404" && e.final,
  );
  // The manifest lists it, so the mirror is incomplete: not a verdict on the URL.
  await assert.rejects(
    src.fetch("http://a/gone.jpg", 1000),
    (e: unknown) =>
      e instanceof FetchError && e.reason === "mirror-missing" && !e.final && /img-missing\.jpg/.test(e.message),
  );
  await assert.rejects(
    src.fetch("http://a/x.jpg", 1000, 2),
    (e: unknown) => e instanceof FetchError && e.reason === "too-large" && e.final,
  );
  assert.throws(() => mirrorDirSource(os.tmpdir() + "/no-such-mirror"), /no-such-mirror: no manifest.tsv in it/);
});

test("environment: FACESCRUB_LIST + FACESCRUB_MIRROR pick the source; a mirror without a list is an error", async () => {
  const dir = mirrorDir();
  const r = await sourceFromEnv({ FACESCRUB_LIST: "/x/list.txt", FACESCRUB_MIRROR: dir });
  assert.equal(r.list, "/x/list.txt");
  assert.match(r.source.description, /^mirror directory .* \(2 URLs\)$/);
  const internet = await sourceFromEnv({ FACESCRUB_LIST: "https://example.org/list.txt" });
  assert.equal(internet.source.key, "internet");
  await assert.rejects(sourceFromEnv({ FACESCRUB_MIRROR: dir }), /No FaceScrub list: set FACESCRUB_LIST/);
});
