/** The one-hidden-layer network of Parts 8-10 and its grid search. */
export * from "./mlp";
export * from "./grid-search";
