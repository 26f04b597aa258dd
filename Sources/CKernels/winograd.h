// Winograd's F(2x2, 3x3) and F(4x4, 3x3) transforms (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2015), on vectors of channels (NHWC); DiffusionCore's
// `Conv2D+Winograd.swift` drives them around its matrix products. Each 2-D transform is the 1-D
// one down the columns, then along the rows. Included by kernels.h.

#define AI static inline __attribute__((always_inline))

/// `n` floats from `p` (all CK_LANES when `n` is, a constant once inlined); the rest zero.
AI vf load_n(const float *p, long n) { return n == CK_LANES ? load(p) : partial_load(p, n); }

AI void store_n(float *p, vf v, long n) {
    if (n == CK_LANES) store(p, v);
    else partial_store(p, v, n);
}

// F(2x2): interpolation points 0, ±1, ∞; entries 0, ±1 and ±1/2, so only the weights' halving
// multiplies.

/// G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]] on three taps.
AI void g_2(vf g0, vf g1, vf g2, vf o[4]) {
    o[0] = g0;
    o[1] = (g0 + g1 + g2) * 0.5f;
    o[2] = (g0 - g1 + g2) * 0.5f;
    o[3] = g2;
}

/// B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]] on four pixels.
AI void bt_2(const vf d[4], vf o[4]) {
    o[0] = d[0] - d[2];
    o[1] = d[1] + d[2];
    o[2] = d[2] - d[1];
    o[3] = d[1] - d[3];
}

/// A^T = [[1, 1, 1, 0], [0, 1, -1, -1]] on four positions.
AI void at_2(const vf m[4], vf o[2]) {
    o[0] = m[0] + m[1] + m[2];
    o[1] = m[1] - m[2] - m[3];
}

// F(4x4), with Lavin & Gray's matrices (points 0, ±1, ±2, ∞). Their fractions are all in G, which
// runs once per weight per call, so B^T and A^T have small integer entries: the input and output
// transforms, which run per tile, multiply only by powers of two, exactly, and round only their
// additions (Docs/PERFORMANCE.md has the error this leaves).

/// G = [[1/4, 0, 0], [-1/6, -1/6, -1/6], [-1/6, 1/6, -1/6], [1/24, 1/12, 1/6], [1/24, -1/12, 1/6],
/// [0, 0, 1]] on three taps.
AI void g_4(vf g0, vf g1, vf g2, vf o[6]) {
    vf outer = g0 + g2, even = g0 * (1.0f / 24) + g2 * (1.0f / 6), odd = g1 * (1.0f / 12);
    o[0] = g0 * 0.25f;
    o[1] = (outer + g1) * (-1.0f / 6);
    o[2] = (outer - g1) * (-1.0f / 6);
    o[3] = even + odd;
    o[4] = even - odd;
    o[5] = g2;
}

/// B^T = [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0],
/// [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]] on six pixels; 4 d0 - 5 d2 + d4 is written
/// 4 (d0 - d2) + (d4 - d2), and the last row likewise, so every multiplication is by a power of two.
AI void bt_4(const vf d[6], vf o[6]) {
    vf even = d[4] - d[2], odd = (d[3] - d[1]) * 2;
    o[0] = (d[0] - d[2]) * 4 + even;
    o[1] = (d[3] + d[4]) - (d[1] + d[2]) * 4;
    o[2] = (d[4] - d[3]) + (d[1] - d[2]) * 4;
    o[3] = even + odd;
    o[4] = even - odd;
    o[5] = (d[1] - d[3]) * 4 + (d[5] - d[3]);
}

/// A^T = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]] on six
/// positions.
AI void at_4(const vf m[6], vf o[4]) {
    vf sum12 = m[1] + m[2], difference12 = m[1] - m[2], sum34 = m[3] + m[4], difference34 = m[3] - m[4];
    o[0] = m[0] + sum12 + sum34;
    o[1] = difference12 + difference34 * 2;
    o[2] = sum12 + sum34 * 4;
    o[3] = difference12 + difference34 * 8 + m[5];
}

/// `G g G^T` for one vector of `n` channels: tap (r, c) at g[(3 r + c) tap_stride], position k to
/// out[k position_stride].
AI void weights_vector(const long side, const float *g, long tap_stride, float *out, long position_stride, long n) {
    enum { most = 6 };
    const long size = side + 2;
    vf columns[3][most], row[most];
    // G g, a column at a time; then each row of G g, times G^T.
    _Pragma("clang loop unroll(full)") for (int c = 0; c < 3; c++) {
        vf t0 = load_n(g + c * tap_stride, n), t1 = load_n(g + (3 + c) * tap_stride, n), t2 = load_n(g + (6 + c) * tap_stride, n);
        if (side == 2) g_2(t0, t1, t2, columns[c]);
        else g_4(t0, t1, t2, columns[c]);
    }
    _Pragma("clang loop unroll(full)") for (long r = 0; r < size; r++) {
        if (side == 2) g_2(columns[0][r], columns[1][r], columns[2][r], row);
        else g_4(columns[0][r], columns[1][r], columns[2][r], row);
        _Pragma("clang loop unroll(full)") for (long k = 0; k < size; k++) store_n(out + (r * size + k) * position_stride, row[k], n);
    }
}

