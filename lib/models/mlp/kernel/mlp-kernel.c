/*
 * The Part 8 network's training step (linear -> ReLU or LeakyReLU -> linear -> softmax
 * cross-entropy, Adam) as one WebAssembly SIMD kernel. Built by scripts/build-wasm.mjs
 * (clang --target=wasm32 -msimd128, no libc), driven by mlp-kernel.ts.
 *
 * Why a kernel of our own: TensorFlow.js runs a step as some thirty tensor operations, each
 * a pass over memory, and its wasm matmul is far from the machine's speed on these shapes
 * (a few hundred rows, 1024 or 4096 inputs, 10 to 50 hidden units). Here a step is three
 * passes: the first layer's product (mlp_forward), a small per-row part (mlp_head: second
 * layer, softmax, loss, the gradients of the second layer and of the first layer's outputs)
 * and the first layer's gradient, formed a block of weights at a time and applied by Adam
 * while that block is still in registers (mlp_backward_adam), so the gradient of W1 is
 * never stored.
 *
 * Several networks ("variants") of the same input size and hidden size that see the same
 * batches train together as one wider network: variant v owns hidden columns
 * [v * hp, (v + 1) * hp) of every layer-1 array (hp = hidden rounded up to 4; the padding
 * columns have zero weights and stay zero), so a batch row is loaded once for all of them.
 * Each variant has its own activation slope and learning rate, per column.
 *
 * Layouts (floats, row-major): X rows of d inputs; W1, M1, V1: d x hw (hw = variants * hp);
 * Z1, dZ1: batch x hw; W2T, M2, V2, G2: k x hw (the second layer transposed, so its
 * products run along hidden columns); b2, mb2, vb2, gb2: variants x 8 (k <= 8 classes).
 *
 * Built on shared memory (the build-wasm line below), so that a second thread can run the same
 * module on the same arrays: mlp_forward over half of a batch's rows and mlp_backward_adam over
 * half of the inputs, each giving exactly what one thread computes (mlp-kernel.ts).
 *
 * Sums run in a different order from TensorFlow.js's (whose matmul blocks differently) and
 * exp is Cephes's, so results agree with mlp.ts's engine to float32 rounding, not bit for
 * bit; the activation and Adam are the same float32 operations in the same order.
 */
/* build-wasm: shared-memory */
#include <stdint.h>
#include <wasm_simd128.h>

#define INLINE static inline __attribute__((always_inline))
#define SPLAT wasm_f32x4_splat
#define ADD wasm_f32x4_add
#define SUB wasm_f32x4_sub
#define MUL wasm_f32x4_mul
#define DIV wasm_f32x4_div
#define LOAD wasm_v128_load
#define STORE wasm_v128_store
#define LOAD_SPLAT wasm_v128_load32_splat

#define MAX_CLASSES 8

/* e^x for x <= 0 (Cephes expf, relative error about 1e-7); below -87 it is about 1e-38, not 0. */
static float exp_neg(float x) {
  if (x < -87.0f) x = -87.0f;
  const float n = __builtin_nearbyintf(x * 1.44269504088896341f);
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  union {
    int32_t i;
    float f;
  } two_n = {.i = ((int32_t)n + 127) << 23};
  return p * two_n.f;
}

/* Natural log for x >= 1 (a softmax sum), Cephes logf (relative error about 1e-7). */
static float log_ge1(float x) {
  union {
    float f;
    int32_t i;
  } u = {.f = x};
  int e = ((u.i >> 23) & 0xff) - 126;
  u.i = (u.i & 0x007fffff) | 0x3f000000; /* mantissa in [0.5, 1) */
  float m = u.f;
  if (m < 0.707106781186547524f) {
    e -= 1;
    m = m + m - 1.0f;
  } else {
    m = m - 1.0f;
  }
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  y += -2.12194440e-4f * (float)e;
  y += -0.5f * z;
  return m + y + 0.693359375f * (float)e;
}

INLINE float sum4(v128_t a) {
  a = ADD(a, wasm_i32x4_shuffle(a, a, 2, 3, 0, 1));
  a = ADD(a, wasm_i32x4_shuffle(a, a, 1, 0, 3, 2));
  return wasm_f32x4_extract_lane(a, 0);
}

