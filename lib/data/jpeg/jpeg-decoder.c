/*
 * A JPEG decoder that gives exactly the RGBA bytes of jpeg-js 0.4.4, the pure-JavaScript
 * decoder jimp 1.6.1 uses, several times faster. Built by scripts/build-wasm.mjs (clang
 * --target=wasm32), driven by jpeg-wasm.ts, used by face-image.ts (notebooks 08-10 through
 * the FaceScrub pipeline).
 *
 * A port of jpeg-js 0.4.4's lib/decoder.js (Apache License 2.0, Copyright 2011
 * notmasteryet; itself from Mozilla's pdf.js), kept step for step where it decides a pixel:
 *   - the Huffman tables are built by the same tree algorithm (buildHuffmanTable) and walked
 *     the same way, with a 9-bit lookup in front of the walk;
 *   - decodeScan: the same MCU order, restart intervals (predictions and the end-of-band run
 *     reset, RSTn markers skipped without checking their number), the same search for the
 *     marker after the last MCU, the same overrun of a one-component scan's last interval
 *     (blocks beyond the component's padded rows skipped, as its tolerantDecoding does);
 *     baseline blocks and the four progressive kinds (DC first and refinement, AC first and
 *     refinement with its state machine, end-of-band runs kept across blocks), coefficients
 *     kept across scans as there;
 *   - quantizeAndInverse: the same integer IDCT (poppler's, Loeffler et al.), its constants,
 *     rounding, zero-AC shortcuts, the clamp to 0..255, and JavaScript's 32-bit wrap-around
 *     wherever the JavaScript stores into an Int32Array or shifts (so even absurd
 *     coefficients give the same bytes); four lanes at a time where no value can wrap;
 *   - getData / copyToImageData: nearest-sample upsampling with the same double-precision
 *     index x * (h / maxH), the same double-precision colour transforms and truncation when
 *     stored into a Uint8Array; 1 component (grey), 3 (always YCbCr, as jpeg-js with its
 *     default options), 4 (Adobe CMYK / YCCK);
 *   - the quantization tables bound when the image ends, the Huffman tables at each scan;
 *   - jpeg-js's memory accounting (maxMemoryUsageInMB 512, its default): an image it would
 *     refuse is refused here too.
 * Everything else is refused with a nonzero code, never guessed at, and the caller then
 * decodes with jimp itself, so odd files keep jimp's behaviour and error messages: frame kinds
 * other than SOF0/1/2, 2 components, precision other than 8, a scan that runs into a marker or
 * the end of the data (jpeg-js throws or reads zeros there), an invalid Huffman code or table,
 * fill bytes (FFFF), FF00 or an unknown marker between segments (jpeg-js's recovery paths),
 * more than one frame, a missing table, a progressive band past coefficient 63.
 *
 * No libc: a bump allocator over the module's own memory, grown as needed and reset for
 * each image.
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define INLINE static inline __attribute__((always_inline))

enum {
  OK = 0,
  E_STRUCTURE = 1,   /* a segment jpeg-js would reject or parse in a way not ported */
  E_PROGRESSIVE = 2, /* no longer returned: progressive frames are decoded */
  E_ENTROPY = 3,     /* a scan read into a marker or past the end, or an invalid code */
  E_MEMORY = 4,      /* over jpeg-js's 512 MB accounting limit */
  E_COMPONENTS = 5,  /* not 1, 3 or 4 (Adobe) components */
  E_GROW = 6,        /* this module's memory could not grow */
  E_HUFFMAN = 7,     /* a table buildHuffmanTable would refuse, or one too large to port */
};

/* ---------- memory ---------- */

extern unsigned char __heap_base;
static uintptr_t heap_top;

static void *alloc(uint32_t bytes) {
  uintptr_t p = (heap_top + 15) & ~(uintptr_t)15;
  uintptr_t end = p + bytes;
  if (end < p) return 0;
  uintptr_t have = __builtin_wasm_memory_size(0) * 65536u;
  if (end > have) {
    uintptr_t pages = (end - have + 65535) / 65536;
    if (__builtin_wasm_memory_grow(0, pages) == (uintptr_t)-1) return 0;
  }
  heap_top = end;
  return (void *)p;
}

static void *alloc_zero(uint32_t bytes) {
  uint8_t *p = alloc(bytes);
  if (p) __builtin_memset(p, 0, bytes);
  return p;
}

/* ---------- state ---------- */

static const uint8_t *data;
static int64_t length;
static uint8_t *output;
static uint32_t out_width, out_height;

