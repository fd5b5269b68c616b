/** What a notebook imports to run: its start-up, display helpers, profile, seeded random numbers, backend and paths. */
export * from "./backend";
export * from "./display";
export * from "./notebook";
export * from "./paths";
export * from "./profile";
export * from "./progress";
export * from "./random";