/*
 * Register blocks: FR batch rows x FQ vectors of hidden columns in the forward pass, BP
 * inputs x BQ vectors in the backward one. Wasm SIMD on x86-64 has 16 registers; a block
 * plus its operands must fit in them or the compiled code spills every iteration.
 */
#ifndef FR
#define FR 4
#endif
#ifndef FQ
#define FQ 2
#endif
#ifndef BP
#define BP 4
#endif
#ifndef BQ
#define BQ 2
#endif

/*
 * Inputs per pass of mlp_forward: 128 rows of W1 (at most 27 KB per variant of 50 hidden
 * units) stay in the L2 cache while every batch row uses them, instead of the whole W1 (up to
 * 3.4 MB for four such variants of 4096 inputs) streaming from L3 once per four rows.
 */
#ifndef FORWARD_CHUNK
#define FORWARD_CHUNK 128
#endif

/*
 * Adds sum_{p0 <= p < p1} X[rows[r]][p] W1[p][j0 .. j0 + 4Q) to Z1[r][j0 ..] (starting from 0
 * when p0 = 0, adding b1 when p1 = d), for R <= FR batch rows x[r]: R x Q sums in registers,
 * each weight vector loaded once for the R rows. Every sum adds its terms in input order
 * (a float stored and loaded back is the same float), so a column's result depends neither
 * on the chunks nor on which variants train beside it.
 */
INLINE void forward_block(const float *const *x, int R, int Q, int p0, int p1, int last, const float *W1, int hw,
                          int j0, const float *b1, float *const *z) {
  v128_t a[FR][FQ];
  for (int r = 0; r < R; r++)
    for (int q = 0; q < Q; q++) a[r][q] = p0 == 0 ? SPLAT(0.0f) : LOAD(z[r] + j0 + 4 * q);
  const float *w = W1 + p0 * hw + j0;
  for (int p = p0; p < p1; p++, w += hw) {
    v128_t wv[FQ];
    for (int q = 0; q < Q; q++) wv[q] = LOAD(w + 4 * q);
    for (int r = 0; r < R; r++) {
      const v128_t s = LOAD_SPLAT(x[r] + p);
      for (int q = 0; q < Q; q++) a[r][q] = ADD(a[r][q], MUL(s, wv[q]));
    }
  }
  for (int q = 0; q < Q; q++) {
    const v128_t b = LOAD(b1 + j0 + 4 * q);
    for (int r = 0; r < R; r++) STORE(z[r] + j0 + 4 * q, last ? ADD(a[r][q], b) : a[r][q]);
  }
}

INLINE void forward_rows(const float *const *x, int R, int p0, int p1, int last, const float *W1, int hw,
                         const float *b1, float *const *z) {
  int j0 = 0;
  for (; j0 + 4 * FQ <= hw; j0 += 4 * FQ) forward_block(x, R, FQ, p0, p1, last, W1, hw, j0, b1, z);
  for (; j0 < hw; j0 += 4) forward_block(x, R, 1, p0, p1, last, W1, hw, j0, b1, z);
}

/* The first layer's outputs before the activation, Z1 (n x hw), for rows X + rows[r] * d. */
void mlp_forward(int n, const int32_t *rows, const float *X, int d, const float *W1, const float *b1, int hw,
                 float *Z1) {
  for (int p0 = 0; p0 < d; p0 += FORWARD_CHUNK) {
    const int p1 = d - p0 < FORWARD_CHUNK ? d : p0 + FORWARD_CHUNK, last = p1 == d;
    for (int r0 = 0; r0 < n; r0 += FR) {
      const float *x[FR];
      float *z[FR];
      const int R = n - r0 < FR ? n - r0 : FR;
      for (int r = 0; r < R; r++) {
        x[r] = X + rows[r0 + r] * d;
        z[r] = Z1 + (r0 + r) * hw;
      }
      /* One specialisation per block height, so the block lives in registers. */
      switch (R) {
#if FR >= 4
        case 4: forward_rows(x, 4, p0, p1, last, W1, hw, b1, z); break;
#endif
        case 3: forward_rows(x, 3, p0, p1, last, W1, hw, b1, z); break;
        case 2: forward_rows(x, 2, p0, p1, last, W1, hw, b1, z); break;
        default: forward_rows(x, 1, p0, p1, last, W1, hw, b1, z); break;
      }
    }
  }
}

