// The product of the linear layers and 1x1 convolutions (Docs/PERFORMANCE.md, "Which sgemm runs"),
// laid out as BLIS and GotoBLAS do: the weight packed once per depth x column block into
// micro-panels of GEMM_COLUMNS columns (widened from float16 and transposed on the way), the
// activations packed GEMM_ROW_BLOCK rows at a time into micro-panels of CK_GEMM_ROWS rows, depth
// major, so each step of the register tile reads contiguous broadcasts and vectors. Included by
// kernels.h, which defines CK_GEMM_ROWS and CK_GEMM_VECTORS per instruction set.
#define GEMM_COLUMNS (CK_GEMM_VECTORS * CK_LANES)
// Four tiles of rows per activation block: measured best beside 2 and 8 at depth 768 (Docs/PERFORMANCE.md).
#define GEMM_ROW_BLOCK (4 * CK_GEMM_ROWS)

static void gemm_pack_b(const void *w, bool half, long ldw, long k0, long depth, long n0, long columns, float *packed) {
    for (long p = 0; p * GEMM_COLUMNS < columns; p++) {
        float *panel = packed + p * depth * GEMM_COLUMNS;
        long count = columns - p * GEMM_COLUMNS < GEMM_COLUMNS ? columns - p * GEMM_COLUMNS : GEMM_COLUMNS;
        for (long j = 0; j < GEMM_COLUMNS; j++) {
            if (j >= count) {
                for (long k = 0; k < depth; k++) panel[k * GEMM_COLUMNS + j] = 0;
            } else if (half) {
                const char *source = (const char *)w + 2 * ((n0 + p * GEMM_COLUMNS + j) * ldw + k0);
                for (long k = 0; k < depth; k++) {
                    _Float16 h;
                    __builtin_memcpy(&h, source + 2 * k, sizeof h);
                    panel[k * GEMM_COLUMNS + j] = (float)h;
                }
            } else {
                const float *source = (const float *)w + (n0 + p * GEMM_COLUMNS + j) * ldw + k0;
                for (long k = 0; k < depth; k++) panel[k * GEMM_COLUMNS + j] = source[k];
            }
        }
    }
}

/// `rows` rows of `a` (`lda` apart) as micro-panels `packed[q][k][0 ..< CK_GEMM_ROWS]`, rows past
/// `rows` zero.
static void gemm_pack_a(const float *a, long lda, long rows, long depth, float *packed) {
    for (long q = 0; q * CK_GEMM_ROWS < rows; q++) {
        float *panel = packed + q * depth * CK_GEMM_ROWS;
        long count = rows - q * CK_GEMM_ROWS < CK_GEMM_ROWS ? rows - q * CK_GEMM_ROWS : CK_GEMM_ROWS;
        for (long r = 0; r < CK_GEMM_ROWS; r++) {
            if (r >= count) {
                for (long k = 0; k < depth; k++) panel[k * CK_GEMM_ROWS + r] = 0;
            } else {
                const float *source = a + (q * CK_GEMM_ROWS + r) * lda;
                for (long k = 0; k < depth; k++) panel[k * CK_GEMM_ROWS + r] = source[k];
            }
        }
    }
}

/// One register tile: the `rows` x `columns` corner of `ap bp` plus `c` (when accumulating) or
/// `bias` (may be NULL) to `c`. The loops over the tile are unrolled in full so the accumulators
/// stay in registers (as in tile.h).
static inline __attribute__((always_inline)) void gemm_tile(
    const float *ap, const float *bp, long depth, const float *bias, bool accumulate, float *c, long ldc, long rows,
    long columns) {
    // The output rows come from memory at the end; asking for them now hides the wait (2-3%).
    for (long r = 0; r < rows; r++) {
        __builtin_prefetch(c + r * ldc, 1, 3);
        __builtin_prefetch(c + r * ldc + GEMM_COLUMNS - 1, 1, 3);
    }
    vf acc[CK_GEMM_ROWS][CK_GEMM_VECTORS];
    _Pragma("clang loop unroll(full)") for (int r = 0; r < CK_GEMM_ROWS; r++)
        _Pragma("clang loop unroll(full)") for (int v = 0; v < CK_GEMM_VECTORS; v++) acc[r][v] = 0;
    for (long k = 0; k < depth; k++) {
        vf b[CK_GEMM_VECTORS];
        _Pragma("clang loop unroll(full)") for (int v = 0; v < CK_GEMM_VECTORS; v++)
            b[v] = load(bp + k * GEMM_COLUMNS + v * CK_LANES);
        _Pragma("clang loop unroll(full)") for (int r = 0; r < CK_GEMM_ROWS; r++) {
            vf x = (vf)ap[k * CK_GEMM_ROWS + r];
            _Pragma("clang loop unroll(full)") for (int v = 0; v < CK_GEMM_VECTORS; v++) acc[r][v] = x * b[v] + acc[r][v];
        }
    }
    if (rows == CK_GEMM_ROWS && columns == GEMM_COLUMNS) {
        vf start[CK_GEMM_VECTORS];
        _Pragma("clang loop unroll(full)") for (int v = 0; v < CK_GEMM_VECTORS; v++)
            start[v] = bias && !accumulate ? load(bias + v * CK_LANES) : (vf)0;
        _Pragma("clang loop unroll(full)") for (int r = 0; r < CK_GEMM_ROWS; r++)
            _Pragma("clang loop unroll(full)") for (int v = 0; v < CK_GEMM_VECTORS; v++) {
                float *out = c + r * ldc + v * CK_LANES;
                store(out, acc[r][v] + (accumulate ? load(out) : start[v]));
            }
        return;
    }
    // An edge tile goes through a local copy: only its first rows and columns exist in `c`.
    float tile[CK_GEMM_ROWS][GEMM_COLUMNS];
    _Pragma("clang loop unroll(full)") for (int r = 0; r < CK_GEMM_ROWS; r++)
        _Pragma("clang loop unroll(full)") for (int v = 0; v < CK_GEMM_VECTORS; v++) store(&tile[r][v * CK_LANES], acc[r][v]);
    for (long r = 0; r < rows; r++)
        for (long j = 0; j < columns; j++) c[r * ldc + j] = tile[r][j] + (accumulate ? c[r * ldc + j] : bias ? bias[j] : 0);
}

static void gemm_block(
    const float *a, long lda, long rows, const float *packed_b, long depth, long columns, const float *bias,
    bool accumulate, float *c, long ldc, float *scratch) {
    for (long i0 = 0; i0 < rows; i0 += GEMM_ROW_BLOCK) {
        long block = rows - i0 < GEMM_ROW_BLOCK ? rows - i0 : GEMM_ROW_BLOCK;
        gemm_pack_a(a + i0 * lda, lda, block, depth, scratch);
        for (long j0 = 0; j0 < columns; j0 += GEMM_COLUMNS) {
            long width = columns - j0 < GEMM_COLUMNS ? columns - j0 : GEMM_COLUMNS;
            for (long r0 = 0; r0 < block; r0 += CK_GEMM_ROWS) {
                long count = block - r0 < CK_GEMM_ROWS ? block - r0 : CK_GEMM_ROWS;
                gemm_tile(scratch + r0 * depth, packed_b + j0 * depth, depth, bias ? bias + j0 : 0, accumulate,
                          c + (i0 + r0) * ldc + j0, ldc, count, width);
            }
        }
    }
}
