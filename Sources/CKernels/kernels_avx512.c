// AVX-512: 16 lanes, a 14 x 32 tile (two panels) in 28 of the 32 zmm registers, and a 14 x 16
// one for a last single panel (SD1.5's 40-wide heads pad to 48 columns: 32 + 16). The direct
// convolution's tile is 8 pixels x 32 channels: its pixels' row pointers change with each kernel
// tap, and 8 fit the general registers where 14 would not.
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c"))), apply_to = function)
#define CK_ISA avx512
#define CK_LANES 16
#define CK_TILE_ROWS 14
#define CK_TILE_VECTORS 2
#define CK_NARROW
#define CK_DIRECT_ROWS 8
#define CK_DIRECT_VECTORS 2
#include "kernels.h"
#pragma clang attribute pop
#endif
