/** Figures (plotly JSON with a PNG beside it), tables, and the headless renderer behind them. */
export * from "./figures";
export * from "./heatmap";
export * from "./render";
export * from "./table";
