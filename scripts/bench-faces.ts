/**
 * `npm run bench:faces`: (1) the face pipeline on the mirrored images, timed by stage, into a
 * fresh cache and then again on that cache; (2) one Part 8 configuration (the report's
 * choice) trained in tfjs and in PyTorch (Debian's python3-torch) on the same arrays in the
 * same run, with the ratio. BENCH_SKIP_PIPELINE=1 skips (1).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readFaceList } from "../lib/data/facescrub-list";
import { sourceFromEnv } from "../lib/data/face-source";
import { runFacePipeline, summarisePipeline } from "../lib/data/face-pipeline";
import { ACTORS, loadFaceSplits } from "@csc411/lib/data/faces";
import { gridData } from "@csc411/lib/experiments/faces";
import { trainMlp } from "@csc411/lib/models/mlp";
import { initBackend } from "@csc411/lib/runtime";

const CONFIG = {
  size: 64 as const,
  hidden: 20,
  batchSize: 100,
  epochs: 200,
  activation: "leaky_relu" as const,
  learningRate: 1e-3,
};

async function benchPipeline() {
  const { list, source } = await sourceFromEnv();
  const rows = (await readFaceList(list)).rows.filter((r) => ACTORS.includes(r.actor));
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-faces-"));
  console.log(
    `pipeline: ${rows.length} rows from ${source.description}, fresh cache ${cacheDir}, ${os.cpus().length} cores`,
  );
  try {
    for (const label of ["first run (empty cache)", "rerun (cached)"]) {
      const r = await runFacePipeline(rows, { source, cacheDir, decodeWorkers: 2 });
      console.log(`-- ${label}\n${summarisePipeline(r)}`);
    }
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

async function benchTraining() {
  const backend = await initBackend();
  const splits = await loadFaceSplits({ seed: 0 });
  const d = await gridData(splits, CONFIG.size);
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "bench-torch-"));
  try {
    fs.writeFileSync(path.join(folder, "meta.json"), JSON.stringify({ dim: d.train.dim }));
    fs.writeFileSync(
      path.join(folder, "train_x.f32"),
      Buffer.from(d.train.x.buffer, d.train.x.byteOffset, d.train.x.byteLength),
    );
    fs.writeFileSync(path.join(folder, "train_y.u8"), d.train.labels);
    fs.writeFileSync(
      path.join(folder, "val_x.f32"),
      Buffer.from(d.validation.x.buffer, d.validation.x.byteOffset, d.validation.x.byteLength),
    );
    fs.writeFileSync(path.join(folder, "val_y.u8"), d.validation.labels);
    const tfjs = trainMlp(d.train, d.validation, { ...CONFIG, seed: 0 });
    console.log(`training ${JSON.stringify(CONFIG)} on ${d.train.labels.length} images`);
    console.log(
      `tfjs (${backend.name}): ${tfjs.seconds.toFixed(2)} s, ${tfjs.steps} steps (${((1000 * tfjs.seconds) / tfjs.steps).toFixed(2)} ms/step), validation ${tfjs.validationAccuracy.toFixed(4)}`,
    );
    const script = path.join(__dirname, "bench_faces_torch.py");
    for (const threads of [1, os.cpus().length]) {
      let out: string;
      try {
        out = execFileSync(
          "/usr/bin/python3",
          [
            script,
            folder,
            String(CONFIG.hidden),
            String(CONFIG.batchSize),
            String(CONFIG.epochs),
            String(CONFIG.learningRate),
            CONFIG.activation,
            String(threads),
          ],
          { encoding: "utf8" },
        );
      } catch (e) {
        console.log(
          `torch reference unavailable (apt-get install -y python3-torch): ${(e as Error).message.split("\n")[0]}`,
        );
        return;
      }
      const t = JSON.parse(out.trim().split("\n").pop()!);
      console.log(
        `torch ${t.torch} (${threads} thread${threads > 1 ? "s" : ""}): ${t.seconds.toFixed(2)} s, ${t.steps} steps (${((1000 * t.seconds) / t.steps).toFixed(2)} ms/step), validation ${t.validation.toFixed(4)}; tfjs/torch time ratio ${(tfjs.seconds / t.seconds).toFixed(2)}`,
      );
    }
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

async function main() {
  if (!process.env.BENCH_SKIP_PIPELINE) await benchPipeline();
  await benchTraining();
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
