/**
 * `npm run lab` and `npm run jupyter` as a user starts them: the server listens on loopback
 * with a token and offers the project's TypeScript kernel; a SIGTERM to the npm process (what
 * a process manager, an IDE's stop button or `kill` sends) ends the server and its kernel,
 * leaving the port closed and no process behind.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import { alive, descendants, portOpen, startJupyter, venvJupyter } from "./jupyter-server";

const skip = fs.existsSync(venvJupyter) ? false : `${venvJupyter} is missing: run bash scripts/install.sh`;

for (const [script, page] of [
  ["lab", "lab"],
  ["jupyter", "tree"],
] as const) {
  test(
    `npm run ${script}: loopback, token, the tslab kernel; SIGTERM to npm ends server and kernel`,
    { skip, timeout: 180_000 },
    async () => {
      const server = await startJupyter(script);
      try {
        assert.match(server.log(), new RegExp(`http://127\\.0\\.0\\.1:${server.port}/${page}\\?token=`));
        assert.match(server.log(), /Serving notebooks from local directory: .*\/notebooks\n/);
        const unauthenticated = await fetch(`${server.base}/api/kernelspecs`);
        assert.equal(unauthenticated.status, 403, "the API answered without the token");
        const auth = { headers: { Authorization: `token ${server.token}` } };
        const specs = (await (await fetch(`${server.base}/api/kernelspecs`, auth)).json()) as any;
        assert.equal(specs.kernelspecs.tslab?.spec?.display_name, "TypeScript");
        assert.match(specs.kernelspecs.tslab.spec.argv[0], /\/scripts\/tslab-kernel$/);
        // File > Save and Export Notebook As lists these: LaTeX PDF, not those that cannot work here.
        const formats = Object.keys((await (await fetch(`${server.base}/api/nbconvert`, auth)).json()) as object);
        assert.ok(formats.includes("pdf"), `export formats: ${formats.join(", ")}`);
        for (const broken of ["webpdf", "qtpdf", "qtpng"])
          assert.ok(!formats.includes(broken), `export formats: ${formats.join(", ")}`);
        // A running kernel, so that the shutdown has one to take down.
        const started = await fetch(`${server.base}/api/kernels`, {
          method: "POST",
          headers: { ...auth.headers, "Content-Type": "application/json" },
          body: JSON.stringify({ name: "tslab" }),
        });
        assert.equal(started.status, 201, await started.text());
        let procs: number[] = [];
        for (let i = 0; i < 100 && !procs.some((p) => isTslab(p)); i++) {
          await new Promise((r) => setTimeout(r, 200));
          procs = descendants(server.npm.pid!);
        }
        assert.ok(
          procs.some((p) => isTslab(p)),
          `no tslab kernel process under npm (${procs.join(" ")})`,
        );

        const exited = new Promise<void>((r) => server.npm.once("exit", () => r()));
        process.kill(server.npm.pid!, "SIGTERM"); // the npm process only, not its group
        const deadline = Date.now() + 30_000;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 30_000)))]);
        clearTimeout(timer);
        assert.ok(
          server.npm.exitCode !== null || server.npm.signalCode !== null,
          "npm did not exit within 30 s of SIGTERM",
        );
        while (Date.now() < deadline && procs.some(alive)) await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual(procs.filter(alive), [], `processes left after SIGTERM to npm:\n${server.log().slice(-2000)}`);
        assert.equal(await portOpen(server.port), false, `port ${server.port} still open`);
      } finally {
        await server.kill();
      }
    },
  );
}

function isTslab(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("tslab");
  } catch {
    return false;
  }
}
