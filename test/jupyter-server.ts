/**
 * Starting `npm run lab` / `npm run jupyter` from a test, the way a user does, on a free
 * loopback port, with Jupyter's runtime files and JupyterLab's settings and workspaces in a
 * fresh temporary folder (so a test neither reads nor writes the home directory, and every
 * run starts without remembered tabs). The token is read from the URL the server prints.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export const root = path.resolve(__dirname, "..");
export const venvJupyter = path.join(root, ".venv", "bin", "jupyter");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** True when something accepts a TCP connection on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** The pids of every live descendant of `pid` (children first found by `ps`). */
export function descendants(pid: number): number[] {
  const ps = spawnSync("ps", ["-e", "-o", "pid=,ppid="], { encoding: "utf8" }).stdout;
  const children = new Map<number, number[]>();
  for (const line of ps.trim().split("\n")) {
    const [p, pp] = line.trim().split(/\s+/).map(Number);
    children.set(pp, [...(children.get(pp) ?? []), p]);
  }
  const out: number[] = [];
  const visit = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      visit(c);
    }
  };
  visit(pid);
  return out;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface JupyterServer {
  /** The `npm run ...` process (its own process group). */
  npm: ChildProcess;
  port: number;
  /** http://127.0.0.1:port */
  base: string;
  token: string;
  /** The server's log so far (stdout and stderr). */
  log(): string;
  /** SIGTERM then SIGKILL to the whole process group and every descendant seen; idempotent. */
  kill(): Promise<void>;
}

/**
 * Runs `npm run <script> -- --port=<free> --no-browser [args]` and resolves once the server
 * printed its URL with the token and answers /api/status. `env` is added to the environment.
 */
export async function startJupyter(
  script: "lab" | "jupyter",
  opts: {
    args?: string[];
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    /** JupyterLab user settings by plugin, e.g. {"@jupyterlab/docmanager-extension/plugin": {autosave: false}}. */
    labSettings?: Record<string, object>;
  } = {},
): Promise<JupyterServer> {
  const port = await freePort();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `jupyter-${script}-`));
  for (const [plugin, settings] of Object.entries(opts.labSettings ?? {})) {
    const file = path.join(home, "lab-settings", `${plugin}.jupyterlab-settings`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(settings));
  }
  let output = "";
  const npm = spawn(
    "npm",
    ["run", script, "--", `--port=${port}`, "--port-retries=0", "--no-browser", ...(opts.args ?? [])],
    {
      cwd: root,
      detached: true, // own process group, so that cleanup can reach everything npm started
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        JUPYTER_RUNTIME_DIR: path.join(home, "runtime"),
        JUPYTERLAB_SETTINGS_DIR: path.join(home, "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR: path.join(home, "lab-workspaces"),
        ...opts.env,
      },
    },
  );
  npm.stdout!.on("data", (d) => (output += d));
  npm.stderr!.on("data", (d) => (output += d));
  const seen = new Set<number>();
  const remember = () => descendants(npm.pid!).forEach((p) => seen.add(p));
  const server: JupyterServer = {
    npm,
    port,
    base: `http://127.0.0.1:${port}`,
    token: "",
    log: () => output,
    async kill() {
      if (alive(npm.pid!)) remember();
      for (const signal of ["SIGTERM", "SIGKILL"] as const) {
        try {
          process.kill(-npm.pid!, signal);
        } catch {
          // the group is gone
        }
        for (const p of seen) if (alive(p)) process.kill(p, signal);
        await new Promise((r) => setTimeout(r, 500));
      }
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
  const end = Date.now() + (opts.timeoutMs ?? 90_000);
  try {
    while (Date.now() < end) {
      if (npm.exitCode !== null || npm.signalCode !== null)
        throw new Error(`npm run ${script} exited (${npm.exitCode ?? npm.signalCode}) before serving:\n${output}`);
      const m = output.match(new RegExp(`http://127\\.0\\.0\\.1:${port}/\\S*\\?token=([0-9a-f]+)`));
      if (m) {
        server.token = m[1];
        const res = await fetch(`${server.base}/api/status?token=${server.token}`).catch(() => null);
        if (res?.ok) {
          remember();
          return server;
        }
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(
      `npm run ${script} did not serve on port ${port} within ${(opts.timeoutMs ?? 90_000) / 1000} s:\n${output}`,
    );
  } catch (e) {
    await server.kill();
    throw e;
  }
}