/* The activation, lane by lane: z where z > 0, else slope z (slope 0 is ReLU). */
INLINE v128_t activate(v128_t z, v128_t slope) {
  return wasm_v128_bitselect(z, MUL(z, slope), wasm_f32x4_gt(z, SPLAT(0.0f)));
}

/* Second-layer scores of one row for variant v: z2[c] = b2[v][c] + sum_j H[j] W2T[c][j]. */
INLINE void row_scores(const float *z1, const float *slope, const float *W2T, const float *b2, int hw, int v, int nq,
                       int k, float *z2) {
  v128_t acc[MAX_CLASSES];
  for (int c = 0; c < k; c++) acc[c] = SPLAT(0.0f);
  for (int q = v * nq; q < (v + 1) * nq; q++) {
    const v128_t h = activate(LOAD(z1 + 4 * q), LOAD(slope + 4 * q));
    for (int c = 0; c < k; c++) acc[c] = ADD(acc[c], MUL(h, LOAD(W2T + c * hw + 4 * q)));
  }
  for (int c = 0; c < k; c++) z2[c] = sum4(acc[c]) + b2[v * MAX_CLASSES + c];
}

/*
 * For a batch whose Z1 mlp_forward computed: per row and variant the softmax, the loss
 * (added to loss[v], summed over rows) and dZ2 = (softmax - onehot(y)) / n; from those the
 * gradients of the second layer (G2 = dW2 transposed, gb2) and of the first layer's
 * outputs, dZ1 (n x hw), and gb1 (their column sums). G2, gb2, gb1 are overwritten.
 * nq = hp / 4 vectors per variant.
 */
void mlp_head(int n, const uint8_t *labels, const float *Z1, const float *slope, const float *W2T, const float *b2,
              int variants, int nq, int k, float *dZ1, float *G2, float *gb2, float *gb1, float *loss) {
  const int hw = variants * nq * 4;
  __builtin_memset(G2, 0, (unsigned)(k * hw) * sizeof(float));
  __builtin_memset(gb2, 0, (unsigned)(variants * MAX_CLASSES) * sizeof(float));
  __builtin_memset(gb1, 0, (unsigned)hw * sizeof(float));
  for (int r = 0; r < n; r++) {
    const float *z1 = Z1 + r * hw;
    float *dz1 = dZ1 + r * hw;
    const int y = labels[r];
    for (int v = 0; v < variants; v++) {
      float z2[MAX_CLASSES], e[MAX_CLASSES], dz2[MAX_CLASSES];
      row_scores(z1, slope, W2T, b2, hw, v, nq, k, z2);
      float top = z2[0];
      for (int c = 1; c < k; c++) top = z2[c] > top ? z2[c] : top;
      float s = 0.0f;
      for (int c = 0; c < k; c++) s += (e[c] = exp_neg(z2[c] - top));
      loss[v] += log_ge1(s) + (top - z2[y]);
      for (int c = 0; c < k; c++) {
        dz2[c] = (e[c] / s - (c == y ? 1.0f : 0.0f)) / (float)n;
        gb2[v * MAX_CLASSES + c] += dz2[c];
      }
      for (int q = v * nq; q < (v + 1) * nq; q++) {
        const v128_t z = LOAD(z1 + 4 * q), sl = LOAD(slope + 4 * q);
        const v128_t h = activate(z, sl);
        v128_t dh = SPLAT(0.0f);
        for (int c = 0; c < k; c++) {
          const v128_t g = SPLAT(dz2[c]);
          float *g2 = G2 + c * hw + 4 * q;
          STORE(g2, ADD(LOAD(g2), MUL(h, g)));
          dh = ADD(dh, MUL(g, LOAD(W2T + c * hw + 4 * q)));
        }
        /* The activation's derivative: 1 where z > 0, else the slope. */
        const v128_t dz = wasm_v128_bitselect(dh, MUL(dh, sl), wasm_f32x4_gt(z, SPLAT(0.0f)));
        STORE(dz1 + 4 * q, dz);
        STORE(gb1 + 4 * q, ADD(LOAD(gb1 + 4 * q), dz));
      }
    }
  }
}

/* Adam's constants of one step (mlp.ts's form, which is torch.optim.Adam's). */
typedef struct {
  v128_t beta1, one_beta1, beta2, one_beta2, sqrt_c2, eps;
} AdamConsts;

