/** The fully connected network of Part 7: its forward pass, backpropagation, naive per-weight gradients and their operation counts. */
export * from "./fc-net";
export * from "./fc-net-tf";
export * from "./backprop";
export * from "./naive-gradient";
export * from "./op-count";
export * from "./backprop-cost";
