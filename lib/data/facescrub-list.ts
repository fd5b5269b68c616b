/**
 * The FaceScrub list: one row per face, tab separated, with the original header
 * `name image_id face_id url bbox sha256`. FaceScrub ships URLs, not images, so this
 * list is the data set's ground truth: who is in the picture, where the face is, and
 * the SHA-256 the downloaded bytes must have.
 */
import * as fs from "fs";
import { httpGet } from "./face-source";

export interface FaceRow {
  actor: string;
  imageId: string;
  faceId: string;
  url: string;
  /** x1, y1, x2, y2 in pixels of the original image (x2, y2 exclusive). */
  bbox: [number, number, number, number];
  /** Lower-case hex SHA-256 of the original file's bytes. */
  sha256: string;
  /** 1-based line in the list, for messages. */
  line: number;
}

export interface ParsedList {
  rows: FaceRow[];
  /** Rows that could not be read, each with where and why; the rest of the list is still usable. */
  problems: string[];
}

const COLUMNS = ["name", "image_id", "face_id", "url", "bbox", "sha256"] as const;

/** Parses the list text. A bad header is fatal (nothing else can be trusted); a bad row is reported and skipped. */
export function parseFaceList(text: string, source = "<list>"): ParsedList {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const header = lines[0]?.split("\t").map((h) => h.trim()) ?? [];
  const col: Record<string, number> = {};
  for (const name of COLUMNS) {
    const i = header.indexOf(name);
    if (i < 0) {
      throw new Error(`${source}: header has no "${name}" column (got ${JSON.stringify(lines[0]?.slice(0, 120) ?? "")}); expected tab-separated ${COLUMNS.join(", ")}`);
    }
    col[name] = i;
  }
  const rows: FaceRow[] = [];
  const problems: string[] = [];
  for (let n = 1; n < lines.length; n++) {
    const raw = lines[n];
    if (raw.trim() === "") continue;
    const f = raw.split("\t");
    const where = `${source}:${n + 1}`;
    if (f.length < header.length) {
      problems.push(`${where}: ${f.length} fields, expected ${header.length}`);
      continue;
    }
    const bboxText = f[col.bbox].trim();
    const bbox = bboxText.split(",").map((v) => Number(v));
    if (bbox.length !== 4 || bbox.some((v) => !Number.isInteger(v))) {
      problems.push(`${where}: bbox ${JSON.stringify(bboxText)} is not four integers x1,y1,x2,y2`);
      continue;
    }
    if (bbox[2] <= bbox[0] || bbox[3] <= bbox[1]) {
      problems.push(`${where}: bbox ${bboxText} is empty (x2 <= x1 or y2 <= y1)`);
      continue;
    }
    const sha256 = f[col.sha256].trim().toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(sha256)) {
      problems.push(`${where}: sha256 ${JSON.stringify(sha256)} is not 64 hex digits`);
      continue;
    }
    const url = f[col.url].trim();
    if (!/^https?:\/\//i.test(url)) {
      problems.push(`${where}: url ${JSON.stringify(url)} is not http(s)`);
      continue;
    }
    rows.push({
      actor: f[col.name].trim(),
      imageId: f[col.image_id].trim(),
      faceId: f[col.face_id].trim(),
      url,
      bbox: bbox as FaceRow["bbox"],
      sha256,
      line: n + 1,
    });
  }
  return { rows, problems };
}

/** Reads the list from a file path or an http(s) URL (fetched with the images' limits: size, redirects, deadline). */
export async function readFaceList(pathOrUrl: string, timeoutMs = 30_000): Promise<ParsedList> {
  if (/^https?:\/\//i.test(pathOrUrl)) {
    let bytes: Uint8Array;
    try {
      bytes = (await httpGet(pathOrUrl, timeoutMs)).bytes;
    } catch (e) {
      throw new Error(`FaceScrub list ${pathOrUrl}: could not be fetched (${(e as Error).message})`, { cause: e });
    }
    return parseFaceList(new TextDecoder().decode(bytes), pathOrUrl);
  }
  if (!fs.existsSync(pathOrUrl)) throw new Error(`FaceScrub list ${pathOrUrl}: no such file`);
  return parseFaceList(fs.readFileSync(pathOrUrl, "utf8"), pathOrUrl);
}
