// bf16 matrix products through oneDNN (Debian's libdnnl 2.6): C for its struct-heavy C API.
// Primitives are cached by shape; each call runs on the calling thread (one OpenMP thread), as
// the engine's workers each take a block of rows — the same threading as its OpenBLAS path.
// Two workers may run one primitive at once, so each brings its own scratchpad (user mode: the
// library's own scratchpad belongs to the primitive and would be shared).
#include "CBF16.h"
#include <dnnl.h>
#include <immintrin.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void omp_set_num_threads(int);

int spt_bf16_hardware(void) {
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    return isa == dnnl_cpu_isa_avx512_core_bf16 || isa == dnnl_cpu_isa_avx512_core_amx;
}

// Round-to-nearest-even in integer arithmetic, where the instruction below is missing.
static void round_scalar(const float *src, uint16_t *dst, long n) {
    for (long i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &src[i], 4);
        if ((u & 0x7fffffff) > 0x7f800000) { dst[i] = (uint16_t)((u >> 16) | 0x40); continue; }  // NaN stays NaN
        u += 0x7fff + ((u >> 16) & 1);
        dst[i] = (uint16_t)(u >> 16);
    }
}

// The instruction made for this (VCVTNEPS2BF16: 16 values, round-to-nearest-even; subnormal
// inputs become zero): activations are rounded before every product, so this pass is hot.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
static void round_avx512(const float *src, uint16_t *dst, long n) {
    long i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(dst + i), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + i)));
    if (i < n) {  // the tail through the same instruction, masked
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm256_mask_storeu_epi16(dst + i, m, (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + i)));
    }
}

void spt_f32_to_bf16(const float *src, uint16_t *dst, long n) {
    static int vector = -1;
    if (vector < 0) vector = __builtin_cpu_supports("avx512bf16");
    if (vector) round_avx512(src, dst, n); else round_scalar(src, dst, n);
}

typedef struct {
    long M, N, K, lda, ldb, ldc;
    int transA, transB, accumulate;
    float alpha;
    dnnl_primitive_t prim;
    dnnl_memory_desc_t a, b, c, scratch_md;  // built once with the primitive, reused by every call
    size_t scratch_bytes;
} entry_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry_t *cache;
static int cached, capacity;
static dnnl_engine_t engine;

static __thread dnnl_stream_t stream;
static __thread uint16_t *scratch[2];
static __thread long scratch_size[2];
static __thread void *pad;
static __thread size_t pad_size;

static uint16_t *scratch_for(int i, long n) {
    if (scratch_size[i] < n) {
        free(scratch[i]);
        scratch[i] = malloc(2 * (size_t)n);
        scratch_size[i] = scratch[i] ? n : 0;
    }
    return scratch[i];
}

static dnnl_status_t desc(dnnl_memory_desc_t *d, long rows, long cols, long ld, int trans, dnnl_data_type_t t) {
    // op(X) is rows × cols; stored row-major with leading dimension ld, transposed or not.
    dnnl_dims_t dims = {rows, cols};
    dnnl_dims_t strides = {trans ? 1 : ld, trans ? ld : 1};
    return dnnl_memory_desc_init_by_strides(d, 2, dims, t, strides);
}

