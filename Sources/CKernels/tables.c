#include "CKernels.h"

// Each kernels_<isa>.c defines its table only on the architectures it builds for.
#if defined(__x86_64__)
extern const ckernels_table ckernels_avx2_table, ckernels_avx512_table;
#endif
#if defined(__aarch64__)
extern const ckernels_table ckernels_neon_table;
#endif
extern const ckernels_table ckernels_generic_table;

const ckernels_table *ckernels_table_for(ckernels_isa isa) {
    switch (isa) {
    case CKERNELS_GENERIC: return &ckernels_generic_table;
#if defined(__x86_64__)
    case CKERNELS_AVX2: return &ckernels_avx2_table;
    case CKERNELS_AVX512: return &ckernels_avx512_table;
#endif
#if defined(__aarch64__)
    case CKERNELS_NEON: return &ckernels_neon_table;
#endif
    default: return 0;
    }
}
