// What DiffusionCore asks of the machine in C: the CPU's cpuid facts, and OpenBLAS, loaded at
// run time rather than linked, so that its core type can be chosen before it initializes
// (Docs/PERFORMANCE.md, "Which sgemm runs").
#pragma once

#include <stdbool.h>
#include <stdint.h>

/// The four registers one cpuid leaf returns.
typedef struct {
    uint32_t eax, ebx, ecx, edx;
} cplatform_cpuid_registers;

/// cpuid leaf `leaf`, subleaf `subleaf`; all zero above the CPU's highest leaf and on CPUs
/// other than x86-64.
cplatform_cpuid_registers cplatform_cpuid(uint32_t leaf, uint32_t subleaf);

/// XCR0: the register states the OS saves across context switches (bits 1-2 for AVX, 5-7 for
/// AVX-512); 0 where the OS has not enabled xgetbv or the CPU is not x86-64.
uint64_t cplatform_xcr0(void);

/// Loads OpenBLAS (libopenblas.so.0, else libopenblas.so); its constructor runs now and reads
/// the OPENBLAS_* environment variables. Returns NULL on success, else the loader's message.
/// Not thread-safe: DiffusionCore calls it once, before any product.
const char *_Nullable cplatform_openblas_open(void);

/// Unloads OpenBLAS (its destructor stops its threads), so that the next open initializes a
/// fresh copy that reads the environment again.
void cplatform_openblas_close(void);

/// The core OpenBLAS chose (`openblas_get_corename`), or NULL if the library has no such call.
const char *_Nullable cplatform_openblas_core(void);

/// The file the library was loaded from, or NULL if unknown.
const char *_Nullable cplatform_openblas_path(void);

/// The thread count OpenBLAS started with (OPENBLAS_NUM_THREADS, else the cores), 1 where the
/// library cannot say.
int cplatform_openblas_initial_threads(void);

/// Has the following products run on `threads` threads (`openblas_set_num_threads`, called only
/// when the number changes), where the library can set it. Concurrent callers asking for different
/// numbers only change each other's speed: OpenBLAS splits a product by rows and columns, never
/// along the sum, so the results are the same on any number of threads.
void cplatform_openblas_use_threads(int threads);

/// Row-major `cblas_sgemm`: C = alpha op(A) op(B) + beta C.
void cplatform_sgemm(
    bool transpose_a, bool transpose_b, int m, int n, int k, float alpha,
    const float *_Nonnull a, int lda, const float *_Nonnull b, int ldb, float beta, float *_Nonnull c, int ldc);
