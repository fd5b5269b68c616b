/*
 * The fastest float arithmetic WebAssembly SIMD does on this machine (scripts/bench-floor.ts):
 * 12 independent chains of a = a * y + x, all in registers (14 of the 16 that wasm SIMD has
 * on x86-64), no memory traffic. Every iteration is 12 f32x4 multiplies and 12 adds, 96 flops.
 * WebAssembly has no fused multiply-add outside the relaxed-SIMD proposal (not enabled in Node
 * 20), so this is also the most the project's kernels and TensorFlow.js's XNNPACK can reach.
 */
#include <wasm_simd128.h>

float wasm_peak(int iterations, float seed) {
  v128_t a[12];
  const v128_t y = wasm_f32x4_splat(0.999999f), x = wasm_f32x4_splat(seed * 1e-6f);
  for (int i = 0; i < 12; i++) a[i] = wasm_f32x4_splat(seed * (float)i);
  for (int k = 0; k < iterations; k++)
    for (int i = 0; i < 12; i++) a[i] = wasm_f32x4_add(wasm_f32x4_mul(a[i], y), x);
  v128_t s = a[0];
  for (int i = 1; i < 12; i++) s = wasm_f32x4_add(s, a[i]);
  return wasm_f32x4_extract_lane(s, 0);
}