/* One Adam update of four weights p from gradient g; rate = learning rate / (1 - beta1^t). */
INLINE void adam4(float *p, float *m, float *v, v128_t g, v128_t rate, const AdamConsts *a) {
  const v128_t mk = ADD(MUL(LOAD(m), a->beta1), MUL(g, a->one_beta1));
  const v128_t vk = ADD(MUL(LOAD(v), a->beta2), MUL(MUL(g, g), a->one_beta2));
  STORE(m, mk);
  STORE(v, vk);
  const v128_t denom = ADD(DIV(wasm_f32x4_sqrt(vk), a->sqrt_c2), a->eps);
  STORE(p, SUB(LOAD(p), MUL(DIV(mk, denom), rate)));
}

INLINE AdamConsts adam_consts(float beta1, float one_beta1, float beta2, float one_beta2, float sqrt_c2, float eps) {
  AdamConsts a = {SPLAT(beta1), SPLAT(one_beta1), SPLAT(beta2), SPLAT(one_beta2), SPLAT(sqrt_c2), SPLAT(eps)};
  return a;
}

/*
 * Adam over `rows` rows of `width` floats (a multiple of 4) with gradient G; the rate of
 * element j of a row is rate[j].
 */
void mlp_adam(int rows, int width, float *P, float *M, float *V, const float *G, const float *rate, float beta1,
              float one_beta1, float beta2, float one_beta2, float sqrt_c2, float eps) {
  const AdamConsts a = adam_consts(beta1, one_beta1, beta2, one_beta2, sqrt_c2, eps);
  for (int i = 0; i < rows; i++)
    for (int j = 0; j < width; j += 4) {
      const int o = i * width + j;
      adam4(P + o, M + o, V + o, LOAD(G + o), LOAD(rate + j), &a);
    }
}

/*
 * Inputs per tile of mlp_backward_adam: the batch's values of TILE inputs, transposed into a
 * panel (TILE x n4 floats, 25 KB for a batch of 100) that stays in the L1 cache while every
 * block of weights of those inputs reads it.
 */
#ifndef TILE
#define TILE 64
#endif

/* Floats of the scratch panel that mlp_backward_adam needs for batches of up to n rows. */
int mlp_panel_floats(int n) { return TILE * ((n + 3) & ~3); }

/*
 * The panel T[(p - p0) * n4 + r] = X[rows[r]][p] for inputs p0 .. p1 - 1 (n4 = n rounded up
 * to 4; the padding entries are not read), 4 x 4 blocks transposed in registers. Why: read
 * straight from X, the gradient's inner loop over the batch touches one row of X per step,
 * each on its own memory page (rows are d floats apart), and ran at 50-60% of the forward
 * product's speed; from the panel it reads four consecutive lines.
 */
static void gather_panel(int n, const int32_t *rows, const float *X, int d, int p0, int p1, float *T) {
  const int n4 = (n + 3) & ~3;
  for (int r0 = 0; r0 < n; r0 += 4) {
    const float *x[4];
    for (int k = 0; k < 4; k++) x[k] = X + rows[r0 + k < n ? r0 + k : n - 1] * d;
    float *t = T + r0;
    int p = p0;
    for (; p + 4 <= p1; p += 4, t += 4 * n4) {
      const v128_t a = LOAD(x[0] + p), b = LOAD(x[1] + p), c = LOAD(x[2] + p), e = LOAD(x[3] + p);
      const v128_t ab0 = wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), ab1 = wasm_i32x4_shuffle(a, b, 2, 6, 3, 7);
      const v128_t ce0 = wasm_i32x4_shuffle(c, e, 0, 4, 1, 5), ce1 = wasm_i32x4_shuffle(c, e, 2, 6, 3, 7);
      STORE(t, wasm_i64x2_shuffle(ab0, ce0, 0, 2));
      STORE(t + n4, wasm_i64x2_shuffle(ab0, ce0, 1, 3));
      STORE(t + 2 * n4, wasm_i64x2_shuffle(ab1, ce1, 0, 2));
      STORE(t + 3 * n4, wasm_i64x2_shuffle(ab1, ce1, 1, 3));
    }
    for (; p < p1; p++, t += n4)
      for (int k = 0; k < 4; k++) t[k] = x[k][p];
  }
}

/*
 * dW1[p][j0 .. j0 + 4Q) for inputs p .. p + P - 1 (P <= BP), whose batch values are the
 * panel rows t, t + n4, ...: the sum over the batch (in row order) of X[rows[r]][p] dZ1[r][j],
 * held in registers and applied by Adam at once.
 */
