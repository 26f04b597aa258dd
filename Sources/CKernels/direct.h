// One register tile of the direct convolution (`direct_tile`, kernels.h), included once per tile
// width with DIRECT_NAME and DIRECT_VECTORS set: CK_DIRECT_ROWS output pixels x DIRECT_VECTORS
// vectors of output channels, summed over every kernel tap and input channel. Each pixel's input
// row under a tap is its own pointer (padding reads a zero row), so the rows are few enough for
// their pointers to stay in the general registers.
static inline __attribute__((always_inline)) void DIRECT_NAME(
    const float *const *rows, long taps, long depth, const float *w, long panel_stride, const float *bias, long count,
    long columns, float *c, long ldc) {
    vf acc[CK_DIRECT_ROWS][DIRECT_VECTORS];
    _Pragma("clang loop unroll(full)") for (int r = 0; r < CK_DIRECT_ROWS; r++)
        _Pragma("clang loop unroll(full)") for (int v = 0; v < DIRECT_VECTORS; v++) acc[r][v] = 0;
    for (long t = 0; t < taps; t++) {
        const float *p[CK_DIRECT_ROWS];
        _Pragma("clang loop unroll(full)") for (int r = 0; r < CK_DIRECT_ROWS; r++) p[r] = rows[t * CK_DIRECT_ROWS + r];
        // Tap t's weights: `depth` rows of 16 channels in each panel.
        const float *b = w + t * depth * 16;
        for (long i = 0; i < depth; i++) {
            vf x[DIRECT_VECTORS];
            _Pragma("clang loop unroll(full)") for (int v = 0; v < DIRECT_VECTORS; v++)
                x[v] = load(b + v * CK_LANES / 16 * panel_stride + v * CK_LANES % 16 + i * 16);
            _Pragma("clang loop unroll(full)") for (int r = 0; r < CK_DIRECT_ROWS; r++) {
                vf pixel = (vf)(p[r][i]);
                _Pragma("clang loop unroll(full)") for (int v = 0; v < DIRECT_VECTORS; v++) acc[r][v] = pixel * x[v] + acc[r][v];
            }
        }
    }
    _Pragma("clang loop unroll(full)") for (int v = 0; v < DIRECT_VECTORS; v++) {
        long first = v * CK_LANES;
        if (first >= columns) break;
        vf b = 0;
        if (bias) b = first + CK_LANES <= columns ? load(bias + first) : partial_load(bias + first, columns - first);
        _Pragma("clang loop unroll(full)") for (int r = 0; r < CK_DIRECT_ROWS; r++) {
            if (r >= count) break;
            float *out = c + r * ldc + first;
            if (first + CK_LANES <= columns) store(out, acc[r][v] + b);
            else partial_store(out, acc[r][v] + b, columns - first);
        }
    }
}
