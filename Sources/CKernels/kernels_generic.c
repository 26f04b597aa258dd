// The portable path: the compiler's baseline vectors (SSE2 on x86-64, NEON on arm64), 4 lanes,
// a 3 x 16 tile that fits SSE's 16 registers (products and direct convolution).
#define CK_ISA generic
#define CK_LANES 4
#define CK_TILE_ROWS 3
#define CK_TILE_VECTORS 4
#define CK_DIRECT_ROWS 3
#define CK_DIRECT_VECTORS 4
#include "kernels.h"
