// NEON (arm64's baseline, so no target pragma): 4 lanes, a 6 x 16 tile in 24 of the 32 registers
// (products and direct convolution).
#if defined(__aarch64__)
#define CK_ISA neon
#define CK_LANES 4
#define CK_TILE_ROWS 6
#define CK_TILE_VECTORS 4
#define CK_DIRECT_ROWS 6
#define CK_DIRECT_VECTORS 4
#include "kernels.h"
#endif
