/**
 * Run profiles. `full` reproduces the report's settings (the default); `quick` runs each
 * notebook in a few minutes for tests and CI. The one parameter is the environment
 * variable REPORT_PROFILE, which the notebook runner, the Jupyter launcher and CI set.
 */

export type Profile = "full" | "quick";

export const PROFILE_ENV = "REPORT_PROFILE";

export function parseProfile(value: string | undefined): Profile {
  if (value === undefined || value === "" || value === "full") return "full";
  if (value === "quick") return "quick";
  throw new Error(`${PROFILE_ENV}=${JSON.stringify(value)} is not a profile: use "full" or "quick"`);
}

/** The profile this process runs in. */
export function profile(): Profile {
  return parseProfile(process.env[PROFILE_ENV]);
}

/** Picks the setting for the current profile: `byProfile({ full: 10000, quick: 300 })`. */
export function byProfile<T>(settings: Record<Profile, T>, p: Profile = profile()): T {
  return settings[p];
}
