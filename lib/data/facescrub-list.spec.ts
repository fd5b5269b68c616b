import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { parseFaceList, readFaceList } from "./facescrub-list";

const SHA = "a".repeat(64);
const HEADER = "name\timage_id\tface_id\turl\tbbox\tsha256";

test("parses rows and keeps list line numbers", () => {
  const text = `${HEADER}\nAlec Baldwin\t1\t2\thttp://x/a.jpg\t1,2,30,40\t${SHA.toUpperCase()}\n\nAngie Harmon\t3\t4\thttps://y/b.png\t0,0,5,5\t${SHA}\n`;
  const { rows, problems } = parseFaceList(text, "list.txt");
  assert.deepEqual(problems, []);
  assert.deepEqual(rows, [
    { actor: "Alec Baldwin", imageId: "1", faceId: "2", url: "http://x/a.jpg", bbox: [1, 2, 30, 40], sha256: SHA, line: 2 },
    { actor: "Angie Harmon", imageId: "3", faceId: "4", url: "https://y/b.png", bbox: [0, 0, 5, 5], sha256: SHA, line: 4 },
  ]);
});

test("bad rows are skipped with a reason naming the line; good rows survive", () => {
  const cases: [string, RegExp][] = [
    [`A\t1\t2\thttp://x/a.jpg\t1,2,3\t${SHA}`, /list.txt:2: bbox "1,2,3" is not four integers/],
    [`A\t1\t2\thttp://x/a.jpg\t5,5,5,9\t${SHA}`, /list.txt:2: bbox 5,5,5,9 is empty/],
    [`A\t1\t2\thttp://x/a.jpg\t1,2,3,4\tnothex`, /list.txt:2: sha256 "nothex" is not 64 hex digits/],
    [`A\t1\t2\tftp://x/a.jpg\t1,2,3,4\t${SHA}`, /list.txt:2: url "ftp:\/\/x\/a.jpg" is not http/],
    [`A\t1\t2`, /list.txt:2: 3 fields, expected 6/],
  ];
  for (const [row, re] of cases) {
    const r = parseFaceList(`${HEADER}\n${row}\nB\t1\t2\thttp://x/b.jpg\t0,0,2,2\t${SHA}\n`, "list.txt");
    assert.equal(r.problems.length, 1, row);
    assert.match(r.problems[0], re);
    assert.deepEqual(r.rows.map((x) => x.actor), ["B"]);
  }
});

test("a header without the needed columns is fatal", () => {
  assert.throws(() => parseFaceList("name\turl\nA\thttp://x", "l.tsv"), /l.tsv: header has no "image_id" column/);
});

test("readFaceList reads a file and names a missing one", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "list-"));
  const file = path.join(dir, "l.txt");
  fs.writeFileSync(file, `${HEADER}\nA\t1\t2\thttp://x/a.jpg\t0,0,2,2\t${SHA}\n`);
  assert.equal((await readFaceList(file)).rows.length, 1);
  await assert.rejects(readFaceList(path.join(dir, "none.txt")), /none.txt: no such file/);
});

test("readFaceList over http(s): read through a redirect; a 404 and a redirect loop are named", async () => {
  const text = `${HEADER}\nA\t1\t2\thttp://x/a.jpg\t0,0,2,2\t${SHA}\n`;
  const server = http.createServer((req, res) => {
    if (req.url === "/list.txt") res.writeHead(200).end(text);
    else if (req.url === "/old.txt") res.writeHead(301, { location: "/list.txt" }).end();
    else if (req.url === "/loop.txt") res.writeHead(302, { location: "/loop.txt" }).end();
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  try {
    assert.equal((await readFaceList(`${base}/old.txt`)).rows.length, 1);
    await assert.rejects(readFaceList(`${base}/none.txt`), /FaceScrub list .*none\.txt: could not be fetched \(HTTP 404/);
    await assert.rejects(readFaceList(`${base}/loop.txt`), /loop\.txt: could not be fetched \(.*more than 5 redirects/);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
