/** The softmax network of Parts 2-6: the model and its gradient, training (TensorFlow.js or the WebAssembly kernel), checks, and the cost slice of Part 6. */
export * from "./softmax";
export * from "./batches";
export * from "./gradient-check";
export * from "./gradient-descent";
export * from "./contour";
export * from "./test-problems";
export * from "./weights-cache";
export { SoftmaxKernel, kernelAvailable, kernelPath, MAX_CLASSES } from "./kernel/softmax-kernel";
