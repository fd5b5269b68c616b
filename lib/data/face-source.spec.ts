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
});

test("a mirror directory serves its files and answers unknown URLs as 404 (dead)", async () => {
  const src = mirrorDirSource(mirrorDir());
  assert.deepEqual(Array.from((await src.fetch("http://a/x.jpg", 1000)).bytes), [1, 2, 3]);
  for (const url of ["http://a/unknown.jpg", "http://a/gone.jpg"]) {
    await assert.rejects(src.fetch(url, 1000), (e: unknown) => e instanceof FetchError && e.reason === "http-404" && !e.transient);
  }
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
