#ifndef CBF16_H
#define CBF16_H
#include <stdint.h>

/// Whether oneDNN runs bf16 matrix products on hardware instructions here (AVX512-BF16 or AMX).
int spt_bf16_hardware(void);

/// Round-to-nearest-even float → bfloat16, n values (with AVX512-BF16, subnormals become zero
/// as that instruction makes them).
void spt_f32_to_bf16(const float *src, uint16_t *dst, long n);

/// C[M,N] = alpha·op(A)·op(B) + beta·C, row-major; A in float (rounded to bf16 here, on this
/// thread), B already bf16, accumulation and C in float. Runs on the calling thread only.
/// Returns 0, or oneDNN's status when it refuses.
int spt_bf16_gemm(int transA, int transB, long M, long N, long K, float alpha,
                  const float *A, long lda, const uint16_t *B, long ldb, float beta, float *C, long ldc);

/// The same with both operands in float (both rounded to bf16 here): attention's products.
int spt_bf16_gemm_ff(int transA, int transB, long M, long N, long K, float alpha,
                     const float *A, long lda, const float *B, long ldb, float beta, float *C, long ldc);
/// The same with both operands already bf16 (activations a kernel wrote in bf16).
int spt_bf16_gemm_hh(int transA, int transB, long M, long N, long K, float alpha,
                     const uint16_t *A, long lda, const uint16_t *B, long ldb, float beta, float *C, long ldc);
#endif
