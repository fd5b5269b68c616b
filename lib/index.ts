/** The shared library of the notebooks. Import a module by its path, e.g. "@csc411/lib/data/mnist". */
export * from "./runtime/random";
export * from "./runtime/profile";
export * from "./runtime/backend";
export * from "./runtime/display";
export * from "./runtime/notebook";
export * from "./runtime/paths";
