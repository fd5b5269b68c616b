/** Pretrained CNN backbones for Part 10 (AlexNet, MobileNetV2, a face-descriptor ResNet) and the cache of their activations. */
export * from "./backbone";
export * from "./alexnet";
export * from "./mobilenet";
export * from "./face-descriptor";
export * from "./activation-cache";
