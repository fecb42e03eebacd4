/// The transformer's input sequence and its gradient (a forward/backward pair, llm.c style),
/// shared by the classifier and the MAE encoder. Per image, rows are [class token?, registers…,
/// `gap` empty rows (the classifier's prompt slots), n patches…]; patch row r of image b is patch
/// embedding emb[b, r] plus the position row of patch `patch(b, r)` (the MAE keeps a subset).
/// Class and register tokens get their own position rows unless `no_embed_class`.
struct TokenEmbedding {
    let config: ViTConfig

    /// Writes the sequences into x ([B, T, D], T = prefix + gap + n); the gap rows are zero.
    func forward(_ x: FPtr, params: ParameterSet, emb: FPtr, B: Int, n: Int, gap: Int, patch: (Int, Int) -> Int) {
        let c = config, D = c.dim, P = c.prefixTokens, T = P + gap + n
        let pos = params.ptr("pos_embed"), patchPos = pos + (c.posEmbedPrefix ? P : 0) * D
        var prefix = [Float](repeating: 0, count: P * D)
        if c.classToken { for d in 0..<D { prefix[d] = params.ptr("cls_token")[d] } }
        if c.registers > 0 {
            let r = params.ptr("reg_token"), o = c.classToken ? D : 0
            for i in 0..<(c.registers * D) { prefix[o + i] = r[i] }
        }
        if c.posEmbedPrefix { for i in 0..<(P * D) { prefix[i] += pos[i] } }
        for b in 0..<B {
            let seq = x + b * T * D
            prefix.withUnsafeBufferPointer { seq.update(from: $0.baseAddress!, count: P * D) }
            (seq + P * D).update(repeating: 0, count: gap * D)
            for r in 0..<n {
                let dst = seq + (P + gap + r) * D, e = emb + (b * n + r) * D, p = patchPos + patch(b, r) * D
                for d in 0..<D { dst[d] = e[d] + p[d] }
            }
        }
    }

    /// From the sequences' gradient dx: the patch rows into demb ([B, n, D], overwritten), and,
    /// when `grads` is given, the class, register and (if `positions`) position gradients accumulated.
    func backward(_ dx: FPtr, grads: ParameterSet?, positions: Bool, demb: FPtr, B: Int, n: Int, gap: Int, patch: (Int, Int) -> Int) {
        let c = config, D = c.dim, P = c.prefixTokens, T = P + gap + n
        for b in 0..<B { (demb + b * n * D).update(from: dx + (b * T + P + gap) * D, count: n * D) }
        guard let g = grads else { return }
        let dpos = positions ? g.ptr("pos_embed") : nil
        for b in 0..<B {
            let seq = dx + b * T * D
            if c.classToken { let d = g.ptr("cls_token"); for i in 0..<D { d[i] += seq[i] } }
            if c.registers > 0 {
                let d = g.ptr("reg_token"), src = seq + (c.classToken ? D : 0)
                for i in 0..<(c.registers * D) { d[i] += src[i] }
            }
            guard let dpos else { continue }
            if c.posEmbedPrefix { for i in 0..<(P * D) { dpos[i] += seq[i] } }
            let dpatch = dpos + (c.posEmbedPrefix ? P : 0) * D
            for r in 0..<n {
                let src = seq + (P + gap + r) * D, p = dpatch + patch(b, r) * D
                for d in 0..<D { p[d] += src[d] }
            }
        }
    }
}
