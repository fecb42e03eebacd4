import CBF16
import COpenBLAS

// The only file that talks to BLAS or oneDNN. Weights are stored PyTorch-style as [out, in].
// Under `--precision bf16` (autocast's recipe) products with a frozen weight read its bf16 copy
// and round the activations to bf16, accumulating in fp32; attention's products round both.

public typealias BF16Ptr = UnsafePointer<UInt16>

/// C[M,N] = alpha·op(A)·op(B) + beta·C, row-major, with explicit leading dimensions so that
/// callers can address sub-blocks without copying. Large products are split by rows of C across
/// `Parallel.threads` workers, each calling single-threaded OpenBLAS: OpenBLAS's own threads
/// busy-wait between calls and fight the Swift workers for the same cores. `bf16` rounds both
/// operands to bf16 (fp32 accumulation).
public func gemm(transA: Bool = false, transB: Bool = false, M: Int, N: Int, K: Int,
                 alpha: Float = 1, _ A: FPtr, lda: Int, _ B: FPtr, ldb: Int,
                 beta: Float = 0, _ C: FPtr, ldc: Int, bf16: Bool = false) {
    let minRows = max(16, 1 << 21 / max(1, N * K)) // keep each piece ≳ 4 MFLOP
    Parallel.chunks(M, minChunk: minRows) { _, rows in
        gemmSerial(transA: transA, transB: transB, M: rows.count, N: N, K: K, alpha: alpha,
                   transA ? A + rows.lowerBound : A + rows.lowerBound * lda, lda: lda, B, ldb: ldb,
                   beta: beta, C + rows.lowerBound * ldc, ldc: ldc, bf16: bf16)
    }
}

/// `gemm` on the calling thread only, for small products inside a worker (one attention head);
/// `bf16` rounds both operands to bf16 (fp32 accumulation).
@inline(__always)
public func gemmSerial(transA: Bool = false, transB: Bool = false, M: Int, N: Int, K: Int,
                       alpha: Float = 1, _ A: FPtr, lda: Int, _ B: FPtr, ldb: Int,
                       beta: Float = 0, _ C: FPtr, ldc: Int, bf16: Bool = false) {
    if bf16 {
        gemmSerialBF16(transA: transA, transB: transB, M: M, N: N, K: K, alpha: alpha, .f32(A), lda: lda, .f32(B), ldb: ldb,
                       beta: beta, C, ldc: ldc)
        return
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(M), Int32(N), Int32(K), alpha, A, Int32(lda), B, Int32(ldb), beta, C, Int32(ldc))
}

/// A bf16 product's operand: fp32 values rounded on the way in, or values already bf16 (an
/// activation its kernel wrote rounded, a frozen weight's copy).
public enum BF16Operand {
    case f32(FPtr)
    case bf16(BF16Ptr)

    func advanced(by n: Int) -> BF16Operand {
        switch self {
        case .f32(let p): .f32(p + n)
        case .bf16(let p): .bf16(p + n)
        }
    }

    /// The pointer and the "already bf16" flag the C entry takes.
    var c: (UnsafeRawPointer, Int32) {
        switch self {
        case .f32(let p): (UnsafeRawPointer(p), 0)
        case .bf16(let p): (UnsafeRawPointer(p), 1)
        }
    }
}

/// A bf16 product on the calling thread (fp32 accumulation), each operand rounded unless it is
/// bf16 already.
@inline(__always)
public func gemmSerialBF16(transA: Bool = false, transB: Bool = false, M: Int, N: Int, K: Int, alpha: Float = 1,
                           _ A: BF16Operand, lda: Int, _ B: BF16Operand, ldb: Int, beta: Float = 0, _ C: FPtr, ldc: Int) {
    let (a, a16) = A.c, (b, b16) = B.c
    let s = spt_bf16_gemm(transA ? 1 : 0, transB ? 1 : 0, M, N, K, alpha, a, a16, lda, b, b16, ldb, beta, C, ldc)
    precondition(s == 0, "oneDNN bf16 product failed (status \(s))")
}

/// C[M,N] = op(A)·op(B) + beta·C with B already bf16 (a frozen weight's copy, or an activation
/// stored in bf16) and A rounded to bf16 unless it is already; rows of C split across the workers
/// as `gemm` splits them.
public func gemmBF16(transA: Bool = false, transB: Bool, M: Int, N: Int, K: Int, _ A: BF16Operand, lda: Int, _ B: BF16Ptr, ldb: Int,
                     beta: Float = 0, _ C: FPtr, ldc: Int) {
    let minRows = max(16, 1 << 21 / max(1, N * K))
    Parallel.chunks(M, minChunk: minRows) { _, rows in
        gemmSerialBF16(transA: transA, transB: transB, M: rows.count, N: N, K: K,
                       A.advanced(by: transA ? rows.lowerBound : rows.lowerBound * lda), lda: lda, .bf16(B), ldb: ldb,
                       beta: beta, C + rows.lowerBound * ldc, ldc: ldc)
    }
}

/// Writes the bias and residual into out (the product then accumulates onto them: a residual
/// connection costs no separate pass); returns the product's beta.
private func prefill(_ out: FPtr, _ bias: FPtr?, _ residual: FPtr?, M: Int, N: Int) -> Float {
    guard bias != nil || residual != nil else { return 0 }
    Parallel.chunks(M, minChunk: 64) { _, rows in
        for r in rows {
            let o = out + r * N
            switch (bias, residual) {
            case let (b?, x?): let xr = x + r * N; for j in 0..<N { o[j] = xr[j] + b[j] }
            case let (b?, nil): o.update(from: b, count: N)
            case let (nil, x?): o.update(from: x + r * N, count: N)
            case (nil, nil): break
            }
        }
    }
    return 1
}

