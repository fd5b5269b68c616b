/**
 * Rich output for notebooks. tslab's public `display` sends one MIME type per output;
 * a figure needs several in one output (interactive JSON, a static PNG, plain text), so
 * this goes through the hook tslab itself uses (`lastWriteDisplayData`). The headless
 * runner installs the same hook, and outside any notebook the text/plain part is printed.
 */

export type MimeBundle = Record<string, string | Buffer | Uint8Array | object>;

interface DisplayHook {
  lastWriteDisplayData:
    | ((
        msg: { data: Record<string, unknown>; metadata: Record<string, unknown>; transient: Record<string, unknown> },
        update: boolean,
      ) => void)
    | null;
}

function tslabHook(): DisplayHook | null {
  try {
    return require("tslab/dist/jupyter") as DisplayHook;
  } catch {
    return null;
  }
}

/** Base64 for binary parts, as the Jupyter protocol wants for image/*. */
function encode(value: MimeBundle[string]): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  return value;
}

function bundleData(bundle: MimeBundle): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [mime, value] of Object.entries(bundle)) data[mime] = encode(value);
  return data;
}

/** Shows one output carrying several representations; the front end picks the richest it can render. */
export function displayBundle(bundle: MimeBundle, metadata: Record<string, unknown> = {}): void {
  const data = bundleData(bundle);
  const hook = tslabHook();
  if (hook?.lastWriteDisplayData) {
    hook.lastWriteDisplayData({ data, metadata, transient: {} }, false);
    return;
  }
  const text = data["text/plain"];
  process.stdout.write(`${typeof text === "string" ? text : `[${Object.keys(data).join(", ")}]`}\n`);
}

/** True inside a notebook kernel (or the headless runner), where displays can be updated in place. */
export function inNotebook(): boolean {
  return !!tslabHook()?.lastWriteDisplayData;
}

let displayCount = 0;

/**
 * An output that later calls replace in place: Jupyter's display_id. The first `show` sends
 * display_data, later ones update_display_data with the same id, which JupyterLab (and the
 * headless runner, as nbclient does) apply to the output already shown. Only in a notebook.
 */
export function updatableDisplay(): { show(bundle: MimeBundle): void } {
  const hook = tslabHook();
  if (!hook?.lastWriteDisplayData) throw new Error("updatableDisplay: not running in a notebook kernel");
  const id = `csc411-${process.pid}-${++displayCount}-${Date.now().toString(36)}`;
  let shown = false;
  return {
    show(bundle) {
      // Read the hook each time: the kernel replaces it for every executed cell.
      tslabHook()?.lastWriteDisplayData?.(
        { data: bundleData(bundle), metadata: {}, transient: { display_id: id } },
        shown,
      );
      shown = true;
    },
  };
}

export function displayMarkdown(markdown: string): void {
  displayBundle({ "text/markdown": markdown, "text/plain": markdown });
}

export function displayPng(png: Uint8Array, alt: string, size?: { width: number; height: number }): void {
  displayBundle({ "image/png": png, "text/plain": alt }, size ? { "image/png": size } : {});
}
