// The kernels, written once in clang's vector extensions. Each kernels_<isa>.c includes this file
// inside its target pragma after defining CK_ISA (its name), CK_LANES (floats per vector), the
// product's register tile: CK_TILE_ROWS rows of CK_TILE_VECTORS vectors, and CK_NARROW for a
// 16-column tile of the same rows when the wide one spans two panels; and the direct
// convolution's: CK_DIRECT_ROWS pixels of CK_DIRECT_VECTORS vectors (one or two panels).
#include <math.h>
#include <stddef.h>

#include "CKernels.h"

// a * b + c as one FMA where the target has it (the products' accuracy and speed depend on it).
#pragma clang fp contract(fast)

typedef float vf __attribute__((ext_vector_type(CK_LANES)));
typedef int vi __attribute__((ext_vector_type(CK_LANES)));

static inline vf load(const float *p) {
    vf v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static inline void store(float *p, vf v) { __builtin_memcpy(p, &v, sizeof v); }

/// The first `n` (< CK_LANES) floats from `p`, the other lanes zero.
static inline vf partial_load(const float *p, long n) {
    float lanes[CK_LANES] = {0};
    for (long k = 0; k < n; k++) lanes[k] = p[k];
    return load(lanes);
}

/// The first `n` (< CK_LANES) lanes of `v` to `p`.
static inline void partial_store(float *p, vf v, long n) {
    float lanes[CK_LANES];
    store(lanes, v);
    for (long k = 0; k < n; k++) p[k] = lanes[k];
}

/// `a` where `mask` is set, else `b`, in bit operations every target has.
static inline vf select(vi mask, vf a, vf b) { return (vf)(((vi)a & mask) | ((vi)b & ~mask)); }

static inline float sum_lanes(vf v) {
    float s = 0;
    for (int k = 0; k < CK_LANES; k++) s += v[k];
    return s;
}

/// e^x by Cephes' `expf` scheme (also Eigen's and PyTorch's vectorized CPU kernels): x = n ln 2 + r
/// with |r| <= ln 2 / 2, a degree-6 polynomial for e^r, then 2^n put in the exponent bits.
/// Relative error about 2 ulp over the float range; 0 below -87.3 (within 1.2e-38 of e^x).
static inline vf vector_exp(vf x) {
    const vf low = (vf)(-87.33654f), high = (vf)(88.72283f);
    vf clamped = select(x < low, low, x);
    clamped = select(clamped > high, high, clamped);
    // n = round(x / ln 2): adding 1.5 * 2^23 rounds to nearest even and leaves n in the low bits.
    const vf shifter = (vf)(12582912.0f);
    vf shifted = clamped * 1.44269504f + shifter;
    vf n = shifted - shifter;
    // ln 2 split in two so that n * ln2Hi is exact.
    vf r = clamped - n * 0.693359375f + n * 2.1219444e-4f;
    vf p = (vf)(1.9875691e-4f);
    p = p * r + 1.3981999e-3f;
    p = p * r + 8.3334520e-3f;
    p = p * r + 4.1665796e-2f;
    p = p * r + 1.6666665e-1f;
    p = p * r + 5e-1f;
    p = p * r * r + r + 1;
    // 2^n: n + 127 in the exponent field (n >= -126 after the clamp).
    vi integer = (vi)shifted - 0x4B400000;
    vf scale = (vf)((integer + 127) << 23);
    return select(x < low, (vf)(0.0f), p * scale);
}

static float row_maximum(const float *row, long count) {
    vf maxima = (vf)(-INFINITY);
    long j = 0;
    for (; j + CK_LANES <= count; j += CK_LANES) {
        vf v = load(row + j);
        maxima = select(v > maxima, v, maxima);
    }
    float maximum = maxima[0];
    for (int k = 1; k < CK_LANES; k++) maximum = maxima[k] > maximum ? maxima[k] : maximum;
    for (; j < count; j++) maximum = row[j] > maximum ? row[j] : maximum;
    return maximum;
}

static float exponentiate_row(float *row, long count, float maximum) {
    vf sums = 0;
    long j = 0;
    for (; j + CK_LANES <= count; j += CK_LANES) {
        vf e = vector_exp(load(row + j) - maximum);
        store(row + j, e);
        sums += e;
    }
    if (j < count) {
        // The tail through one padded vector, so every value takes the same exp: -inf pads to 0.
        float tail[CK_LANES];
        for (int k = 0; k < CK_LANES; k++) tail[k] = j + k < count ? row[j + k] : -INFINITY;
        vf e = vector_exp(load(tail) - maximum);
        store(tail, e);
        for (long k = 0; j + k < count; k++) row[j + k] = tail[k];
        sums += e;
    }
    return sum_lanes(sums);
}

static void scale(const float *source, float factor, long count, float *destination) {
    long j = 0;
    for (; j + CK_LANES <= count; j += CK_LANES) store(destination + j, load(source + j) * factor);
    for (; j < count; j++) destination[j] = source[j] * factor;
}

typedef _Float16 vh __attribute__((ext_vector_type(CK_LANES)));

/// F16C's `vcvtph2ps` on the AVX paths; the generic path converts in software (exact either way).
/// `source` may sit at any alignment (a checkpoint's data).
static void widen(const void *source, float *destination, long count) {
    const char *bytes = source;
    long j = 0;
    for (; j + CK_LANES <= count; j += CK_LANES) {
        vh h;
        __builtin_memcpy(&h, bytes + 2 * j, sizeof h);
        store(destination + j, __builtin_convertvector(h, vf));
    }
    for (; j < count; j++) {
        _Float16 h;
        __builtin_memcpy(&h, bytes + 2 * j, sizeof h);
        destination[j] = (float)h;
    }
}

/// float32 to float16, rounding to nearest even (Swift's `Float16(_:)`, torch's `.half()`):
/// F16C's `vcvtps2ph` on the AVX paths. `destination` may sit at any alignment.
static void narrow(const float *source, void *destination, long count) {
    char *bytes = destination;
    long j = 0;
    for (; j + CK_LANES <= count; j += CK_LANES) {
        vh h = __builtin_convertvector(load(source + j), vh);
        __builtin_memcpy(bytes + 2 * j, &h, sizeof h);
    }
    for (; j < count; j++) {
        _Float16 h = (_Float16)source[j];
        __builtin_memcpy(bytes + 2 * j, &h, sizeof h);
    }
}

static void add_scaled(const float *a, const float *b, float factor, long count, float *destination) {
    long j = 0;
    for (; j + CK_LANES <= count; j += CK_LANES) store(destination + j, load(b + j) * factor + load(a + j));
    for (; j < count; j++) destination[j] = b[j] * factor + a[j];
}

static void multiply(const float *a, const float *b, long count, float *destination) {
    long j = 0;
    for (; j + CK_LANES <= count; j += CK_LANES) store(destination + j, load(a + j) * load(b + j));
    for (; j < count; j++) destination[j] = a[j] * b[j];
}

static void scale_shift(const float *source, const float *scale, const float *shift, long count, float *destination) {
    long j = 0;
    for (; j + CK_LANES <= count; j += CK_LANES) store(destination + j, load(source + j) * load(scale + j) + load(shift + j));
    for (; j < count; j++) destination[j] = source[j] * scale[j] + shift[j];
}

typedef double vd __attribute__((ext_vector_type(CK_LANES)));

static void channel_sums(const float *source, long pixels, long channels, double *sums, double *squares) {
    for (long p = 0; p < pixels; p++) {
        const float *row = source + p * channels;
        long c = 0;
        for (; c + CK_LANES <= channels; c += CK_LANES) {
            vd v = __builtin_convertvector(load(row + c), vd), s, q;
            __builtin_memcpy(&s, sums + c, sizeof s);
            __builtin_memcpy(&q, squares + c, sizeof q);
            s += v;
            q += v * v;
            __builtin_memcpy(sums + c, &s, sizeof s);
            __builtin_memcpy(squares + c, &q, sizeof q);
        }
        for (; c < channels; c++) {
            double v = row[c];
            sums[c] += v;
            squares[c] += v * v;
        }
    }
}

/// torch's LayerNorm of one row: the mean and the variance (biased) in double, then
/// `(x - mean) / sqrt(variance + epsilon) * gamma + beta` in float32 (`beta` may be NULL).
static void layer_norm(const float *source, long width, float epsilon, const float *gamma, const float *beta, float *destination) {
    vd sums = 0;
    long j = 0;
    for (; j + CK_LANES <= width; j += CK_LANES) sums += __builtin_convertvector(load(source + j), vd);
    double sum = 0;
    for (int k = 0; k < CK_LANES; k++) sum += sums[k];
    for (; j < width; j++) sum += source[j];
    double mean = sum / (double)width, squares = 0;
    sums = 0;
    for (j = 0; j + CK_LANES <= width; j += CK_LANES) {
        vd centred = __builtin_convertvector(load(source + j), vd) - mean;
        sums += centred * centred;
    }
    for (int k = 0; k < CK_LANES; k++) squares += sums[k];
    for (; j < width; j++) squares += ((double)source[j] - mean) * ((double)source[j] - mean);
    float inverse = (float)(1 / __builtin_sqrt(squares / (double)width + (double)epsilon)), m = (float)mean;
    for (j = 0; j + CK_LANES <= width; j += CK_LANES) {
        vf shift = beta ? load(beta + j) : (vf)0;
        store(destination + j, (load(source + j) - m) * inverse * load(gamma + j) + shift);
    }
    for (; j < width; j++) destination[j] = (source[j] - m) * inverse * gamma[j] + (beta ? beta[j] : 0);
}

typedef int16_t vs __attribute__((ext_vector_type(2 * CK_LANES)));

static inline vs load_shorts(const int16_t *p) {
    vs v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static inline void store_shorts(int16_t *p, vs v) { __builtin_memcpy(p, &v, sizeof v); }

/// |v|, without the overflow of the most negative value (the Sobel sums never reach it).
static inline vs absolute_shorts(vs v) { return (v ^ (v >> 15)) - (v >> 15); }

/// One row of canny's gradient, as OpenCV's canny.cpp computes it: the 3x3 Sobel derivatives of
/// each channel of interleaved RGB rows (`above`, `middle`, `below`, each `width` pixels; the
/// caller replicates rows past the image's edge), columns past the edge replicated, and per pixel
/// the dx, dy and L1 norm |dx| + |dy| of the channel of largest norm (the first on a tie).
/// `scratch` holds 3 (width + 2) int16. Sums stay within +-2040, so int16 arithmetic is exact.
static void sobel_row(
    const uint8_t *above, const uint8_t *middle, const uint8_t *below, long width, int16_t *scratch, int32_t *magnitude,
    int16_t *dx, int16_t *dy) {
    // The kernels are separable: [1 2 1] across rows then [-1 0 1] along the row for dx, [-1 0 1]
    // across rows then [1 2 1] along the row for dy.
    int16_t *smoothed = scratch + 1, *differenced = smoothed + width + 2, *best = differenced + width + 2;
    for (int c = 0; c < 3; c++) {
        for (long x = 0; x < width; x++) {
            int a = above[3 * x + c], m = middle[3 * x + c], b = below[3 * x + c];
            smoothed[x] = (int16_t)(a + 2 * m + b);
            differenced[x] = (int16_t)(b - a);
        }
        smoothed[-1] = smoothed[0];
        differenced[-1] = differenced[0];
        smoothed[width] = smoothed[width - 1];
        differenced[width] = differenced[width - 1];
        long x = 0;
        for (; x + 2 * CK_LANES <= width; x += 2 * CK_LANES) {
            vs gx = load_shorts(smoothed + x + 1) - load_shorts(smoothed + x - 1);
            vs gy = load_shorts(differenced + x - 1) + 2 * load_shorts(differenced + x) + load_shorts(differenced + x + 1);
            vs norm = absolute_shorts(gx) + absolute_shorts(gy);
            // A later channel wins only with a strictly larger norm (OpenCV's `>`).
            vs take = c == 0 ? (vs)(-1) : (vs)(norm > load_shorts(best + x));
            store_shorts(best + x, (norm & take) | (load_shorts(best + x) & ~take));
            store_shorts(dx + x, (gx & take) | (load_shorts(dx + x) & ~take));
            store_shorts(dy + x, (gy & take) | (load_shorts(dy + x) & ~take));
        }
        for (; x < width; x++) {
            int gx = smoothed[x + 1] - smoothed[x - 1], gy = differenced[x - 1] + 2 * differenced[x] + differenced[x + 1];
            int norm = (gx < 0 ? -gx : gx) + (gy < 0 ? -gy : gy);
            if (c == 0 || norm > best[x]) {
                best[x] = (int16_t)norm;
                dx[x] = (int16_t)gx;
                dy[x] = (int16_t)gy;
            }
        }
    }
    for (long x = 0; x < width; x++) magnitude[x] = best[x];
}

/// Twelve independent chains of `a = a * m + c`, `iterations` times, each lane from its own start: the
/// multiply-add peak with nothing loaded or stored. Returns their sum so none is dead.
static float fma_chains(long iterations) {
    // Read through volatile, so the compiler can neither fold the chains (0.999999 happens to be a
    // fixed point of the recurrence in float32) nor merge them or their lanes: each starts elsewhere.
    volatile float multiplier = 0.999999f, increment = 1e-6f;
    const vf m = multiplier, c = increment;
    vf lane;
    for (int k = 0; k < CK_LANES; k++) lane[k] = k;
    vf a[12];
    _Pragma("clang loop unroll(full)") for (int k = 0; k < 12; k++) a[k] = m - (k * CK_LANES + lane) * c;
    for (long i = 0; i < iterations; i++) {
        _Pragma("clang loop unroll(full)") for (int k = 0; k < 12; k++) a[k] = a[k] * m + c;
    }
    vf sum = 0;
    _Pragma("clang loop unroll(full)") for (int k = 0; k < 12; k++) sum += a[k];
    return sum_lanes(sum);
}

/// erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7), the formula PyTorch's
/// vectorized CPU `erf` (and so its GELU) uses: sign(x) (1 - t P(t) e^(-x^2)), t = 1 / (1 + p|x|).
static inline vf vector_erf(vf x) {
    vf magnitude = select(x < 0, -x, x);
    vf t = 1 / (magnitude * 0.3275911f + 1);
    vf r = t * 1.061405429f - 1.453152027f;
    r = r * t + 1.421413741f;
    r = r * t - 0.284496736f;
    r = r * t + 0.254829592f;
    vf y = 1 - r * t * vector_exp(-(x * x));
    return select(x < 0, -y, y);
}

static inline __attribute__((always_inline)) vf activation_of(ckernels_activation activation, vf x) {
    switch (activation) {
    case CKERNELS_SILU: return x / (1 + vector_exp(-x));
    case CKERNELS_GELU_ERF: return 0.5f * x * (1 + vector_erf(x * 0.70710678118654752f));
    case CKERNELS_GELU_TANH: {
        // tanh(u) = 1 - 2 / (e^(2u) + 1).
        vf u = 0.79788456080286536f * (x + 0.044715f * x * x * x);
        return 0.5f * x * (2 - 2 / (vector_exp(2 * u) + 1));
    }
    case CKERNELS_QUICK_GELU: return x / (1 + vector_exp(-1.702f * x));
    }
    return x;
}

/// The loop for one activation, so the switch runs once per call, not per vector.
static inline __attribute__((always_inline)) void activate_each(
    ckernels_activation activation, const float *source, float *destination, long count) {
    long j = 0;
    for (; j + CK_LANES <= count; j += CK_LANES) store(destination + j, activation_of(activation, load(source + j)));
    if (j < count) {
        // The tail through one zero-padded vector, so every value takes the same formula.
        float tail[CK_LANES];
        for (int k = 0; k < CK_LANES; k++) tail[k] = j + k < count ? source[j + k] : 0;
        store(tail, activation_of(activation, load(tail)));
        for (long k = 0; j + k < count; k++) destination[j + k] = tail[k];
    }
}

static void activate(ckernels_activation activation, const float *source, float *destination, long count) {
    switch (activation) {
    case CKERNELS_SILU: activate_each(CKERNELS_SILU, source, destination, count); break;
    case CKERNELS_GELU_ERF: activate_each(CKERNELS_GELU_ERF, source, destination, count); break;
    case CKERNELS_GELU_TANH: activate_each(CKERNELS_GELU_TANH, source, destination, count); break;
    case CKERNELS_QUICK_GELU: activate_each(CKERNELS_QUICK_GELU, source, destination, count); break;
    }
}

#define TILE_NAME wide_tile
#define TILE_VECTORS CK_TILE_VECTORS
#include "tile.h"
#undef TILE_NAME
#undef TILE_VECTORS
#define TILE_COLUMNS (CK_TILE_VECTORS * CK_LANES)

#if defined(CK_NARROW)
#define TILE_NAME narrow_tile
#define TILE_VECTORS (16 / CK_LANES)
#include "tile.h"
#undef TILE_NAME
#undef TILE_VECTORS
#endif

#if !defined(CK_NARROW)
// Without a narrow tile the wide one is 16 columns wide (one panel), so every column tile is wide.
#define narrow_tile wide_tile
#endif

/// One tile at (r, j): wide or narrow, and with every row present or not, each a separate
/// instance so the full tiles address their rows from `a` and `lda` alone (14 row pointers
/// would not fit the general registers).
static inline __attribute__((always_inline)) void product_tile(
    bool wide, const float *a, long lda, long rows, const float *b, long panel_stride, long depth, float alpha,
    bool accumulate, float *c, long ldc) {
    bool full = rows == CK_TILE_ROWS;
    if (wide && full) wide_tile(a, lda, rows, b, panel_stride, depth, alpha, accumulate, c, ldc, true);
    else if (wide) wide_tile(a, lda, rows, b, panel_stride, depth, alpha, accumulate, c, ldc, false);
    else if (full) narrow_tile(a, lda, rows, b, panel_stride, depth, alpha, accumulate, c, ldc, true);
    else narrow_tile(a, lda, rows, b, panel_stride, depth, alpha, accumulate, c, ldc, false);
}

static void panel_product(
    const float *a, long lda, long rows, const float *b, long panel_stride, long depth, long columns, float alpha,
    bool accumulate, float *c, long ldc) {
    // Column tiles outside, row tiles inside: a tile's panels stay in L1 for all the rows.
    for (long j = 0; j < columns;) {
        bool wide = columns - j >= TILE_COLUMNS;
        for (long r = 0; r < rows; r += CK_TILE_ROWS) {
            long count = rows - r < CK_TILE_ROWS ? rows - r : CK_TILE_ROWS;
            product_tile(wide, a + r * lda, lda, count, b + j / 16 * panel_stride, panel_stride, depth, alpha,
                         accumulate, c + r * ldc + j, ldc);
        }
        j += wide ? TILE_COLUMNS : 16;
    }
}

#include "winograd.h"

#define DIRECT_NAME direct_wide
#define DIRECT_VECTORS CK_DIRECT_VECTORS
#include "direct.h"
#undef DIRECT_NAME
#undef DIRECT_VECTORS
#define DIRECT_COLUMNS (CK_DIRECT_VECTORS * CK_LANES)

#if DIRECT_COLUMNS > 16
#define DIRECT_NAME direct_narrow
#define DIRECT_VECTORS (16 / CK_LANES)
#include "direct.h"
#undef DIRECT_NAME
#undef DIRECT_VECTORS
#else
#define direct_narrow direct_wide
#endif

static void direct_tile(
    const float *const *rows, long taps, long depth, const float *w, long panel_stride, const float *bias, long count,
    long columns, float *c, long ldc) {
    if (columns > 16) direct_wide(rows, taps, depth, w, panel_stride, bias, count, columns, c, ldc);
    else direct_narrow(rows, taps, depth, w, panel_stride, bias, count, columns, c, ldc);
}

#define CK_CAT(a, b, c) a##b##c
#define CK_TABLE(isa) CK_CAT(ckernels_, isa, _table)
#define CK_STRING2(x) #x
#define CK_STRING(x) CK_STRING2(x)

const ckernels_table CK_TABLE(CK_ISA) = {
    .name = CK_STRING(CK_ISA),
    .tile_rows = CK_TILE_ROWS,
    .panel_product = panel_product,
    .row_maximum = row_maximum,
    .exponentiate_row = exponentiate_row,
    .scale = scale,
    .activate = activate,
    .widen = widen,
    .narrow = narrow,
    .add_scaled = add_scaled,
    .multiply = multiply,
    .scale_shift = scale_shift,
    .channel_sums = channel_sums,
    .layer_norm = layer_norm,
    .direct_rows = CK_DIRECT_ROWS,
    .direct_columns = DIRECT_COLUMNS,
    .direct_tile = direct_tile,
    .winograd_weights = winograd_weights,
    .winograd_input = winograd_input,
    .winograd_output = winograd_output,
    .lanes = CK_LANES,
    .fma_chains = fma_chains,
    .sobel_row = sobel_row,
};
