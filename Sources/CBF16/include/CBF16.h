#ifndef CBF16_H
#define CBF16_H
#include <stdint.h>

/// Whether oneDNN runs bf16 matrix products on hardware instructions here (AVX512-BF16 or AMX).
int spt_bf16_hardware(void);

/// Round-to-nearest-even float → bfloat16, n values (with AVX512-BF16, subnormals become zero
/// as that instruction makes them).
void spt_f32_to_bf16(const float *src, uint16_t *dst, long n);

/// C[M,N] = alpha·op(A)·op(B) + beta·C, row-major, accumulation and C in float; each operand
/// either float (rounded to bf16 here, on this thread: `a16`/`b16` zero) or already bf16. Runs on
/// the calling thread only. Returns 0, or oneDNN's status when it refuses.
int spt_bf16_gemm(int transA, int transB, long M, long N, long K, float alpha, const void *A, int a16, long lda,
                  const void *B, int b16, long ldb, float beta, float *C, long ldc);
#endif