/// out[M,N] = inp[M,K] · weight[N,K]ᵀ + bias[N] (+ residual[M,N]).
public func matmulForward(_ out: FPtr, _ inp: FPtr, _ weight: FPtr, _ bias: FPtr?, M: Int, K: Int, N: Int,
                          residual: FPtr? = nil, weight16: BF16Ptr? = nil) {
    let beta = prefill(out, bias, residual, M: M, N: N)
    if let weight16 {
        gemmBF16(transB: true, M: M, N: N, K: K, .f32(inp), lda: K, weight16, ldb: K, beta: beta, out, ldc: N)
    } else {
        gemm(transB: true, M: M, N: N, K: K, inp, lda: K, weight, ldb: K, beta: beta, out, ldc: N)
    }
}

/// The same product with its input already bf16 (`--precision bf16`).
public func matmulForward(_ out: FPtr, _ inp16: BF16Ptr, weight16: BF16Ptr, _ bias: FPtr?, M: Int, K: Int, N: Int, residual: FPtr? = nil) {
    let beta = prefill(out, bias, residual, M: M, N: N)
    gemmBF16(transB: true, M: M, N: N, K: K, .bf16(inp16), lda: K, weight16, ldb: K, beta: beta, out, ldc: N)
}

/// Accumulates dinp[M,K] += dout·weight, dweight[N,K] += doutᵀ·inp, dbias[N] += Σ_rows dout.
/// Any gradient may be nil: frozen layers pass nil weight gradients and only propagate dinp.
/// With `weight16` (bf16) both products round their inputs, as autocast's backward does.
/// `accumulateInput: false` overwrites dinp instead (saves zeroing a scratch buffer first).
public func matmulBackward(dinp: FPtr?, dweight: FPtr?, dbias: FPtr?,
                           _ dout: FPtr, _ inp: FPtr, _ weight: FPtr, M: Int, K: Int, N: Int,
                           accumulateInput: Bool = true, weight16: BF16Ptr? = nil) {
    if let dinp {
        if let weight16 {
            gemmBF16(transB: false, M: M, N: K, K: N, .f32(dout), lda: N, weight16, ldb: K, beta: accumulateInput ? 1 : 0, dinp, ldc: K)
        } else {
            gemm(M: M, N: K, K: N, dout, lda: N, weight, ldb: K, beta: accumulateInput ? 1 : 0, dinp, ldc: K)
        }
    }
    if let dweight {
        gemm(transA: true, M: N, N: K, K: M, dout, lda: N, inp, ldb: K, beta: 1, dweight, ldc: K, bf16: weight16 != nil)
    }
    if let dbias {
        columnSums(into: dbias, dout, rows: M, cols: N)
    }
}

/// The backward of a bf16 product whose input was stored in bf16; `dout` fp32 (rounded on the
/// way in) or already bf16 — then without a bias gradient, which sums the fp32 values.
public func matmulBackward(dinp: FPtr?, dweight: FPtr?, dbias: FPtr?, _ dout: BF16Operand, inp16: BF16Ptr, weight16: BF16Ptr,
                           M: Int, K: Int, N: Int, accumulateInput: Bool = true) {
    if let dinp {
        gemmBF16(transB: false, M: M, N: K, K: N, dout, lda: N, weight16, ldb: K, beta: accumulateInput ? 1 : 0, dinp, ldc: K)
    }
    if let dweight {
        gemmBF16(transA: true, transB: false, M: N, N: K, K: M, dout, lda: N, inp16, ldb: K, beta: 1, dweight, ldc: K)
    }
    if let dbias {
        guard case .f32(let d) = dout else { preconditionFailure("a bias gradient needs the fp32 output gradient") }
        columnSums(into: dbias, d, rows: M, cols: N)
    }
}

/// acc[c] += Σ_r x[r, c], deterministic for a given thread count.
public func columnSums(into acc: FPtr, _ x: FPtr, rows: Int, cols: Int) {
    let chunks = Parallel.chunkCount(rows, minChunk: 256)
    let partial = FPtr.allocate(capacity: chunks * cols)
    defer { partial.deallocate() }
    partial.initialize(repeating: 0, count: chunks * cols)
    Parallel.chunks(rows, minChunk: 256) { t, range in
        let p = partial + t * cols
        for r in range {
            let row = x + r * cols
            for c in 0..<cols { p[c] += row[c] }
        }
    }
    for t in 0..<chunks {
        let p = partial + t * cols
        for c in 0..<cols { acc[c] += p[c] }
    }
}

/// The slow, obvious matmul: the oracle the BLAS path is tested against.
public func naiveMatmul(_ out: FPtr, _ inp: FPtr, _ weight: FPtr, _ bias: FPtr?, M: Int, K: Int, N: Int) {
    for m in 0..<M {
        for n in 0..<N {
            var s: Double = bias.map { Double($0[n]) } ?? 0
            for k in 0..<K { s += Double(inp[m * K + k]) * Double(weight[n * K + k]) }
            out[m * N + n] = Float(s)
        }
    }
}
