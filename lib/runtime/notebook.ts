/**
 * What every notebook's first cell calls: initialise the TensorFlow.js backend and say
 * which backend and profile this run uses, so a reader of the output knows.
 */
import { initBackend, BackendInfo } from "./backend";
import { profile, Profile } from "./profile";

export interface NotebookContext {
  backend: BackendInfo;
  profile: Profile;
}

export async function startNotebook(title: string): Promise<NotebookContext> {
  const backend = await initBackend();
  const p = profile();
  console.log(`${title}\nprofile: ${p} | TensorFlow.js backend: ${backend.name} | node ${process.version}`);
  for (const note of backend.notes) console.log(`  (${note})`);
  return { backend, profile: p };
}
