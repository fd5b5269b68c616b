/*
 * The Part 4/5 training step of the softmax network as one WebAssembly SIMD kernel.
 * Built by scripts/build-wasm.mjs (clang --target=wasm32 -msimd128), driven by
 * softmax-kernel.ts.
 *
 * Why a kernel of our own: the step is two products of a 1000 x 784 minibatch with a
 * 784 x 10 matrix, and TensorFlow.js's wasm matmul is about 2.5 times slower than numpy on
 * them (scripts/bench-softmax.ts). Four in five MNIST pixels are exactly zero, so each row is
 * kept as its nonzero pixels only: their numbers (idx) and values (vals), side by side, built
 * once per training set. A row is then about 900 contiguous bytes instead of 3,136 scattered
 * ones, which matters because a minibatch's rows are drawn at random from 188 MB of images and
 * come from main memory. The forward pass, softmax and gradient of a row are done together
 * while the row is in cache. Skipping a zero pixel drops a term x_p * w that is exactly zero,
 * so the sums are the same sums, in a different order.
 *
 * Built on shared memory (the build-wasm line below), so that a second thread can run
 * softmax_rows on the other half of a minibatch in the same memory (softmax-kernel.ts).
 *
 * Layout: weights are pixel-major, Wt[p * kp + c] = W[c][p], with the k outputs padded to
 * kp = 4 * ceil(k / 4) lanes (padding lanes are zero and stay zero); k <= 16.
 */
/* build-wasm: shared-memory */
#include <stdint.h>
#include <wasm_simd128.h>

#define INLINE static inline __attribute__((always_inline))
#define SPLAT wasm_f32x4_splat
#define ADD wasm_f32x4_add
#define SUB wasm_f32x4_sub
#define MUL wasm_f32x4_mul
#define LOAD wasm_v128_load
#define STORE wasm_v128_store

/* e^x, four lanes, for x <= 0 (Cephes expf: relative error about 1e-7). Below -87 it returns
 * about 1e-38 rather than 0; softmax lanes that small do not change a sum of at least 1. */
INLINE v128_t exp4(v128_t x) {
  x = wasm_f32x4_max(x, SPLAT(-87.0f));
  const v128_t n = wasm_f32x4_nearest(MUL(x, SPLAT(1.44269504088896341f)));
  v128_t r = SUB(x, MUL(n, SPLAT(0.693359375f)));
  r = SUB(r, MUL(n, SPLAT(-2.12194440e-4f)));
  v128_t p = SPLAT(1.9875691500e-4f);
  p = ADD(MUL(p, r), SPLAT(1.3981999507e-3f));
  p = ADD(MUL(p, r), SPLAT(8.3334519073e-3f));
  p = ADD(MUL(p, r), SPLAT(4.1665795894e-2f));
  p = ADD(MUL(p, r), SPLAT(1.6666665459e-1f));
  p = ADD(MUL(p, r), SPLAT(5.0000001201e-1f));
  p = ADD(ADD(MUL(MUL(p, r), r), r), SPLAT(1.0f));
  const v128_t two_n = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  return MUL(p, two_n);
}

INLINE float max4(v128_t a) {
  a = wasm_f32x4_max(a, wasm_i32x4_shuffle(a, a, 2, 3, 0, 1));
  a = wasm_f32x4_max(a, wasm_i32x4_shuffle(a, a, 1, 0, 3, 2));
  return wasm_f32x4_extract_lane(a, 0);
}

INLINE float sum4(v128_t a) {
  a = ADD(a, wasm_i32x4_shuffle(a, a, 2, 3, 0, 1));
  a = ADD(a, wasm_i32x4_shuffle(a, a, 1, 0, 3, 2));
  return wasm_f32x4_extract_lane(a, 0);
}

/* Lanes 4q..4q+3 compared with a class number: all-ones where equal / below. */
INLINE v128_t lanes_eq(int q, int c) {
  return wasm_i32x4_eq(wasm_i32x4_add(wasm_i32x4_make(0, 1, 2, 3), wasm_i32x4_splat(4 * q)), wasm_i32x4_splat(c));
}
INLINE v128_t lanes_below(int q, int c) {
  return wasm_i32x4_lt(wasm_i32x4_add(wasm_i32x4_make(0, 1, 2, 3), wasm_i32x4_splat(4 * q)), wasm_i32x4_splat(c));
}

