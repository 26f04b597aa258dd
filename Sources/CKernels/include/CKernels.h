// The runtime's hot kernels in C, compiled once per instruction set (Docs/PERFORMANCE.md,
// "Runtime ISA dispatch"): Swift has no per-function target attribute, C has. DiffusionCore
// picks one table at start-up from the CPU (`ISA.swift`) and keeps the orchestration: blocking,
// scratch buffers, threads.
#pragma once

#include <stdbool.h>
#include <stdint.h>

/// The instruction sets a table is built for.
typedef enum {
    /// Portable C vectors at the compiler's baseline (SSE2 on x86-64).
    CKERNELS_GENERIC = 0,
    /// AVX2 with FMA (x86-64 only).
    CKERNELS_AVX2 = 1,
    /// AVX-512 F, BW, DQ and VL with FMA (x86-64 only).
    CKERNELS_AVX512 = 2,
    /// NEON (arm64 only).
    CKERNELS_NEON = 3,
} ckernels_isa;

/// The activations `activate` applies, as DiffusionCore's `Activation` names them.
typedef enum {
    CKERNELS_SILU = 0,
    CKERNELS_GELU_ERF = 1,
    CKERNELS_GELU_TANH = 2,
    CKERNELS_QUICK_GELU = 3,
} ckernels_activation;

