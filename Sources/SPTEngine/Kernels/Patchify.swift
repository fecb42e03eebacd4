// im2col for a stride-p, kernel-p convolution: images [B, C, Hh, W] → patches [B, m, C·p·p],
// each patch flattened in (c, py, px) order so that timm's conv weight [D, C, p, p] is the
// matmul weight [D, C·p·p] as stored. Patch j = gy·(W/p) + gx.

public func patchify(_ patches: FPtr, _ images: FPtr, B: Int, C: Int, Hh: Int, W: Int, p: Int) {
    let gh = Hh / p, gw = W / p, pd = C * p * p
    Parallel.chunks(B) { _, range in
        for b in range {
            for gy in 0..<gh {
                for gx in 0..<gw {
                    let dst = patches + ((b * gh + gy) * gw + gx) * pd
                    for c in 0..<C {
                        for py in 0..<p {
                            let src = images + ((b * C + c) * Hh + gy * p + py) * W + gx * p
                            (dst + (c * p + py) * p).update(from: src, count: p)
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of patchify: dimages += col2im(dpatches).
public func unpatchifyAccumulate(_ dimages: FPtr, _ dpatches: FPtr, B: Int, C: Int, Hh: Int, W: Int, p: Int) {
    let gh = Hh / p, gw = W / p, pd = C * p * p
    for b in 0..<B {
        for gy in 0..<gh {
            for gx in 0..<gw {
                let src = dpatches + ((b * gh + gy) * gw + gx) * pd
                for c in 0..<C {
                    for py in 0..<p {
                        let dst = dimages + ((b * C + c) * Hh + gy * p + py) * W + gx * p
                        for px in 0..<p { dst[px] += src[(c * p + py) * p + px] }
                    }
                }
            }
        }
    }
}
