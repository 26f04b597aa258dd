// One register tile of `panel_product` (kernels.h), included once per tile width with TILE_NAME
// and TILE_VECTORS set: CK_TILE_ROWS rows x TILE_VECTORS vectors of accumulators, each step of the
// sum one vector load per column vector and one broadcast per row. The loops over the tile are
// unrolled in full so the accumulators stay in registers (left to itself, clang kept AVX-512's
// 28 on the stack, at half the speed). `full` (a constant at each call) reads the rows as
// `a[r * lda + i]` when all are present.
static inline __attribute__((always_inline)) void TILE_NAME(
    const float *a, long lda, long rows, const float *b, long panel_stride, long depth, float alpha,
    bool accumulate, float *c, long ldc, const bool full) {
    // Rows past `rows` repeat the last one (read, never stored), so the loop has one shape.
    const float *p[CK_TILE_ROWS];
    _Pragma("clang loop unroll(full)") for (int r = 0; r < CK_TILE_ROWS; r++) p[r] = a + (r < rows ? r : rows - 1) * lda;
    vf acc[CK_TILE_ROWS][TILE_VECTORS];
    _Pragma("clang loop unroll(full)") for (int r = 0; r < CK_TILE_ROWS; r++)
        _Pragma("clang loop unroll(full)") for (int v = 0; v < TILE_VECTORS; v++) acc[r][v] = 0;
    for (long i = 0; i < depth; i++) {
        vf w[TILE_VECTORS];
        // Vector v holds columns v * CK_LANES onwards: panel v * CK_LANES / 16, at that offset in it.
        _Pragma("clang loop unroll(full)") for (int v = 0; v < TILE_VECTORS; v++)
            w[v] = load(b + v * CK_LANES / 16 * panel_stride + v * CK_LANES % 16 + i * 16);
        _Pragma("clang loop unroll(full)") for (int r = 0; r < CK_TILE_ROWS; r++) {
            vf x = (vf)(full ? a[r * lda + i] : p[r][i]);
            _Pragma("clang loop unroll(full)") for (int v = 0; v < TILE_VECTORS; v++) acc[r][v] = x * w[v] + acc[r][v];
        }
    }
    _Pragma("clang loop unroll(full)") for (int r = 0; r < CK_TILE_ROWS; r++) {
        if (r >= rows) break;
        _Pragma("clang loop unroll(full)") for (int v = 0; v < TILE_VECTORS; v++) {
            float *out = c + r * ldc + v * CK_LANES;
            vf result = acc[r][v] * alpha;
            if (accumulate) result += load(out);
            store(out, result);
        }
    }
}
