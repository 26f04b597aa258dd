#define _GNU_SOURCE
#include "CPlatform.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

// CBLAS's enumerations (cblas.h): the same values in every implementation.
enum { row_major = 101, no_transpose = 111, transpose = 112 };

typedef void (*sgemm_function)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                               float *, int);

static void *library;
static sgemm_function sgemm;
static char *(*get_core)(void);
static void (*set_threads)(int);
static int (*get_threads)(void);
static char message[600];
// The thread count last given to the loaded library; 0 until one is.
static pthread_mutex_t threads_lock = PTHREAD_MUTEX_INITIALIZER;
static int threads_in_use;

const char *cplatform_openblas_open(void) {
    // The soname first (what Debian's libopenblas0 installs), then the development link.
    static const char *const names[] = {"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"};
    const char *error = "";
    for (size_t i = 0; i < sizeof names / sizeof names[0] && library == NULL; i++) {
        library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (library == NULL) error = dlerror();
    }
    if (library == NULL) {
        snprintf(message, sizeof message,
                 "OpenBLAS could not be loaded (%s); on Debian or Ubuntu: apt-get install libopenblas0", error);
        return message;
    }
    sgemm = (sgemm_function)dlsym(library, "cblas_sgemm");
    if (sgemm == NULL) {
        snprintf(message, sizeof message, "the loaded OpenBLAS has no cblas_sgemm: %s", dlerror());
        return message;
    }
    get_core = (char *(*)(void))dlsym(library, "openblas_get_corename");
    set_threads = (void (*)(int))dlsym(library, "openblas_set_num_threads");
    get_threads = (int (*)(void))dlsym(library, "openblas_get_num_threads");
    return NULL;
}

void cplatform_openblas_close(void) {
    if (library != NULL) dlclose(library);
    library = NULL;
    sgemm = NULL;
    get_core = NULL;
    set_threads = NULL;
    get_threads = NULL;
    threads_in_use = 0;
}

const char *cplatform_openblas_core(void) { return get_core == NULL ? NULL : get_core(); }

const char *cplatform_openblas_path(void) {
    Dl_info info;
    if (sgemm == NULL || dladdr((void *)sgemm, &info) == 0) return NULL;
    return info.dli_fname;
}

int cplatform_openblas_initial_threads(void) {
    int threads = get_threads == NULL ? 1 : get_threads();
    return threads < 1 ? 1 : threads;
}

void cplatform_openblas_use_threads(int threads) {
    if (set_threads == NULL) return;
    pthread_mutex_lock(&threads_lock);
    if (threads != threads_in_use) set_threads(threads);
    threads_in_use = threads;
    pthread_mutex_unlock(&threads_lock);
}

void cplatform_sgemm(bool transpose_a, bool transpose_b, int m, int n, int k, float alpha, const float *a, int lda,
                     const float *b, int ldb, float beta, float *c, int ldc) {
    sgemm(row_major, transpose_a ? transpose : no_transpose, transpose_b ? transpose : no_transpose, m, n, k, alpha,
          a, lda, b, ldb, beta, c, ldc);
}
