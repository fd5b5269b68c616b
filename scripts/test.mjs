// `npm test`: type-checks, lints and format-checks everything, then runs every *.spec.ts beside lib modules and every
// test/*.test.ts (which include each notebook executed in the quick profile and one notebook
// through `jupyter nbconvert --execute`) in node's test runner.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;

function find(dir, pattern, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, pattern, out);
    else if (pattern.test(name)) out.push(relative(root, p));
  }
  return out;
}

function run(cmd, args, env = process.env) {
  console.log(`\n$ ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env });
  if (r.status !== 0) {
    console.error(`test: "${cmd} ${args.join(" ")}" failed (${r.error?.message ?? `exit ${r.status}`})`);
    process.exit(r.status || 1);
  }
}

const only = process.argv.slice(2);
run("npx", ["tsc", "-b", "lib", "tools"]);
run(process.execPath, ["scripts/build-wasm.mjs", "--required"]);
run("npx", ["tsc", "-p", "tsconfig.json"]);
run("npx", ["eslint", "."]);
run("npx", ["prettier", "--check", "--log-level", "warn", "."]);
const files = [
  ...find(join(root, "lib"), /\.spec\.ts$/),
  ...find(join(root, "tools"), /\.spec\.ts$/),
  ...find(join(root, "test"), /\.test\.ts$/),
]
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
console.log(`test: ${files.length} test files`);
run(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", ...files], {
  ...process.env,
  REPORT_PROFILE: "quick",
});