/// `B^T d B` for one vector of `n` channels from `channel`: patch pixel k at patch[k] (NULL
/// outside the image, read as zeros), position k to out[k position_stride].
AI void input_vector(const long side, const float *const *patch, long channel, float *out, long position_stride, long n) {
    enum { most = 6 };
    const long size = side + 2;
    vf columns[most][most], column[most], row[most];
    // B^T d, a column at a time; then each row of B^T d, times B.
    _Pragma("clang loop unroll(full)") for (long c = 0; c < size; c++) {
        _Pragma("clang loop unroll(full)") for (long r = 0; r < size; r++) {
            const float *pixel = patch[r * size + c];
            column[r] = pixel ? load_n(pixel + channel, n) : (vf)0;
        }
        if (side == 2) bt_2(column, columns[c]);
        else bt_4(column, columns[c]);
    }
    _Pragma("clang loop unroll(full)") for (long r = 0; r < size; r++) {
        _Pragma("clang loop unroll(full)") for (long c = 0; c < size; c++) column[c] = columns[c][r];
        if (side == 2) bt_2(column, row);
        else bt_4(column, row);
        _Pragma("clang loop unroll(full)") for (long k = 0; k < size; k++) store_n(out + (r * size + k) * position_stride, row[k], n);
    }
}

/// `A^T m A + bias` for one vector of `n` channels: position k at m[k position_stride]; output
/// pixel (r, c), for r < rows and c < columns, to out[r row_stride + c pixel_stride].
AI void output_vector(
    const long side, const float *m, long position_stride, vf bias, float *out, long rows, long columns, long row_stride,
    long pixel_stride, long n) {
    enum { most = 6 };
    const long size = side + 2;
    vf reduced[most][4], column[most], row[4];
    // A^T m, a column at a time; then each row of A^T m, times A.
    _Pragma("clang loop unroll(full)") for (long c = 0; c < size; c++) {
        _Pragma("clang loop unroll(full)") for (long r = 0; r < size; r++) column[r] = load_n(m + (r * size + c) * position_stride, n);
        if (side == 2) at_2(column, reduced[c]);
        else at_4(column, reduced[c]);
    }
    // Edge tiles write only their pixels inside the image.
    _Pragma("clang loop unroll(full)") for (long r = 0; r < side; r++) {
        _Pragma("clang loop unroll(full)") for (long c = 0; c < size; c++) column[c] = reduced[c][r];
        if (side == 2) at_2(column, row);
        else at_4(column, row);
        _Pragma("clang loop unroll(full)") for (long c = 0; c < side; c++) {
            if (r < rows && c < columns) store_n(out + r * row_stride + c * pixel_stride, row[c] + bias, n);
        }
    }
}

// The table's entries: whole vectors, then one short vector for the last channels. Each runs
// its loop with `side` a constant, so the transforms unroll to straight code in registers.

AI void weights_all(const long side, const float *g, long tap_stride, long count, float *out, long position_stride) {
    long j = 0;
    for (; j + CK_LANES <= count; j += CK_LANES) weights_vector(side, g + j, tap_stride, out + j, position_stride, CK_LANES);
    if (j < count) weights_vector(side, g + j, tap_stride, out + j, position_stride, count - j);
}

static void winograd_weights(long side, const float *g, long tap_stride, long count, float *out, long position_stride) {
    if (side == 2) weights_all(2, g, tap_stride, count, out, position_stride);
    else weights_all(4, g, tap_stride, count, out, position_stride);
}

AI void input_all(const long side, const float *const *patch, long count, float *out, long position_stride) {
    long j = 0;
    for (; j + CK_LANES <= count; j += CK_LANES) input_vector(side, patch, j, out + j, position_stride, CK_LANES);
    if (j < count) input_vector(side, patch, j, out + j, position_stride, count - j);
}

static void winograd_input(long side, const float *const *patch, long count, float *out, long position_stride) {
    if (side == 2) input_all(2, patch, count, out, position_stride);
    else input_all(4, patch, count, out, position_stride);
}

AI void output_all(
    const long side, const float *m, long position_stride, const float *bias, long count, float *out, long rows,
    long columns, long row_stride, long pixel_stride) {
    long j = 0;
    for (; j + CK_LANES <= count; j += CK_LANES) {
        vf b = bias ? load(bias + j) : (vf)0;
        output_vector(side, m + j, position_stride, b, out + j, rows, columns, row_stride, pixel_stride, CK_LANES);
    }
    if (j < count) {
        vf b = bias ? partial_load(bias + j, count - j) : (vf)0;
        output_vector(side, m + j, position_stride, b, out + j, rows, columns, row_stride, pixel_stride, count - j);
    }
}

static void winograd_output(
    long side, const float *m, long position_stride, const float *bias, long count, float *out, long rows, long columns,
    long row_stride, long pixel_stride) {
    if (side == 2) output_all(2, m, position_stride, bias, count, out, rows, columns, row_stride, pixel_stride);
    else output_all(4, m, position_stride, bias, count, out, rows, columns, row_stride, pixel_stride);
}

#undef AI
