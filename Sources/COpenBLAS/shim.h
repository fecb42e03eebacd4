#include <cblas.h>
// Declared by OpenBLAS but not in every cblas.h.
char *openblas_get_corename(void);
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

// CPU features for choosing OpenBLAS kernels when its own detection fails (see BLASCore.swift).
static inline int spt_cpu_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
static inline int spt_cpu_has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}

// glibc: returns freed heap memory to the system (the benchmark's per-step peak memory).
#include <malloc.h>

// LAPACK's symmetric eigenvalues (OpenBLAS ships LAPACK; gfortran's hidden string lengths last).
void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
            double *work, const int *lwork, int *info, size_t jobz_len, size_t uplo_len);
