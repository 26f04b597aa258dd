// AVX2 + FMA: 8 lanes, a 6 x 16 tile in 12 of the 16 ymm registers (2 more for the panel's
// row, 1 for the broadcast), for the products and the direct convolution alike. F16C too: every
// AVX2 CPU has it (Intel since Ivy Bridge, AMD since Piledriver).
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#define CK_ISA avx2
#define CK_LANES 8
#define CK_TILE_ROWS 6
#define CK_TILE_VECTORS 2
#define CK_DIRECT_ROWS 6
#define CK_DIRECT_VECTORS 2
#include "kernels.h"
#pragma clang attribute pop
#endif
