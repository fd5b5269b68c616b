// Inference BatchNorm over channels-last activations, the same numbers as TensorFlow.js's wasm
// FusedBatchNorm kernel bit for bit, four channels at a time (batch-norm.ts installs it and
// says how that is checked).
//
// build-wasm: import-memory. The module runs on TensorFlow.js's own wasm memory (tensors are
// read and written where they are, no copies), so it must never touch memory of its own: no
// static data, no stack (everything below stays in locals; batch-norm.spec.ts checks that a
// call changes no byte outside the output).
//
// tfjs-backend-wasm 4.22's kernel (read from tfjs-backend-wasm-simd.wasm) computes, one
// element at a time,
//   factor[c] = (double) sqrtf(variance[c] + epsilon)                   (float add and sqrt)
//   out = (float) ((double) offset[c] + (double) ((x - mean[c]) * scale[c]) / factor[c])
// with the subtraction and product in float, the division and sum in double. Here the same
// operations run in the same precisions (factor and offset come in as doubles, prepared by
// the caller), so every operation rounds the same way and every output is the same float.

#include <wasm_simd128.h>

// x, out: pixels x channels floats; channels a multiple of 4. params: mean[C] and scale[C] as
// floats, then offset[C] and factor[C] as doubles (8-byte aligned).
void batch_norm(const float *x, float *out, int pixels, int channels, const float *params) {
  const float *mean = params;
  const float *scale = params + channels;
  const double *offset = (const double *)(params + 2 * channels);
  const double *factor = offset + channels;
  long size = (long)pixels * channels;
  for (long i = 0; i < size; i += channels) {
    for (int c = 0; c < channels; c += 4) {
      v128_t t = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x + i + c), wasm_v128_load(mean + c)),
                                wasm_v128_load(scale + c));
      v128_t lo = wasm_f64x2_promote_low_f32x4(t);
      v128_t hi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(t, t, 2, 3, 0, 1));
      lo = wasm_f64x2_add(wasm_v128_load(offset + c), wasm_f64x2_div(lo, wasm_v128_load(factor + c)));
      hi = wasm_f64x2_add(wasm_v128_load(offset + c + 2), wasm_f64x2_div(hi, wasm_v128_load(factor + c + 2)));
      wasm_v128_store(out + i + c, wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(lo),
                                                      wasm_f32x4_demote_f64x2_zero(hi), 0, 1, 4, 5));
    }
  }
}