INLINE void backward_block(int n, const float *t, int n4, int p, int P, int Q, const float *dZ1, int hw, int j0,
                           float *W1, float *M1, float *V1, const float *rate, const AdamConsts *a) {
  v128_t g[BP][BQ];
  for (int i = 0; i < P; i++)
    for (int q = 0; q < Q; q++) g[i][q] = SPLAT(0.0f);
  const float *dz = dZ1 + j0;
  for (int r = 0; r < n; r++, dz += hw) {
    v128_t dv[BQ];
    for (int q = 0; q < Q; q++) dv[q] = LOAD(dz + 4 * q);
    for (int i = 0; i < P; i++) {
      const v128_t s = LOAD_SPLAT(t + i * n4 + r);
      for (int q = 0; q < Q; q++) g[i][q] = ADD(g[i][q], MUL(s, dv[q]));
    }
  }
  for (int i = 0; i < P; i++)
    for (int q = 0; q < Q; q++) {
      const int o = (p + i) * hw + j0 + 4 * q;
      adam4(W1 + o, M1 + o, V1 + o, g[i][q], LOAD(rate + j0 + 4 * q), a);
    }
}

INLINE void backward_inputs(int n, const float *t, int n4, int p, int P, const float *dZ1, int hw, float *W1,
                            float *M1, float *V1, const float *rate, const AdamConsts *a) {
  int j0 = 0;
  for (; j0 + 4 * BQ <= hw; j0 += 4 * BQ) backward_block(n, t, n4, p, P, BQ, dZ1, hw, j0, W1, M1, V1, rate, a);
  for (; j0 < hw; j0 += 4) backward_block(n, t, n4, p, P, 1, dZ1, hw, j0, W1, M1, V1, rate, a);
}

/*
 * The gradient of W1's rows p0 .. p1 - 1 (X^T dZ1 over the batch), applied by Adam block by
 * block; never stored. `panel` is scratch of TILE x n4 floats, one per thread. Each row's sums
 * depend on nothing outside it, so two threads can take two ranges of inputs and get what one
 * thread gets for the whole.
 */
void mlp_backward_adam(int n, const int32_t *rows, const float *X, int d, int p0, int p1, float *panel,
                       const float *dZ1, int hw, float *W1, float *M1, float *V1, const float *rate, float beta1,
                       float one_beta1, float beta2, float one_beta2, float sqrt_c2, float eps) {
  const AdamConsts a = adam_consts(beta1, one_beta1, beta2, one_beta2, sqrt_c2, eps);
  const int n4 = (n + 3) & ~3;
  for (int t0 = p0; t0 < p1; t0 += TILE) {
    const int t1 = p1 - t0 < TILE ? p1 : t0 + TILE;
    gather_panel(n, rows, X, d, t0, t1, panel);
    int p = t0;
    for (; p + BP <= t1; p += BP)
      backward_inputs(n, panel + (p - t0) * n4, n4, p, BP, dZ1, hw, W1, M1, V1, rate, &a);
    for (; p < t1; p++) backward_inputs(n, panel + (p - t0) * n4, n4, p, 1, dZ1, hw, W1, M1, V1, rate, &a);
  }
}

/*
 * Predicted classes (argmax of the scores, the first of equal ones) of n rows whose Z1
 * mlp_forward computed, for every variant: pred[r * variants + v].
 */
void mlp_predict(int n, const float *Z1, const float *slope, const float *W2T, const float *b2, int variants, int nq,
                 int k, int32_t *pred) {
  const int hw = variants * nq * 4;
  for (int r = 0; r < n; r++)
    for (int v = 0; v < variants; v++) {
      float z2[MAX_CLASSES];
      row_scores(Z1 + r * hw, slope, W2T, b2, hw, v, nq, k, z2);
      int best = 0;
      for (int c = 1; c < k; c++)
        if (z2[c] > z2[best]) best = c;
      pred[r * variants + v] = best;
    }
}

/* Sum of (x - x) over n floats (a multiple of 4): 0, or NaN when some x is NaN or infinite. */
float mlp_nonfinite(const float *x, int n) {
  v128_t bad = SPLAT(0.0f);
  for (int i = 0; i < n; i += 4) {
    const v128_t v = LOAD(x + i);
    bad = ADD(bad, SUB(v, v));
  }
  return sum4(bad);
}