/*
 * One row with nonzero pixels ix[0..n) of values x[0..n) and label y, NV = kp / 4 vectors
 * of outputs:
 *   z = b + sum_t x[t] Wt[ix[t]]
 *   s = sum_c exp(z_c - max z);  d = exp(z - max z) / s - onehot(y)
 *   G[ix[t]] += x[t] d;  gb += d;  *row_s = s;  *row_m = max z - z_y
 * so the row's cost is log s + (max z - z_y).
 */
/* z = b + sum_t x[t] Wt[ix[t]], two accumulator sets because the adds are a latency chain. */
INLINE void row_logits(const float *x, const uint16_t *ix, int n, const float *Wt, const float *b, v128_t *z, int NV) {
  const int kp = 4 * NV;
  v128_t u[4];
  for (int q = 0; q < NV; q++) {
    z[q] = LOAD(b + 4 * q);
    u[q] = SPLAT(0.0f);
  }
  int t = 0;
  for (; t + 2 <= n; t += 2) {
    const int p0 = ix[t], p1 = ix[t + 1];
    const v128_t v0 = SPLAT(x[t]), v1 = SPLAT(x[t + 1]);
    for (int q = 0; q < NV; q++) {
      z[q] = ADD(z[q], MUL(v0, LOAD(Wt + p0 * kp + 4 * q)));
      u[q] = ADD(u[q], MUL(v1, LOAD(Wt + p1 * kp + 4 * q)));
    }
  }
  if (t < n) {
    const int p0 = ix[t];
    const v128_t v0 = SPLAT(x[t]);
    for (int q = 0; q < NV; q++) z[q] = ADD(z[q], MUL(v0, LOAD(Wt + p0 * kp + 4 * q)));
  }
  for (int q = 0; q < NV; q++) z[q] = ADD(z[q], u[q]);
}

INLINE void row_step(const float *x, const uint16_t *ix, int n, int y, const float *Wt, const float *b, float *G,
                     v128_t *gb, float *row_s, float *row_m, int k, int NV) {
  const int kp = 4 * NV;
  v128_t z[4];
  row_logits(x, ix, n, Wt, b, z, NV);
  v128_t top = SPLAT(-3.4e38f);
  for (int q = 0; q < NV; q++) {
    top = wasm_f32x4_max(top, wasm_v128_bitselect(z[q], SPLAT(-3.4e38f), lanes_below(q, k)));
  }
  const float m = max4(top);
  v128_t e[4], sum = SPLAT(0.0f), zy = SPLAT(0.0f);
  for (int q = 0; q < NV; q++) {
    e[q] = wasm_v128_and(exp4(SUB(z[q], SPLAT(m))), lanes_below(q, k));
    sum = ADD(sum, e[q]);
    zy = ADD(zy, wasm_v128_and(z[q], lanes_eq(q, y)));
  }
  const float s = sum4(sum);
  *row_s = s;
  *row_m = m - sum4(zy);
  const v128_t inv_s = SPLAT(1.0f / s);
  v128_t d[4];
  for (int q = 0; q < NV; q++) {
    d[q] = SUB(MUL(e[q], inv_s), wasm_v128_and(SPLAT(1.0f), lanes_eq(q, y)));
    gb[q] = ADD(gb[q], d[q]);
  }
  for (int t = 0; t < n; t++) {
    const int p = ix[t];
    float *g = G + p * kp;
    const v128_t v = SPLAT(x[t]);
    for (int q = 0; q < NV; q++) STORE(g + 4 * q, ADD(LOAD(g + 4 * q), MUL(v, d[q])));
  }
}

INLINE void rows_step(int rows, const int32_t *istart, const int32_t *ilen, const uint16_t *idx, const float *vals,
                      const uint8_t *label, const float *Wt, const float *b, float *G, float *gb, float *row_s,
                      float *row_m, int k, int NV) {
  v128_t gbv[4];
  for (int q = 0; q < NV; q++) gbv[q] = LOAD(gb + 4 * q);
  for (int r = 0; r < rows; r++)
    row_step(vals + istart[r], idx + istart[r], ilen[r], label[r], Wt, b, G, gbv, row_s + r, row_m + r, k, NV);
  for (int q = 0; q < NV; q++) STORE(gb + 4 * q, gbv[q]);
}

