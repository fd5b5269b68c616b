/**
 * Run profiles. `full` reproduces the report's settings (the default); `quick` runs each
 * notebook in a few minutes for tests and CI. Each notebook sets its profile in its
 * parameters cell (the cell tagged "parameters", papermill's convention), whose default is
 * the environment variable REPORT_PROFILE (set by the notebook runner, the Jupyter launcher
 * and CI) or "full"; `startNotebook(title, { profile })` hands it here, so editing that cell
 * and re-running switches the profile without restarting the kernel.
 */

export type Profile = "full" | "quick";

export const PROFILES: readonly Profile[] = ["full", "quick"];

export const PROFILE_ENV = "REPORT_PROFILE";

const allowed = PROFILES.map((p) => JSON.stringify(p)).join(" or ");

export function parseProfile(value: string | undefined, where = PROFILE_ENV): Profile {
  if (value === undefined || value === "") return "full";
  if ((PROFILES as readonly string[]).includes(value)) return value as Profile;
  throw new Error(`${where}=${JSON.stringify(value)} is not a profile: use ${allowed}`);
}

/** Set by the notebook's parameters cell (through startNotebook); null: not set, use REPORT_PROFILE. */
let chosen: Profile | null = null;

/** Where a notebook's profile comes from, named in the error for a wrong value. */
export const PARAMETERS_CELL = 'the parameters cell (tagged "parameters") sets profileName';

/** Makes `value` this process's profile; a wrong value is an error that names the parameters cell. */
export function setProfile(value: string, where = PARAMETERS_CELL): Profile {
  if (typeof value !== "string" || !(PROFILES as readonly string[]).includes(value)) {
    throw new Error(`${where} = ${JSON.stringify(value)}, which is not a profile: allowed values are ${allowed}`);
  }
  chosen = value as Profile;
  return chosen;
}

/** The profile this process runs in: the parameters cell's choice, else REPORT_PROFILE, else full. */
export function profile(): Profile {
  return chosen ?? parseProfile(process.env[PROFILE_ENV]);
}

/** Picks the setting for the current profile: `byProfile({ full: 10000, quick: 300 })`. */
export function byProfile<T>(settings: Record<Profile, T>, p: Profile = profile()): T {
  return settings[p];
}