static const int32_t zigzag[64] = {0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,
                                   12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6,  7,  14, 21, 28,
                                   35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
                                   58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

/* jpeg-js counts what it allocates and throws past maxMemoryUsageInMB (512 by default). */
static const double MAX_MEMORY = 512.0 * 1024 * 1024;
static double memory_used;
static int request_memory(double bytes) {
  memory_used += bytes;
  return memory_used > MAX_MEMORY ? E_MEMORY : OK;
}

/* A Huffman tree as buildHuffmanTable makes it: each node is a children array, whose entries
 * are undefined (0), a node (its number + 1) or a value (-(value + 1)). Entries past index 1
 * are kept (the algorithm can write them) but never reached by a bit. */
#define MAX_NODES 8192
#define LUT_BITS 9
typedef struct {
  int32_t ch[4];
} Node;
typedef struct {
  int defined;
  int32_t root;
  /* lut[9 bits ahead]: value | length << 8 | 1 << 16 for a code of at most 9 bits; a node
   * number << 1 (bit 17 set) to walk on from after 9 bits; 0 when the walk fails before. */
  int32_t lut[1 << LUT_BITS];
} Huffman;

static Node *nodes;
static int32_t node_count;
static Huffman *tables_dc, *tables_ac; /* 16 each */

typedef struct {
  int32_t id, h, v, qid;
  int32_t blocks_per_line, blocks_per_column;        /* the image's blocks */
  int32_t blocks_per_line_mcu, blocks_per_column_mcu; /* allocated, padded to whole MCUs */
  int32_t *coef;                                      /* blocks_per_column_mcu rows of blocks_per_line_mcu blocks of 64 */
  uint32_t pred;                                      /* JavaScript number, stored modulo 2^32 into Int32Array */
  Huffman *dc, *ac;
  uint8_t *lines; /* blocks_per_line * 8 wide, blocks_per_column * 8 high */
} Component;

static Component comps[4];
static int32_t ncomps;
static int32_t frame_progressive;
static int32_t frame_count, max_h, max_v, mcus_per_line, mcus_per_column, frame_width, frame_height;
static int32_t *qtables[16];
static int32_t reset_interval;
static int adobe_present, adobe_transform;

/* ---------- bits: jpeg-js's readBit, eight bytes at a time ---------- */

static uint64_t acc;    /* bits, the next one at bit nbits - 1 */
static int32_t nbits;   /* valid bits in acc, counting the fake ones */
static int32_t nfake;   /* zero bits fed past a marker or the end: consuming one is an error */
static int64_t pos;     /* next byte to load */
static int64_t ends[8]; /* where the JavaScript offset is after each of the last 8 loaded bytes */
static uint32_t loaded; /* bytes loaded since the last reset */
static int64_t bits_start;
static int entropy_error;

static void bits_reset(int64_t at) {
  acc = 0;
  nbits = 0;
  nfake = 0;
  pos = at;
  bits_start = at;
  loaded = 0;
}

INLINE void refill(void) {
  while (nbits <= 56) {
    uint32_t b = 0;
    if (nfake == 0 && pos < length) {
      b = data[pos];
      if (b == 0xFF) {
        /* jpeg-js throws "unexpected marker" on FF followed by anything but 00: feed zeros
         * from here on, an error if a bit of them is consumed. */
        if (pos + 1 < length && data[pos + 1] == 0) {
          pos += 2;
        } else {
          b = 0;
          nfake += 8;
        }
      } else {
        pos++;
      }
    } else {
      nfake += 8;
    }
    ends[loaded & 7] = pos;
    loaded++;
    acc = (acc << 8) | b;
    nbits += 8;
  }
}

INLINE void consume(int32_t n) {
  nbits -= n;
  if (nbits < nfake) entropy_error = 1;
}

INLINE uint32_t peek(int32_t n) { return (uint32_t)(acc >> (nbits - n)) & ((1u << n) - 1); }

/* n <= 16 bits */
INLINE int32_t receive(int32_t n) {
  if (nbits < 16) refill();
  int32_t v = (int32_t)peek(n);
  consume(n);
  return v;
}

INLINE int32_t receive_extend(int32_t n) {
  int32_t v = receive(n);
  if (v >= (1 << (n - 1))) return v;
  return v + (int32_t)(0xFFFFFFFFu << n) + 1;
}

/* The JavaScript offset after the last consumed bit: bytes wholly unconsumed are given back. */
static int64_t bits_offset(void) {
  uint32_t untouched = (uint32_t)nbits / 8;
  if (untouched >= loaded) return bits_start; /* no bit consumed */
  return ends[(loaded - 1 - untouched) & 7];
}

static inline __attribute__((always_inline)) int32_t decode_huffman(const Huffman *t) {
  if (nbits < 16) refill();
  int32_t e = t->lut[peek(LUT_BITS)];
  if (e & (1 << 16)) {
    consume((e >> 8) & 0xFF);
    return e & 0xFF;
  }
  if (!(e & (1 << 17))) {
    entropy_error = 1;
    return 0;
  }
  consume(LUT_BITS);
  int32_t node = (e & 0xFFFF) >> 1;
  for (int32_t depth = LUT_BITS; depth < 64; depth++) {
    if (nbits < 16) refill();
    int32_t c = nodes[node].ch[peek(1)];
    consume(1);
    if (c < 0) return -c - 1;
    if (c == 0) break;
    node = c - 1;
  }
  entropy_error = 1;
  return 0;
}

/* ---------- Huffman tables: buildHuffmanTable, step for step ---------- */

static int32_t new_node(void) {
  if (node_count >= MAX_NODES) return -1;
  Node *n = &nodes[node_count];
  n->ch[0] = n->ch[1] = n->ch[2] = n->ch[3] = 0;
  return node_count++;
}

static void fill_lut(Huffman *t, int32_t node, uint32_t code, int32_t depth) {
  for (int32_t bit = 0; bit < 2; bit++) {
    uint32_t c = (code << 1) | (uint32_t)bit;
    int32_t d = depth + 1;
    int32_t ch = nodes[node].ch[bit];
    uint32_t span = 1u << (LUT_BITS - d);
    if (ch < 0) {
      for (uint32_t k = 0; k < span; k++) t->lut[(c << (LUT_BITS - d)) | k] = (-ch - 1) | (d << 8) | (1 << 16);
    } else if (ch == 0) {
      for (uint32_t k = 0; k < span; k++) t->lut[(c << (LUT_BITS - d)) | k] = 0;
    } else if (d == LUT_BITS) {
      t->lut[c] = ((ch - 1) << 1) | (1 << 17);
    } else {
      fill_lut(t, ch - 1, c, d);
    }
  }
}

static int build_huffman(Huffman *t, const uint8_t *lengths, const uint8_t *values) {
  /* code: a stack of (node, index) */
  int32_t stack_node[32], stack_index[32];
  int32_t sp = 0;
  int32_t k = 0, len = 16;
  while (len > 0 && !lengths[len - 1]) len--;
  int32_t root = new_node();
  if (root < 0) return E_HUFFMAN;
  stack_node[sp] = root;
  stack_index[sp++] = 0;
  int32_t p = root, p_index = 0;
  for (int32_t i = 0; i < len; i++) {
    for (int32_t j = 0; j < lengths[i]; j++) {
      if (sp == 0) return E_HUFFMAN; /* code.pop() of nothing: a TypeError in jpeg-js */
      sp--;
      p = stack_node[sp];
      p_index = stack_index[sp];
      if (p_index > 3) return E_HUFFMAN;
      nodes[p].ch[p_index] = -(int32_t)values[k] - 1;
      while (p_index > 0) {
        if (sp == 0) return E_HUFFMAN; /* 'Could not recreate Huffman Table' */
        sp--;
        p = stack_node[sp];
        p_index = stack_index[sp];
      }
      p_index++;
      stack_node[sp] = p;
      stack_index[sp++] = p_index;
      while (sp <= i) {
        int32_t q = new_node();
        if (q < 0 || sp >= 32 || p_index > 3) return E_HUFFMAN;
        stack_node[sp] = q;
        stack_index[sp++] = 0;
        nodes[p].ch[p_index] = q + 1;
        p = q;
        p_index = 0;
      }
      k++;
    }
    if (i + 1 < len) {
      int32_t q = new_node();
      if (q < 0 || sp >= 32 || p_index > 3) return E_HUFFMAN;
      stack_node[sp] = q;
      stack_index[sp++] = 0;
      nodes[p].ch[p_index] = q + 1;
      p = q;
      p_index = 0;
    }
  }
  t->defined = 1;
  t->root = root;
  fill_lut(t, root, 0, 0);
  return OK;
}

/* ---------- scans ---------- */

static __attribute__((noinline)) void decode_baseline(Component *c, int32_t *zz) {
  int32_t t = decode_huffman(c->dc);
  int32_t diff = 0;
  if (t != 0) {
    if (t > 16) {
      entropy_error = 1;
      return;
    }
    diff = receive_extend(t);
  }
  c->pred += (uint32_t)diff;
  zz[0] = (int32_t)c->pred;
  int32_t k = 1;
  while (k < 64) {
    int32_t rs = decode_huffman(c->ac);
    if (entropy_error) return;
    int32_t s = rs & 15, r = rs >> 4;
    if (s == 0) {
      if (r < 15) break;
      k += 16;
      continue;
    }
    k += r;
    int32_t v = receive_extend(s);
    /* zz[dctZigZag[k]] with k > 63 writes a property named "undefined": no coefficient. */
    if (k < 64) zz[zigzag[k]] = v;
    k++;
  }
}


/* ---------- progressive: decodeDCFirst, decodeDCSuccessive, decodeACFirst, decodeACSuccessive ---------- */

enum { MODE_BASELINE, MODE_DC_FIRST, MODE_DC_SUCCESSIVE, MODE_AC_FIRST, MODE_AC_SUCCESSIVE };
static int32_t scan_mode, spectral_start, spectral_end, successive;
static int32_t eobrun, ac_state, ac_next_value; /* per scan, as in decodeScan */

static __attribute__((noinline)) void decode_dc_first(Component *c, int32_t *zz) {
  int32_t t = decode_huffman(c->dc);
  int32_t diff = 0;
  if (t != 0) {
    if (t > 16) {
      entropy_error = 1;
      return;
    }
    diff = (int32_t)((uint32_t)receive_extend(t) << successive);
  }
  c->pred += (uint32_t)diff;
  zz[0] = (int32_t)c->pred;
}

static __attribute__((noinline)) void decode_dc_successive(int32_t *zz) {
  zz[0] = (int32_t)((uint32_t)zz[0] | ((uint32_t)receive(1) << successive));
}

static __attribute__((noinline)) void decode_ac_first(Component *c, int32_t *zz) {
  if (eobrun > 0) {
    eobrun--;
    return;
  }
  int32_t k = spectral_start, e = spectral_end;
  while (k <= e) {
    int32_t rs = decode_huffman(c->ac);
    if (entropy_error) return;
    int32_t s = rs & 15, r = rs >> 4;
    if (s == 0) {
      if (r < 15) {
        eobrun = (r ? receive(r) : 0) + (1 << r) - 1;
        break;
      }
      k += 16;
      continue;
    }
    k += r;
    int32_t v = (int32_t)((uint32_t)receive_extend(s) << successive); /* v * (1 << successive), stored as int32 */
    if (k < 64) zz[zigzag[k]] = v;
    k++;
  }
}

static __attribute__((noinline)) void decode_ac_successive(Component *c, int32_t *zz) {
  int32_t k = spectral_start, e = spectral_end, r = 0; /* r starts at 0 for every block, as there */
  while (k <= e) {
    int32_t z = zigzag[k];
    int32_t direction = zz[z] < 0 ? -1 : 1;
    switch (ac_state) {
      case 0: {
        int32_t rs = decode_huffman(c->ac);
        if (entropy_error) return;
        int32_t s = rs & 15;
        r = rs >> 4;
        if (s == 0) {
          if (r < 15) {
            eobrun = (r ? receive(r) : 0) + (1 << r);
            ac_state = 4;
          } else {
            r = 16;
            ac_state = 1;
          }
        } else {
          if (s != 1) { /* "invalid ACn encoding" */
            entropy_error = 1;
            return;
          }
          ac_next_value = receive_extend(s);
          ac_state = r ? 2 : 3;
        }
        continue;
      }
      case 1:
      case 2:
        if (zz[z])
          zz[z] = (int32_t)((uint32_t)zz[z] + (uint32_t)((int32_t)(receive(1) << successive) * direction));
        else {
          r--;
          if (r == 0) ac_state = ac_state == 2 ? 3 : 0;
        }
        break;
      case 3:
        if (zz[z])
          zz[z] = (int32_t)((uint32_t)zz[z] + (uint32_t)((int32_t)(receive(1) << successive) * direction));
        else {
          zz[z] = (int32_t)((uint32_t)ac_next_value << successive);
          ac_state = 0;
        }
        break;
      case 4:
        if (zz[z]) zz[z] = (int32_t)((uint32_t)zz[z] + (uint32_t)((int32_t)(receive(1) << successive) * direction));
        break;
    }
    if (entropy_error) return;
    k++;
  }
  if (ac_state == 4) {
    eobrun--;
    if (eobrun == 0) ac_state = 0;
  }
}

INLINE void decode_block(Component *c, int32_t *zz) {
  switch (scan_mode) {
    case MODE_BASELINE: decode_baseline(c, zz); break;
    case MODE_DC_FIRST: decode_dc_first(c, zz); break;
    case MODE_DC_SUCCESSIVE: decode_dc_successive(zz); break;
    case MODE_AC_FIRST: decode_ac_first(c, zz); break;
    default: decode_ac_successive(c, zz); break;
  }
}

INLINE int32_t byte_at(int64_t i) { return i >= 0 && i < length ? data[i] : -1; }

/* decodeScan: returns the bytes the scan took, or -1 (entropy_error / structure). */
static int64_t decode_scan(int64_t offset, Component **sc, int32_t n) {
  int64_t start = offset;
  int32_t mcu = 0;
  int32_t expected =
      n == 1 ? sc[0]->blocks_per_line * sc[0]->blocks_per_column : mcus_per_line * mcus_per_column;
  int32_t interval = reset_interval ? reset_interval : expected;
  eobrun = 0;
  ac_state = 0;
  while (mcu < expected) {
    for (int32_t i = 0; i < n; i++) sc[i]->pred = 0;
    eobrun = 0;
    bits_reset(offset);
    if (n == 1) {
      Component *c = sc[0];
      for (int32_t m = 0; m < interval; m++, mcu++) {
        int32_t row = mcu / c->blocks_per_line, col = mcu % c->blocks_per_line;
        /* decodeBlock: a row past the allocated ones is skipped (tolerantDecoding) */
        if (row >= c->blocks_per_column_mcu) continue;
        decode_block(c, c->coef + ((int64_t)row * c->blocks_per_line_mcu + col) * 64);
        if (entropy_error) return -1;
      }
    } else {
      for (int32_t m = 0; m < interval; m++) {
        int32_t mcu_row = mcu / mcus_per_line, mcu_col = mcu % mcus_per_line;
        for (int32_t i = 0; i < n; i++) {
          Component *c = sc[i];
          for (int32_t j = 0; j < c->v; j++) {
            int32_t row = mcu_row * c->v + j;
            if (row >= c->blocks_per_column_mcu) continue;
            for (int32_t k = 0; k < c->h; k++) {
              int32_t col = mcu_col * c->h + k;
              decode_block(c, c->coef + ((int64_t)row * c->blocks_per_line_mcu + col) * 64);
              if (entropy_error) return -1;
            }
          }
        }
        mcu++;
        if (mcu == expected) break;
      }
    }
    offset = bits_offset();
    if (mcu == expected) {
      /* skip trailing bytes up to the next marker */
      do {
        if (byte_at(offset) == 0xFF && byte_at(offset + 1) != 0x00) break;
        offset += 1;
      } while (offset < length - 2);
    }
    int32_t hi = byte_at(offset), lo = byte_at(offset + 1);
    int32_t marker = ((hi < 0 ? 0 : hi) << 8) | (lo < 0 ? 0 : lo);
    if (marker < 0xFF00 || hi < 0 || lo < 0) return -1; /* "marker was not found" (or past the end: not ported) */
    if (marker >= 0xFFD0 && marker <= 0xFFD7)
      offset += 2;
    else
      break;
  }
  return offset - start;
}

/* ---------- IDCT: quantizeAndInverse with JavaScript's int32 semantics ---------- */

#define C1 4017
#define S1 799
#define C3 3406
#define S3 2276
#define C6 1567
#define S6 3784
#define SQRT2 5793
#define SQRT1D2 2896

/* ToInt32 of an exact integer then >> n: what `(expr) >> n` does in JavaScript. */
INLINE int32_t sr(int64_t x, int n) { return (int32_t)(uint32_t)(uint64_t)x >> n; }
INLINE int32_t wrap(int64_t x) { return (int32_t)(uint32_t)(uint64_t)x; }

static __attribute__((noinline)) void idct_block(const int32_t *zz, const int32_t *qt, uint8_t *out, int32_t stride) {
  int32_t p[64];
  for (int i = 0; i < 64; i++) p[i] = (int32_t)((uint32_t)zz[i] * (uint32_t)qt[i]);
  for (int i = 0; i < 8; i++) {
    int32_t *r = p + 8 * i;
    if ((r[1] | r[2] | r[3] | r[4] | r[5] | r[6] | r[7]) == 0) {
      int32_t t = sr((int64_t)SQRT2 * r[0] + 512, 10);
      for (int j = 0; j < 8; j++) r[j] = t;
      continue;
    }
    int32_t v0 = sr((int64_t)SQRT2 * r[0] + 128, 8);
    int32_t v1 = sr((int64_t)SQRT2 * r[4] + 128, 8);
    int32_t v2 = r[2];
    int32_t v3 = r[6];
    int32_t v4 = sr((int64_t)SQRT1D2 * ((int64_t)r[1] - r[7]) + 128, 8);
    int32_t v7 = sr((int64_t)SQRT1D2 * ((int64_t)r[1] + r[7]) + 128, 8);
    int32_t v5 = (int32_t)((uint32_t)r[3] << 4);
    int32_t v6 = (int32_t)((uint32_t)r[5] << 4);
    int32_t t;
    t = sr((int64_t)v0 - v1 + 1, 1);
    v0 = sr((int64_t)v0 + v1 + 1, 1);
    v1 = t;
    t = sr((int64_t)v2 * S6 + (int64_t)v3 * C6 + 128, 8);
    v2 = sr((int64_t)v2 * C6 - (int64_t)v3 * S6 + 128, 8);
    v3 = t;
    t = sr((int64_t)v4 - v6 + 1, 1);
    v4 = sr((int64_t)v4 + v6 + 1, 1);
    v6 = t;
    t = sr((int64_t)v7 + v5 + 1, 1);
    v5 = sr((int64_t)v7 - v5 + 1, 1);
    v7 = t;
    t = sr((int64_t)v0 - v3 + 1, 1);
    v0 = sr((int64_t)v0 + v3 + 1, 1);
    v3 = t;
    t = sr((int64_t)v1 - v2 + 1, 1);
    v1 = sr((int64_t)v1 + v2 + 1, 1);
    v2 = t;
    t = sr((int64_t)v4 * S3 + (int64_t)v7 * C3 + 2048, 12);
    v4 = sr((int64_t)v4 * C3 - (int64_t)v7 * S3 + 2048, 12);
    v7 = t;
    t = sr((int64_t)v5 * S1 + (int64_t)v6 * C1 + 2048, 12);
    v5 = sr((int64_t)v5 * C1 - (int64_t)v6 * S1 + 2048, 12);
    v6 = t;
    r[0] = wrap((int64_t)v0 + v7);
    r[7] = wrap((int64_t)v0 - v7);
    r[1] = wrap((int64_t)v1 + v6);
    r[6] = wrap((int64_t)v1 - v6);
    r[2] = wrap((int64_t)v2 + v5);
    r[5] = wrap((int64_t)v2 - v5);
    r[3] = wrap((int64_t)v3 + v4);
    r[4] = wrap((int64_t)v3 - v4);
  }
  for (int i = 0; i < 8; i++) {
    int32_t *c = p + i;
    if ((c[8] | c[16] | c[24] | c[32] | c[40] | c[48] | c[56]) == 0) {
      int32_t t = sr((int64_t)SQRT2 * c[0] + 8192, 14);
      for (int j = 0; j < 8; j++) c[8 * j] = t;
      continue;
    }
    int32_t v0 = sr((int64_t)SQRT2 * c[0] + 2048, 12);
    int32_t v1 = sr((int64_t)SQRT2 * c[32] + 2048, 12);
    int32_t v2 = c[16];
    int32_t v3 = c[48];
    int32_t v4 = sr((int64_t)SQRT1D2 * ((int64_t)c[8] - c[56]) + 2048, 12);
    int32_t v7 = sr((int64_t)SQRT1D2 * ((int64_t)c[8] + c[56]) + 2048, 12);
    int32_t v5 = c[24];
    int32_t v6 = c[40];
    int32_t t;
    t = sr((int64_t)v0 - v1 + 1, 1);
    v0 = sr((int64_t)v0 + v1 + 1, 1);
    v1 = t;
    t = sr((int64_t)v2 * S6 + (int64_t)v3 * C6 + 2048, 12);
    v2 = sr((int64_t)v2 * C6 - (int64_t)v3 * S6 + 2048, 12);
    v3 = t;
    t = sr((int64_t)v4 - v6 + 1, 1);
    v4 = sr((int64_t)v4 + v6 + 1, 1);
    v6 = t;
    t = sr((int64_t)v7 + v5 + 1, 1);
    v5 = sr((int64_t)v7 - v5 + 1, 1);
    v7 = t;
    t = sr((int64_t)v0 - v3 + 1, 1);
    v0 = sr((int64_t)v0 + v3 + 1, 1);
    v3 = t;
    t = sr((int64_t)v1 - v2 + 1, 1);
    v1 = sr((int64_t)v1 + v2 + 1, 1);
    v2 = t;
    t = sr((int64_t)v4 * S3 + (int64_t)v7 * C3 + 2048, 12);
    v4 = sr((int64_t)v4 * C3 - (int64_t)v7 * S3 + 2048, 12);
    v7 = t;
    t = sr((int64_t)v5 * S1 + (int64_t)v6 * C1 + 2048, 12);
    v5 = sr((int64_t)v5 * C1 - (int64_t)v6 * S1 + 2048, 12);
    v6 = t;
    c[0] = wrap((int64_t)v0 + v7);
    c[56] = wrap((int64_t)v0 - v7);
    c[8] = wrap((int64_t)v1 + v6);
    c[48] = wrap((int64_t)v1 - v6);
    c[16] = wrap((int64_t)v2 + v5);
    c[40] = wrap((int64_t)v2 - v5);
    c[24] = wrap((int64_t)v3 + v4);
    c[32] = wrap((int64_t)v3 - v4);
  }
  for (int y = 0; y < 8; y++)
    for (int x = 0; x < 8; x++) {
      int32_t s = 128 + sr((int64_t)p[8 * y + x] + 8, 4);
      out[y * stride + x] = (uint8_t)(s < 0 ? 0 : s > 255 ? 255 : s);
    }
}


/* The same IDCT four lanes at a time, for blocks whose dequantized coefficients are all within
 * +-2048: then no intermediate value leaves int32 (the largest, 5793 times a row-pass output,
 * stays under 2^31 / 3.7), so 32-bit lanes give exactly the 64-bit results above. Any other
 * block takes idct_block. */
#define SIMD_LIMIT 2048
typedef v128_t V;
INLINE V vk(int32_t c) { return wasm_i32x4_splat(c); }
INLINE V vmul(V a, int32_t c) { return wasm_i32x4_mul(a, vk(c)); }
#define VADD wasm_i32x4_add
#define VSUB wasm_i32x4_sub
#define VSHR wasm_i32x4_shr

INLINE void transpose4(V *a, V *b, V *c, V *d) {
  V t0 = wasm_i32x4_shuffle(*a, *b, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(*a, *b, 2, 6, 3, 7);
  V t2 = wasm_i32x4_shuffle(*c, *d, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(*c, *d, 2, 6, 3, 7);
  *a = wasm_i64x2_shuffle(t0, t2, 0, 2);
  *b = wasm_i64x2_shuffle(t0, t2, 1, 3);
  *c = wasm_i64x2_shuffle(t1, t3, 0, 2);
  *d = wasm_i64x2_shuffle(t1, t3, 1, 3);
}

/* One 1-D pass over x[0..7] (each lane its own row or column). row: the row pass's rounding
 * (first stage +128 >> 8, odd inputs << 4, zero-AC value (s*x0 + 512) >> 10); else the column
 * pass's (+2048 >> 12, (s*x0 + 8192) >> 14). */
INLINE void idct_pass(V *x, int row) {
  const int32_t r1 = row ? 128 : 2048, n1 = row ? 8 : 12;
  V zero_ac = wasm_i32x4_eq(
      wasm_v128_or(wasm_v128_or(wasm_v128_or(x[1], x[2]), wasm_v128_or(x[3], x[4])), wasm_v128_or(wasm_v128_or(x[5], x[6]), x[7])),
      vk(0));
  V dc = row ? VSHR(VADD(vmul(x[0], SQRT2), vk(512)), 10) : VSHR(VADD(vmul(x[0], SQRT2), vk(8192)), 14);
  V v0 = VSHR(VADD(vmul(x[0], SQRT2), vk(r1)), n1);
  V v1 = VSHR(VADD(vmul(x[4], SQRT2), vk(r1)), n1);
  V v2 = x[2], v3 = x[6];
  V v4 = VSHR(VADD(vmul(VSUB(x[1], x[7]), SQRT1D2), vk(r1)), n1);
  V v7 = VSHR(VADD(vmul(VADD(x[1], x[7]), SQRT1D2), vk(r1)), n1);
  V v5 = row ? wasm_i32x4_shl(x[3], 4) : x[3];
  V v6 = row ? wasm_i32x4_shl(x[5], 4) : x[5];
  V one = vk(1), t;
  t = VSHR(VADD(VSUB(v0, v1), one), 1);
  v0 = VSHR(VADD(VADD(v0, v1), one), 1);
  v1 = t;
  t = VSHR(VADD(VADD(vmul(v2, S6), vmul(v3, C6)), vk(r1)), n1);
  v2 = VSHR(VADD(VSUB(vmul(v2, C6), vmul(v3, S6)), vk(r1)), n1);
  v3 = t;
  t = VSHR(VADD(VSUB(v4, v6), one), 1);
  v4 = VSHR(VADD(VADD(v4, v6), one), 1);
  v6 = t;
  t = VSHR(VADD(VADD(v7, v5), one), 1);
  v5 = VSHR(VADD(VSUB(v7, v5), one), 1);
  v7 = t;
  t = VSHR(VADD(VSUB(v0, v3), one), 1);
  v0 = VSHR(VADD(VADD(v0, v3), one), 1);
  v3 = t;
  t = VSHR(VADD(VSUB(v1, v2), one), 1);
  v1 = VSHR(VADD(VADD(v1, v2), one), 1);
  v2 = t;
  t = VSHR(VADD(VADD(vmul(v4, S3), vmul(v7, C3)), vk(2048)), 12);
  v4 = VSHR(VADD(VSUB(vmul(v4, C3), vmul(v7, S3)), vk(2048)), 12);
  v7 = t;
  t = VSHR(VADD(VADD(vmul(v5, S1), vmul(v6, C1)), vk(2048)), 12);
  v5 = VSHR(VADD(VSUB(vmul(v5, C1), vmul(v6, S1)), vk(2048)), 12);
  v6 = t;
  x[0] = wasm_v128_bitselect(dc, VADD(v0, v7), zero_ac);
  x[7] = wasm_v128_bitselect(dc, VSUB(v0, v7), zero_ac);
  x[1] = wasm_v128_bitselect(dc, VADD(v1, v6), zero_ac);
  x[6] = wasm_v128_bitselect(dc, VSUB(v1, v6), zero_ac);
  x[2] = wasm_v128_bitselect(dc, VADD(v2, v5), zero_ac);
  x[5] = wasm_v128_bitselect(dc, VSUB(v2, v5), zero_ac);
  x[3] = wasm_v128_bitselect(dc, VADD(v3, v4), zero_ac);
  x[4] = wasm_v128_bitselect(dc, VSUB(v3, v4), zero_ac);
}

/* Returns 0 (nothing written) when a coefficient is beyond SIMD_LIMIT. */
static __attribute__((noinline)) int idct_block_simd(const int32_t *zz, const int32_t *qt, uint8_t *out, int32_t stride) {
  V a[8][2]; /* a[row][half]: the row's columns 4 * half .. + 3 */
  V big = vk(0);
  for (int j = 0; j < 8; j++)
    for (int h = 0; h < 2; h++) {
      V p = wasm_i32x4_mul(wasm_v128_load(zz + 8 * j + 4 * h), wasm_v128_load(qt + 8 * j + 4 * h));
      a[j][h] = p;
      big = wasm_u32x4_max(big, wasm_i32x4_abs(p));
    }
  if (wasm_v128_any_true(wasm_u32x4_gt(big, vk(SIMD_LIMIT)))) return 0;
  /* Only the DC term: rows 1-7 are zero, row 0 all (5793 p0 + 512) >> 10 by the rows' zero-AC
   * shortcut, then every column takes its own shortcut: one value for the whole block. */
  V ac = wasm_v128_and(a[0][0], wasm_i32x4_make(0, -1, -1, -1));
  ac = wasm_v128_or(ac, a[0][1]);
  for (int j = 1; j < 8; j++) ac = wasm_v128_or(ac, wasm_v128_or(a[j][0], a[j][1]));
  if (!wasm_v128_any_true(ac)) {
    int32_t t = ((SQRT2 * wasm_i32x4_extract_lane(a[0][0], 0) + 512) >> 10);
    t = (SQRT2 * t + 8192) >> 14;
    int32_t v = 128 + ((t + 8) >> 4);
    uint64_t b = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    b *= 0x0101010101010101ull;
    for (int j = 0; j < 8; j++) __builtin_memcpy(out + j * stride, &b, 8);
    return 1;
  }
  /* rows: lanes are rows 4g .. 4g + 3, x[k] their element k */
  V x[2][8];
  for (int g = 0; g < 2; g++)
    for (int h = 0; h < 2; h++) {
      V r0 = a[4 * g][h], r1 = a[4 * g + 1][h], r2 = a[4 * g + 2][h], r3 = a[4 * g + 3][h];
      transpose4(&r0, &r1, &r2, &r3);
      x[g][4 * h] = r0;
      x[g][4 * h + 1] = r1;
      x[g][4 * h + 2] = r2;
      x[g][4 * h + 3] = r3;
    }
  idct_pass(x[0], 1);
  idct_pass(x[1], 1);
  /* columns: lanes are columns 4h .. 4h + 3, c[h][j] row j */
  V c[2][8];
  for (int g = 0; g < 2; g++)
    for (int h = 0; h < 2; h++) {
      V r0 = x[g][4 * h], r1 = x[g][4 * h + 1], r2 = x[g][4 * h + 2], r3 = x[g][4 * h + 3];
      transpose4(&r0, &r1, &r2, &r3);
      c[h][4 * g] = r0;
      c[h][4 * g + 1] = r1;
      c[h][4 * g + 2] = r2;
      c[h][4 * g + 3] = r3;
    }
  idct_pass(c[0], 0);
  idct_pass(c[1], 0);
  for (int j = 0; j < 8; j += 2) {
    V s[4];
    for (int k = 0; k < 2; k++)
      for (int h = 0; h < 2; h++) s[2 * k + h] = VADD(VSHR(VADD(c[h][j + k], vk(8)), 4), vk(128));
    V w = wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(s[0], s[1]), wasm_i16x8_narrow_i32x4(s[2], s[3]));
    wasm_v128_store64_lane(out + j * stride, w, 0);
    wasm_v128_store64_lane(out + (j + 1) * stride, w, 1);
  }
  return 1;
}

/* Tests turn the SIMD IDCT off to check the scalar one on the same files. */
static int use_simd = 1;
void jpeg_use_simd(int32_t on) { use_simd = on; }

/* buildComponentData */
static int build_component(Component *c) {
  const int32_t *qt = qtables[c->qid & 15];
  if (c->qid > 15 || !qt) return E_STRUCTURE; /* qt undefined: a TypeError in jpeg-js */
  int32_t stride = c->blocks_per_line * 8;
  c->lines = alloc((uint32_t)stride * (uint32_t)c->blocks_per_column * 8);
  if (!c->lines) return E_GROW;
  for (int32_t row = 0; row < c->blocks_per_column; row++)
    for (int32_t col = 0; col < c->blocks_per_line; col++) {
      const int32_t *zz = c->coef + ((int64_t)row * c->blocks_per_line_mcu + col) * 64;
      uint8_t *out = c->lines + (int64_t)row * 8 * stride + col * 8;
      if (!use_simd || !idct_block_simd(zz, qt, out, stride)) idct_block(zz, qt, out, stride);
    }
  return OK;
}

/* ---------- colour: getData then copyToImageData ---------- */

INLINE double clamp8(double a) { return a < 0 ? 0 : a > 255 ? 255 : a; }

/* Where component c's sample for output column x (row y) is: 0 | (x * (h / maxH) * 1). */
static int index_tables(int32_t **xi, int32_t **yi) {
  for (int32_t i = 0; i < ncomps; i++) {
    Component *c = &comps[i];
    double sx = (double)c->h / (double)max_h, sy = (double)c->v / (double)max_v;
    xi[i] = alloc((uint32_t)out_width * 4);
    yi[i] = alloc((uint32_t)out_height * 4);
    if (!xi[i] || !yi[i]) return E_GROW;
    int32_t w = c->blocks_per_line * 8, h = c->blocks_per_column * 8;
    for (uint32_t x = 0; x < out_width; x++) {
      double v = (double)x * sx * 1.0;
      int32_t k = (int32_t)v;
      if (k >= w) return E_STRUCTURE; /* would read past the line: not ported */
      xi[i][x] = k;
    }
    for (uint32_t y = 0; y < out_height; y++) {
      double v = (double)y * sy * 1.0;
      int32_t k = (int32_t)v;
      if (k >= h) return E_STRUCTURE;
      yi[i][y] = k * w;
    }
  }
  return OK;
}

/* One output row each: V8 runs a wasm function first on its baseline compiler and uses the
 * optimized code from the next call on, so the hot loops are kept in functions called often. */
#define NOINLINE __attribute__((noinline))

static NOINLINE void row_grey(uint8_t *o, const uint8_t *a, const int32_t *x0) {
  for (uint32_t x = 0; x < out_width; x++, o += 4) {
    uint32_t g = a[x0[x]];
    *(uint32_t *)o = g | g << 8 | g << 16 | 0xFF000000u;
  }
}

/* The products of each term, computed once per value (the same doubles as per pixel), and R
 * and B, which depend on two bytes each, tabulated from the very same expressions. */
static double kr[256], kg1[256], kg2[256], kb[256];
static uint8_t tab_r[256 * 256], tab_b[256 * 256]; /* [Y * 256 + Cr], [Y * 256 + Cb] */
/* G depends on all three: [Cb << 16 | Cr << 8 | Y], 16 MB filled once per instance (about 40 ms).
 * Chroma changes slowly across an image, so neighbouring pixels read the same 256 bytes. */
static uint8_t tab_g[256 * 256 * 256];
static int tabs_ready;

/* G = Y - 0.3441363 * (Cb - 128) - 0.71413636 * (Cr - 128), evaluated left to right as there. */
static NOINLINE void fill_g(int cb) {
  for (int cr = 0; cr < 256; cr++)
    for (int y = 0; y < 256; y++) tab_g[cb << 16 | cr << 8 | y] = (uint8_t)clamp8((double)y - kg1[cb] - kg2[cr]);
}

static NOINLINE void row_ycbcr(uint8_t *o, const uint8_t *a, const uint8_t *b, const uint8_t *c, const int32_t *x0,
                               const int32_t *x1, const int32_t *x2) {
  for (uint32_t x = 0; x < out_width; x++, o += 4) {
    int32_t y = a[x0[x]], cb = b[x1[x]], cr = c[x2[x]];
    uint32_t R = tab_r[y << 8 | cr];
    uint32_t G = tab_g[cb << 16 | cr << 8 | y];
    uint32_t B = tab_b[y << 8 | cb];
    *(uint32_t *)o = R | G << 8 | B << 16 | 0xFF000000u;
  }
}

/* 4 components: only with an Adobe segment; its transform code picks YCCK or CMYK. */
static NOINLINE void row_cmyk(uint8_t *o, const uint8_t *const *l, int32_t *const *xi, int transform) {
  for (uint32_t x = 0; x < out_width; x++, o += 4) {
    double C, M, Ye, K;
    if (!transform) {
      C = l[0][xi[0][x]];
      M = l[1][xi[1][x]];
      Ye = l[2][xi[2][x]];
      K = l[3][xi[3][x]];
    } else {
      double Y = l[0][xi[0][x]], Cb = l[1][xi[1][x]], Cr = l[2][xi[2][x]];
      K = l[3][xi[3][x]];
      C = 255 - clamp8(Y + 1.402 * (Cr - 128));
      M = 255 - clamp8(Y - 0.3441363 * (Cb - 128) - 0.71413636 * (Cr - 128));
      Ye = 255 - clamp8(Y + 1.772 * (Cb - 128));
    }
    /* getData stores 255 - C ... into a Uint8Array (truncation), copyToImageData reads them */
    double c8 = (double)(uint8_t)(int32_t)(255 - C), m8 = (double)(uint8_t)(int32_t)(255 - M);
    double y8 = (double)(uint8_t)(int32_t)(255 - Ye), k8 = (double)(uint8_t)(int32_t)(255 - K);
    uint32_t R = (uint32_t)(255 - clamp8(c8 * (1 - k8 / 255) + k8));
    uint32_t G = (uint32_t)(255 - clamp8(m8 * (1 - k8 / 255) + k8));
    uint32_t B = (uint32_t)(255 - clamp8(y8 * (1 - k8 / 255) + k8));
    *(uint32_t *)o = R | G << 8 | B << 16 | 0xFF000000u;
  }
}

static int color_convert(void) {
  int32_t *xi[4], *yi[4];
  int e = index_tables(xi, yi);
  if (e) return e;
  uint8_t *o = output;
  uint32_t stride = out_width * 4;
  if (ncomps == 1) {
    for (uint32_t y = 0; y < out_height; y++, o += stride) row_grey(o, comps[0].lines + yi[0][y], xi[0]);
    return OK;
  }
  if (ncomps == 3) {
    if (!tabs_ready) {
      for (int v = 0; v < 256; v++) {
        kr[v] = 1.402 * (double)(v - 128);
        kg1[v] = 0.3441363 * (double)(v - 128);
        kg2[v] = 0.71413636 * (double)(v - 128);
        kb[v] = 1.772 * (double)(v - 128);
      }
      for (int y = 0; y < 256; y++)
        for (int v = 0; v < 256; v++) {
          tab_r[y << 8 | v] = (uint8_t)clamp8((double)y + kr[v]);
          tab_b[y << 8 | v] = (uint8_t)clamp8((double)y + kb[v]);
        }
      for (int cb = 0; cb < 256; cb++) fill_g(cb);
      tabs_ready = 1;
    }
    for (uint32_t y = 0; y < out_height; y++, o += stride)
      row_ycbcr(o, comps[0].lines + yi[0][y], comps[1].lines + yi[1][y], comps[2].lines + yi[2][y], xi[0], xi[1],
                xi[2]);
    return OK;
  }
  int transform = adobe_transform != 0;
  for (uint32_t y = 0; y < out_height; y++, o += stride) {
    const uint8_t *l[4];
    for (int i = 0; i < 4; i++) l[i] = comps[i].lines + yi[i][y];
    row_cmyk(o, l, xi, transform);
  }
  return OK;
}

/* ---------- parse ---------- */

INLINE int32_t u16(int64_t at) { return (data[at] << 8) | data[at + 1]; }

static int prepare_components(void) {
  max_h = 1;
  max_v = 1;
  for (int32_t i = 0; i < ncomps; i++) {
    if (max_h < comps[i].h) max_h = comps[i].h;
    if (max_v < comps[i].v) max_v = comps[i].v;
  }
  /* Math.ceil(samplesPerLine / 8 / maxH) in doubles: the same as integer ceilings here. */
  int32_t bw = (frame_width + 7) / 8, bh = (frame_height + 7) / 8;
  mcus_per_line = (bw + max_h - 1) / max_h;
  mcus_per_column = (bh + max_v - 1) / max_v;
  for (int32_t i = 0; i < ncomps; i++) {
    Component *c = &comps[i];
    c->blocks_per_line = (bw * c->h + max_h - 1) / max_h;
    c->blocks_per_column = (bh * c->v + max_v - 1) / max_v;
    c->blocks_per_line_mcu = mcus_per_line * c->h;
    c->blocks_per_column_mcu = mcus_per_column * c->v;
    double blocks = (double)c->blocks_per_line_mcu * c->blocks_per_column_mcu;
    int e = request_memory(blocks * 256);
    if (e) return e;
    if (blocks * 256 > 2147483647.0) return E_MEMORY;
    c->coef = alloc_zero((uint32_t)blocks * 256);
    if (!c->coef) return E_GROW;
  }
  return OK;
}

static int parse(void) {
  int64_t offset = 0;
  if (length < 4 || u16(0) != 0xFFD8) return E_STRUCTURE;
  offset = 2;
#define NEED(n)                                   \
  do {                                            \
    if (offset + (n) > length) return E_STRUCTURE; \
  } while (0)
  NEED(2);
  int32_t marker = u16(offset);
  offset += 2;
  while (marker != 0xFFD9) {
    if ((marker >= 0xFFE0 && marker <= 0xFFEF) || marker == 0xFFFE) {
      NEED(2);
      int32_t len = u16(offset);
      offset += 2;
      /* data.subarray(offset, offset + len - 2): cut at the end of the data */
      int64_t n = len - 2;
      if (n < 0) return E_STRUCTURE; /* a negative subarray end: not ported */
      if (offset + n > length) n = length - offset;
      const uint8_t *app = data + offset;
      if (marker == 0xFFEE && n >= 12 && app[0] == 'A' && app[1] == 'd' && app[2] == 'o' && app[3] == 'b' &&
          app[4] == 'e' && app[5] == 0) {
        adobe_present = 1;
        adobe_transform = app[11];
      } else if (marker == 0xFFEE && n >= 6 && app[0] == 'A' && app[1] == 'd' && app[2] == 'o' &&
                 app[3] == 'b' && app[4] == 'e' && app[5] == 0) {
        return E_STRUCTURE; /* a short Adobe segment: its fields would be undefined */
      }
      offset += n;
    } else if (marker == 0xFFDB) {
      NEED(2);
      int64_t end = u16(offset) + offset;
      offset += 2;
      while (offset < end) {
        NEED(1);
        int32_t spec = data[offset++];
        int e = request_memory(256);
        if (e) return e;
        int32_t *table = alloc(256);
        if (!table) return E_GROW;
        if ((spec >> 4) == 0) {
          NEED(64);
          for (int j = 0; j < 64; j++) table[zigzag[j]] = data[offset++];
        } else if ((spec >> 4) == 1) {
          NEED(128);
          for (int j = 0; j < 64; j++, offset += 2) table[zigzag[j]] = u16(offset);
        } else {
          return E_STRUCTURE;
        }
        qtables[spec & 15] = table;
      }
    } else if (marker == 0xFFC0 || marker == 0xFFC1 || marker == 0xFFC2) {
      if (frame_count++) return E_STRUCTURE; /* "only single frame JPEGs supported" */
      NEED(8);
      frame_progressive = marker == 0xFFC2;
      offset += 2;
      int32_t precision = data[offset++];
      frame_height = u16(offset);
      frame_width = u16(offset + 2);
      offset += 4;
      if (precision != 8) return E_STRUCTURE;
      if ((double)frame_width * frame_height > 100e6) return E_MEMORY; /* maxResolutionInMP */
      int32_t count = data[offset++];
      if (count != 1 && count != 3 && count != 4) return E_COMPONENTS;
      NEED(3 * count);
      ncomps = count;
      for (int32_t i = 0; i < count; i++, offset += 3) {
        Component *c = &comps[i];
        c->id = data[offset];
        c->h = data[offset + 1] >> 4;
        c->v = data[offset + 1] & 15;
        c->qid = data[offset + 2];
        if (c->h <= 0 || c->v <= 0) return E_STRUCTURE;
        for (int32_t j = 0; j < i; j++)
          if (comps[j].id == c->id) return E_STRUCTURE; /* a repeated id: not ported */
      }
      if (frame_width == 0 || frame_height == 0) return E_STRUCTURE;
      int e = prepare_components();
      if (e) return e;
    } else if (marker == 0xFFC4) {
      NEED(2);
      int32_t len = u16(offset);
      offset += 2;
      for (int32_t i = 2; i < len;) {
        NEED(17);
        int32_t spec = data[offset++];
        const uint8_t *lengths = data + offset;
        int32_t sum = 0;
        for (int j = 0; j < 16; j++) sum += lengths[j];
        offset += 16;
        int e = request_memory(16 + sum);
        if (e) return e;
        NEED(sum);
        const uint8_t *values = data + offset;
        offset += sum;
        i += 17 + sum;
        Huffman *t = &((spec >> 4) == 0 ? tables_dc : tables_ac)[spec & 15];
        e = build_huffman(t, lengths, values);
        if (e) return e;
      }
    } else if (marker == 0xFFDD) {
      NEED(4);
      reset_interval = u16(offset + 2);
      offset += 4;
    } else if (marker == 0xFFDC) {
      NEED(4);
      offset += 4;
    } else if (marker == 0xFFDA) {
      NEED(3);
      offset += 2;
      int32_t n = data[offset++];
      if (!frame_count || n < 1 || n > ncomps) return E_STRUCTURE;
      NEED(2 * n + 3);
      Component *sc[4];
      for (int32_t i = 0; i < n; i++) {
        int32_t id = data[offset++], spec = data[offset++];
        Component *c = 0;
        for (int32_t j = 0; j < ncomps; j++)
          if (comps[j].id == id) c = &comps[j];
        if (!c) return E_STRUCTURE;
        for (int32_t j = 0; j < i; j++)
          if (sc[j] == c) return E_STRUCTURE;
        c->dc = &tables_dc[spec >> 4];
        c->ac = &tables_ac[spec & 15];
        sc[i] = c;
      }
      spectral_start = data[offset];
      spectral_end = data[offset + 1];
      int32_t prev = data[offset + 2] >> 4;
      successive = data[offset + 2] & 15;
      offset += 3;
      if (!frame_progressive)
        scan_mode = MODE_BASELINE; /* spectral selection and successive approximation unused */
      else if (spectral_start == 0)
        scan_mode = prev == 0 ? MODE_DC_FIRST : MODE_DC_SUCCESSIVE;
      else
        scan_mode = prev == 0 ? MODE_AC_FIRST : MODE_AC_SUCCESSIVE;
      /* past coefficient 63 jpeg-js reads and writes a property of the block: not ported */
      if (frame_progressive && spectral_end > 63) return E_STRUCTURE;
      for (int32_t i = 0; i < n; i++) {
        int dc = scan_mode == MODE_BASELINE || scan_mode == MODE_DC_FIRST;
        int ac = scan_mode == MODE_BASELINE || scan_mode >= MODE_AC_FIRST;
        if ((dc && !sc[i]->dc->defined) || (ac && !sc[i]->ac->defined)) return E_STRUCTURE; /* a TypeError there */
      }
      entropy_error = 0;
      int64_t took = decode_scan(offset, sc, n);
      if (took < 0) return entropy_error ? E_ENTROPY : E_STRUCTURE;
      offset += took;
    } else {
      /* FF00, fill bytes, other SOFs, anything unknown: jpeg-js's recovery paths are not ported */
      return E_STRUCTURE;
    }
    NEED(2);
    marker = u16(offset);
    offset += 2;
  }
#undef NEED
  if (frame_count != 1) return E_STRUCTURE;
  return OK;
}

/* ---------- exports ---------- */

static uint8_t *input;

/* Room for the next image's `bytes`: everything of the previous image is forgotten. */
uint8_t *jpeg_input(uint32_t bytes) {
  heap_top = (uintptr_t)&__heap_base;
  input = alloc(bytes);
  length = input ? bytes : 0;
  return input;
}

/* Decodes the bytes written at jpeg_input's address: 0 and the RGBA pixels at jpeg_output,
 * or a nonzero code saying why the image is left to jimp. */
int32_t jpeg_decode(void) {
  if (!input) return E_GROW;
  data = input;
  memory_used = 0;
  output = 0;
  out_width = out_height = 0;
  frame_count = 0;
  ncomps = 0;
  reset_interval = 0;
  adobe_present = 0;
  adobe_transform = 0;
  node_count = 0;
  for (int i = 0; i < 16; i++) qtables[i] = 0;
  nodes = alloc(MAX_NODES * sizeof(Node));
  tables_dc = alloc_zero(16 * sizeof(Huffman));
  tables_ac = alloc_zero(16 * sizeof(Huffman));
  if (!nodes || !tables_dc || !tables_ac) return E_GROW;
  __builtin_memset(comps, 0, sizeof comps);
  int e = parse();
  if (e) return e;
  if (ncomps == 4 && !adobe_present) return E_COMPONENTS; /* "Unsupported color mode (4 components)" */
  for (int32_t i = 0; i < ncomps; i++) {
    Component *c = &comps[i];
    e = request_memory((double)c->blocks_per_line * 8 * c->blocks_per_column * 8);
    if (e) return e;
    e = build_component(c);
    if (e) return e;
  }
  out_width = (uint32_t)frame_width;
  out_height = (uint32_t)frame_height;
  double pixels = (double)out_width * out_height;
  e = request_memory(pixels * ncomps); /* getData */
  if (e) return e;
  e = request_memory(pixels * 4); /* the RGBA buffer */
  if (e) return e;
  output = alloc(out_width * out_height * 4);
  if (!output) return E_GROW;
  return color_convert();
}

uint8_t *jpeg_output(void) { return output; }
uint32_t jpeg_width(void) { return out_width; }
uint32_t jpeg_height(void) { return out_height; }