/*
 * Adds the gradient of `rows` rows to G (d x kp) and gb (kp). Row r has the nonzero pixels
 * idx[istart[r] .. istart[r] + ilen[r]), of values vals[istart[r] ..] (same positions), and
 * the label label[r] < k. Writes row_s[r] and row_m[r] (see row_step). The caller zeroes G
 * and gb per minibatch.
 */
void softmax_rows(int rows, const int32_t *istart, const int32_t *ilen, const uint16_t *idx, const float *vals,
                  const uint8_t *label, const float *Wt, const float *b, float *G, float *gb, float *row_s,
                  float *row_m, int k) {
  /* One specialisation per vector count, so z, u, e and d live in registers. */
  switch ((k + 3) / 4) {
    case 1: rows_step(rows, istart, ilen, idx, vals, label, Wt, b, G, gb, row_s, row_m, k, 1); break;
    case 2: rows_step(rows, istart, ilen, idx, vals, label, Wt, b, G, gb, row_s, row_m, k, 2); break;
    case 3: rows_step(rows, istart, ilen, idx, vals, label, Wt, b, G, gb, row_s, row_m, k, 3); break;
    case 4: rows_step(rows, istart, ilen, idx, vals, label, Wt, b, G, gb, row_s, row_m, k, 4); break;
  }
}

INLINE void rows_predict(int rows, const int32_t *istart, const int32_t *ilen, const uint16_t *idx, const float *vals,
                         const float *Wt, const float *b, int32_t *pred, int k, int NV) {
  for (int r = 0; r < rows; r++) {
    v128_t z[4];
    float lanes[16];
    row_logits(vals + istart[r], idx + istart[r], ilen[r], Wt, b, z, NV);
    for (int q = 0; q < NV; q++) STORE(lanes + 4 * q, z[q]);
    int best = 0;
    for (int c = 1; c < k; c++) if (lanes[c] > lanes[best]) best = c;
    pred[r] = best;
  }
}

/* The predicted class of each row, argmax of z (the first of equal ones, as tf.argMax). */
void softmax_predict(int rows, const int32_t *istart, const int32_t *ilen, const uint16_t *idx, const float *vals,
                     const float *Wt, const float *b, int32_t *pred, int k) {
  switch ((k + 3) / 4) {
    case 1: rows_predict(rows, istart, ilen, idx, vals, Wt, b, pred, k, 1); break;
    case 2: rows_predict(rows, istart, ilen, idx, vals, Wt, b, pred, k, 2); break;
    case 3: rows_predict(rows, istart, ilen, idx, vals, Wt, b, pred, k, 3); break;
    case 4: rows_predict(rows, istart, ilen, idx, vals, Wt, b, pred, k, 4); break;
  }
}

/*
 * The report's update, v = momentum v - rate g; w += v, over n floats (a multiple of 4).
 * out[0] = sum of v^2 (the squared norm of the step), out[1] = sum of (w - w), which is 0
 * unless some weight is NaN or infinite: a weight can overflow to infinity while the step
 * stays finite, and a pixel that is zero in a minibatch would hide it from the cost.
 */
void momentum_update(int n, float *w, float *v, const float *g, float rate, float momentum, float *out) {
  const v128_t mo = SPLAT(momentum), ra = SPLAT(rate);
  v128_t ss = SPLAT(0.0f), bad = SPLAT(0.0f);
  for (int i = 0; i < n; i += 4) {
    const v128_t vi = SUB(MUL(mo, LOAD(v + i)), MUL(ra, LOAD(g + i)));
    const v128_t wi = ADD(LOAD(w + i), vi);
    STORE(v + i, vi);
    STORE(w + i, wi);
    ss = ADD(ss, MUL(vi, vi));
    bad = ADD(bad, SUB(wi, wi));
  }
  out[0] = sum4(ss);
  out[1] = sum4(bad);
}

void zero_floats(float *p, int n) { __builtin_memset(p, 0, (unsigned)n * sizeof(float)); }

/* dst += src over n floats (a multiple of 4): the two half-minibatch gradients summed. */
void add_floats(float *dst, const float *src, int n) {
  for (int i = 0; i < n; i += 4) STORE(dst + i, ADD(LOAD(dst + i), LOAD(src + i)));
}