static const entry_t *primitive(int transA, int transB, long M, long N, long K, float alpha,
                                long lda, long ldb, long ldc, int accumulate, dnnl_status_t *status) {
    pthread_mutex_lock(&lock);
    for (int i = 0; i < cached; i++) {
        entry_t *e = &cache[i];
        if (e->M == M && e->N == N && e->K == K && e->lda == lda && e->ldb == ldb && e->ldc == ldc && e->transA == transA
            && e->transB == transB && e->accumulate == accumulate && e->alpha == alpha) {
            pthread_mutex_unlock(&lock);
            return e;
        }
    }
    dnnl_primitive_t p = NULL;
    dnnl_memory_desc_t a, b, c;
    dnnl_matmul_desc_t md;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    dnnl_primitive_desc_t pd = NULL;
    *status = dnnl_success;
    if (!engine) *status = dnnl_engine_create(&engine, dnnl_cpu, 0);
    if (*status == dnnl_success) *status = desc(&a, M, K, lda, transA, dnnl_bf16);
    if (*status == dnnl_success) *status = desc(&b, K, N, ldb, transB, dnnl_bf16);
    if (*status == dnnl_success) *status = desc(&c, M, N, ldc, 0, dnnl_f32);
    if (*status == dnnl_success) *status = dnnl_matmul_desc_init(&md, &a, &b, NULL, &c);
    if (*status == dnnl_success) *status = dnnl_primitive_attr_create(&attr);
    if (*status == dnnl_success) *status = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (*status == dnnl_success && alpha != 1) *status = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &alpha);
    if (*status == dnnl_success && accumulate) {
        *status = dnnl_post_ops_create(&ops);
        if (*status == dnnl_success) *status = dnnl_post_ops_append_sum(ops, 1.0f);
        if (*status == dnnl_success) *status = dnnl_primitive_attr_set_post_ops(attr, ops);
    }
    if (*status == dnnl_success) *status = dnnl_primitive_desc_create(&pd, &md, attr, engine, NULL);
    if (*status == dnnl_success) *status = dnnl_primitive_create(&p, pd);
    dnnl_memory_desc_t scratch_md = {0};
    if (p) scratch_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (ops) dnnl_post_ops_destroy(ops);
    if (attr) dnnl_primitive_attr_destroy(attr);
    entry_t *e = NULL;
    if (p) {
        if (cached == capacity) {
            // Entries never move: a grown cache keeps the old block (returned pointers stay valid).
            entry_t *grown = malloc(sizeof(entry_t) * (capacity ? 2 * capacity : 64));
            if (cached) memcpy(grown, cache, sizeof(entry_t) * cached);
            cache = grown;
            capacity = capacity ? 2 * capacity : 64;
        }
        e = &cache[cached++];
        *e = (entry_t){M, N, K, lda, ldb, ldc, transA, transB, accumulate, alpha, p, a, b, c, scratch_md,
                       dnnl_memory_desc_get_size(&scratch_md)};
    }
    pthread_mutex_unlock(&lock);
    return e;
}

static int run(int transA, int transB, long M, long N, long K, float alpha, const uint16_t *A, long lda,
               const uint16_t *B, long ldb, float beta, float *C, long ldc) {
    if (beta != 0 && beta != 1) return dnnl_unimplemented;
    dnnl_status_t s = dnnl_success;
    const entry_t *e = primitive(transA, transB, M, N, K, alpha, lda, ldb, ldc, beta == 1, &s);
    if (!e) return s;
    if (pad_size < e->scratch_bytes) {
        free(pad);
        pad = malloc(e->scratch_bytes);
        pad_size = pad ? e->scratch_bytes : 0;
        if (!pad) return dnnl_out_of_memory;
    }
    omp_set_num_threads(1);
    if (!stream && (s = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags)) != dnnl_success) return s;
    dnnl_memory_t ma = NULL, mb = NULL, mc = NULL, ms = NULL;
    if ((s = dnnl_memory_create(&ma, &e->a, engine, (void *)A)) == dnnl_success
        && (s = dnnl_memory_create(&mb, &e->b, engine, (void *)B)) == dnnl_success
        && (s = dnnl_memory_create(&mc, &e->c, engine, C)) == dnnl_success
        && (s = dnnl_memory_create(&ms, &e->scratch_md, engine, pad)) == dnnl_success) {
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}, {DNNL_ARG_SCRATCHPAD, ms}};
        s = dnnl_primitive_execute(e->prim, stream, 4, args);
        if (s == dnnl_success) s = dnnl_stream_wait(stream);
    }
    if (ma) dnnl_memory_destroy(ma);
    if (mb) dnnl_memory_destroy(mb);
    if (mc) dnnl_memory_destroy(mc);
    if (ms) dnnl_memory_destroy(ms);
    return s;
}

/// op(X) of rows × cols with leading dimension ld, rounded to bf16 into a dense scratch (ld = cols or rows).
static const uint16_t *rounded(int slot, const float *X, long rows, long cols, long ld, int trans, long *dense_ld) {
    long outer = trans ? cols : rows, inner = trans ? rows : cols;
    uint16_t *s = scratch_for(slot, outer * inner);
    if (!s) return NULL;
    for (long i = 0; i < outer; i++) spt_f32_to_bf16(X + i * ld, s + i * inner, inner);
    *dense_ld = inner;
    return s;
}

int spt_bf16_gemm(int transA, int transB, long M, long N, long K, float alpha, const void *A, int a16, long lda,
                  const void *B, int b16, long ldb, float beta, float *C, long ldc) {
    long la = lda, lb = ldb;
    const uint16_t *a = a16 ? A : rounded(0, A, M, K, lda, transA, &la);
    const uint16_t *b = b16 ? B : rounded(1, B, K, N, ldb, transB, &lb);
    if (!a || !b) return dnnl_out_of_memory;
    return run(transA, transB, M, N, K, alpha, a, la, b, lb, beta, C, ldc);
}
