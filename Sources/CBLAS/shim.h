// OpenBLAS's CBLAS interface (Debian: libopenblas-dev).
#include <cblas.h>
// Not in every cblas.h: OpenBLAS's own thread-count control.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
