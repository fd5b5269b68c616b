/**
 * What every notebook's first cell calls: take the profile from the parameters cell,
 * initialise the TensorFlow.js backend and say which backend and profile this run uses,
 * so a reader of the output knows.
 */
import { initBackend, BackendInfo } from "./backend";
import { profile, Profile, setProfile } from "./profile";

export interface NotebookContext {
  backend: BackendInfo;
  profile: Profile;
}

export interface NotebookParameters {
  /** The parameters cell's `profileName`: "full" or "quick"; anything else is an error naming that cell. */
  profile?: string;
}

export async function startNotebook(title: string, parameters: NotebookParameters = {}): Promise<NotebookContext> {
  if (parameters.profile !== undefined) setProfile(parameters.profile);
  const backend = await initBackend();
  const p = profile();
  console.log(`${title}\nprofile: ${p} | TensorFlow.js backend: ${backend.name} | node ${process.version}`);
  for (const note of backend.notes) console.log(`  (${note})`);
  return { backend, profile: p };
}
