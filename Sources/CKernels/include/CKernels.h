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

    /// float16 (IEEE binary16 bits) to float32, exactly: `destination[j] = source[j]`.
    void (*_Nonnull widen)(const uint16_t *_Nonnull source, float *_Nonnull destination, long count);
} ckernels_table;

/// The table built for `isa`, or NULL where this architecture does not build it (NEON on x86-64,
/// AVX on arm64). Whether the CPU can run it is the caller's question.
const ckernels_table *_Nullable ckernels_table_for(ckernels_isa isa);
