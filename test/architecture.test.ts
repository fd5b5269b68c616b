/**
 * The layout's rules, checked on every run (ARCHITECTURE.md explains them): imports run
 * downhill only, the library never reaches into the tooling, and notebooks and scripts
 * use only the library's public modules (its package.json "exports").
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";

const root = path.resolve(__dirname, "..");
const lib = path.join(root, "lib");

/** Which top-level lib folders each folder may import from (besides itself). */
const ALLOWED: Record<string, string[]> = {
  runtime: [],
  data: ["runtime"],
  models: ["runtime", "data"],
  plots: ["runtime"],
  experiments: ["runtime", "data", "models", "plots"],
};

function sources(dir: string, out: string[] = []): string[] {
  for (const name of fs.readdirSync(dir)) {
    if (name === "dist" || name === "node_modules") continue;
    const p = path.join(dir, name);
    if (fs.statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith(".ts") && !name.endsWith(".spec.ts")) out.push(p);
  }
  return out;
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|require\(\s*"([^"]+)"\s*\)|import\(\s*"([^"]+)"\s*\)/g;

function imports(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]);
}

/** [from, to] top-level folders of every relative import inside lib/, with the file and line. */
function libEdges(): { file: string; from: string; to: string; spec: string }[] {
  const edges = [];
  for (const file of sources(lib)) {
    const from = path.relative(lib, file).split(path.sep)[0];
    for (const spec of imports(file)) {
      if (!spec.startsWith(".")) continue;
      const target = path.relative(lib, path.resolve(path.dirname(file), spec));
      edges.push({ file: path.relative(root, file), from, to: target.split(path.sep)[0], spec });
    }
  }
  return edges;
}

test("every lib folder is one the rules know", () => {
  const folders = fs
    .readdirSync(lib)
    .filter((n) => n !== "dist" && n !== "node_modules" && fs.statSync(path.join(lib, n)).isDirectory());
  assert.deepEqual(folders.sort(), Object.keys(ALLOWED).sort());
});

test("imports inside lib run downhill only (data never imports models; models never import plots or experiments)", () => {
  const uphill = libEdges().filter((e) => e.from !== e.to && !ALLOWED[e.from]?.includes(e.to));
  assert.deepEqual(
    uphill.map((e) => `${e.file} imports ${e.spec}`),
    [],
  );
});

test("no library module imports the tooling or leaves lib/", () => {
  const out = libEdges().filter((e) => e.to === ".." || e.to.startsWith(".."));
  assert.deepEqual(
    out.map((e) => `${e.file} imports ${e.spec}`),
    [],
  );
  for (const file of sources(lib))
    for (const spec of imports(file)) assert.ok(!/(^|\/)tools(\/|$)/.test(spec), `${file} imports ${spec}`);
});

test("notebooks, tools and scripts import only the library's public modules", () => {
  const exported = new Set(
    Object.keys(JSON.parse(fs.readFileSync(path.join(lib, "package.json"), "utf8")).exports).map((k) =>
      k.replace(/^\.\//, "@csc411/lib/"),
    ),
  );
  const bad: string[] = [];
  const check = (where: string, text: string) => {
    for (const m of text.matchAll(/"(@csc411\/lib[^"\\]*)"/g)) if (!exported.has(m[1])) bad.push(`${where}: ${m[1]}`);
  };
  for (const name of fs.readdirSync(path.join(root, "notebooks")).filter((n) => n.endsWith(".ipynb"))) {
    const nb = JSON.parse(fs.readFileSync(path.join(root, "notebooks", name), "utf8"));
    for (const cell of nb.cells) if (cell.cell_type === "code") check(name, [].concat(cell.source).join(""));
  }
  for (const dir of ["tools", "scripts"])
    for (const name of fs.readdirSync(path.join(root, dir)).filter((n) => /\.(ts|mjs)$/.test(n))) {
      const text = fs.readFileSync(path.join(root, dir, name), "utf8");
      check(`${dir}/${name}`, text);
      for (const m of text.matchAll(/from "(\.\.\/lib\/[^"]*)"/g))
        bad.push(`${dir}/${name}: ${m[1]} (not a public module)`);
    }
  assert.deepEqual(bad, []);
});

test("the public modules named in exports exist once built, with their types", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(lib, "package.json"), "utf8"));
  for (const [name, target] of Object.entries<{ types: string; default: string } | string>(pkg.exports)) {
    if (typeof target === "string") continue;
    const src = path.join(lib, target.default.replace(/^\.\/dist\//, "").replace(/\.js$/, ".ts"));
    assert.ok(fs.existsSync(src), `${name}: no source ${path.relative(root, src)}`);
    assert.equal(pkg.typesVersions["*"][name.slice(2)]?.[0], target.types.slice(2), `${name}: typesVersions`);
  }
});