/// One instruction set's kernels. Products read their right operand in 16-column panels:
/// `b[panel][i][0..<16]`, panels `panel_stride` floats apart.
typedef struct {
    /// "generic", "avx2", "avx512" or "neon".
    const char *_Nonnull name;
    /// Rows of the product's register tile: callers group rows in multiples of it.
    long tile_rows;

    /// `c[r][j] = alpha * sum_i a[r][i] b[i][j] (+ c[r][j] when accumulate)` for `rows` rows of
    /// `a` (`lda` apart) and `columns` columns (a multiple of 16) of the panelled `b`; `c` rows
    /// `ldc` apart.
    void (*_Nonnull panel_product)(
        const float *_Nonnull a, long lda, long rows, const float *_Nonnull b, long panel_stride, long depth,
        long columns, float alpha, bool accumulate, float *_Nonnull c, long ldc);

    /// The largest of `count` values (-infinity for none).
    float (*_Nonnull row_maximum)(const float *_Nonnull row, long count);

    /// `row[j] = exp(row[j] - maximum)` in place; returns the sum of the results.
    float (*_Nonnull exponentiate_row)(float *_Nonnull row, long count, float maximum);

    /// `destination[j] = source[j] * factor` (may be in place).
    void (*_Nonnull scale)(const float *_Nonnull source, float factor, long count, float *_Nonnull destination);

    /// `destination[j] = activation(source[j])` (may be in place).
    void (*_Nonnull activate)(ckernels_activation activation, const float *_Nonnull source, float *_Nonnull destination, long count);

    /// float16 (IEEE binary16, little-endian, at any alignment) to float32, exactly.
    void (*_Nonnull widen)(const void *_Nonnull source, float *_Nonnull destination, long count);

    /// float32 to float16 (written at any alignment), rounding to nearest even.
    void (*_Nonnull narrow)(const float *_Nonnull source, void *_Nonnull destination, long count);

    /// `destination[j] = a[j] + factor * b[j]` (may be in place).
    void (*_Nonnull add_scaled)(
        const float *_Nonnull a, const float *_Nonnull b, float factor, long count, float *_Nonnull destination);

    /// `destination[j] = a[j] * b[j]` (may be in place).
    void (*_Nonnull multiply)(const float *_Nonnull a, const float *_Nonnull b, long count, float *_Nonnull destination);

    /// `destination[j] = source[j] * scale[j] + shift[j]` (may be in place).
    void (*_Nonnull scale_shift)(
        const float *_Nonnull source, const float *_Nonnull scale, const float *_Nonnull shift, long count,
        float *_Nonnull destination);

    /// Adds, in double, each channel's values over `pixels` rows of `channels` floats to `sums[c]`
    /// and their squares to `squares[c]`.
    void (*_Nonnull channel_sums)(
        const float *_Nonnull source, long pixels, long channels, double *_Nonnull sums, double *_Nonnull squares);

    /// torch's LayerNorm of one row of `width` floats (statistics in double; `beta` may be NULL).
    void (*_Nonnull layer_norm)(
        const float *_Nonnull source, long width, float epsilon, const float *_Nonnull gamma, const float *_Nullable beta,
        float *_Nonnull destination);

    /// Output pixels of the direct convolution's tile: callers hand `direct_tile` this many rows per tap.
    long direct_rows;
    /// Output channels of the direct convolution's tile (16 or 32: one or two weight panels).
    long direct_columns;

    /// The direct convolution's tile: `rows[t * direct_rows + r]` is output pixel r's input row of
    /// `depth` channels under kernel tap t (every row readable); `w` holds 16 output channels' weights,
    /// `depth x 16` floats per tap, taps one after another, and the next 16 channels `panel_stride`
    /// floats on. Writes the first `count` pixels x `columns` (at most `direct_columns`) channels,
    /// plus `bias` (may be NULL), to `c`, pixels `ldc` apart.
    void (*_Nonnull direct_tile)(
        const float *_Nonnull const *_Nonnull rows, long taps, long depth, const float *_Nonnull w, long panel_stride,
        const float *_Nullable bias, long count, long columns, float *_Nonnull c, long ldc);

    /// Winograd F(side x side, 3x3) (side 2 or 4; Sources/DiffusionCore/Conv2D+Winograd.swift) for
    /// `count` channels: `G g G^T`, tap (r, c) of channel j at `g[(3 r + c) tap_stride + j]`,
    /// position k to `out[k position_stride + j]`.
    void (*_Nonnull winograd_weights)(
        long side, const float *_Nonnull g, long tap_stride, long count, float *_Nonnull out, long position_stride);

    /// `B^T d B` for `count` channels: patch pixel k (row-major, (side + 2)^2 of them) at `patch[k]`,
    /// NULL outside the image (zeros); position k to `out[k position_stride + j]`.
    void (*_Nonnull winograd_input)(
        long side, const float *_Nullable const *_Nonnull patch, long count, float *_Nonnull out, long position_stride);

    /// `A^T m A + bias` for `count` channels (`bias` may be NULL): position k at
    /// `m[k position_stride + j]`; output pixel (r, c), for r < rows and c < columns, to
    /// `out[r row_stride + c pixel_stride + j]`.
    void (*_Nonnull winograd_output)(
        long side, const float *_Nonnull m, long position_stride, const float *_Nullable bias, long count,
        float *_Nonnull out, long rows, long columns, long row_stride, long pixel_stride);

    /// Floats per vector.
    long lanes;

    /// Twelve chains of `iterations` dependent multiply-adds on full vectors, nothing loaded or
    /// stored: the path's multiply-add peak (`diffuse-bench ops`). Returns their sum.
    float (*_Nonnull fma_chains)(long iterations);

    /// One row of canny's gradient (OpenCV's Sobel 3x3 on each channel of interleaved RGB rows,
    /// columns past the edge replicated): per pixel, the dx, dy and |dx| + |dy| of the channel of
    /// largest |dx| + |dy|, the first on a tie. `scratch` holds 3 (width + 2) int16.
    void (*_Nonnull sobel_row)(
        const uint8_t *_Nonnull above, const uint8_t *_Nonnull middle, const uint8_t *_Nonnull below, long width,
        int16_t *_Nonnull scratch, int32_t *_Nonnull magnitude, int16_t *_Nonnull dx, int16_t *_Nonnull dy);
} ckernels_table;

/// The table built for `isa`, or NULL where this architecture does not build it (NEON on x86-64,
/// AVX on arm64). Whether the CPU can run it is the caller's question.
const ckernels_table *_Nullable ckernels_table_for(ckernels_isa isa);
