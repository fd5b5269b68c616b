/** Pretrained CNN backbones for Part 10 (AlexNet, MobileNetV2, InceptionV3, a face-descriptor ResNet) and the cache of their activations. */
export * from "./backbone";
export * from "./alexnet";
export * from "./nsfwjs";
export * from "./mobilenet";
export * from "./inception";
export * from "./face-descriptor";
export * from "./activation-cache";
export * from "./npy";
export * from "./multi-tap";
export * from "./recipe";
export * from "./parallel";
export * from "./batch-norm";
export * from "./pad";
export * from "./fold";
