/// The head's pooling and its gradient (a forward/backward pair): the class token (row 0), or
/// the mean of rows `from`..<T of each of B sequences of T rows of D values.
func poolForward(_ out: FPtr, _ x: FPtr, _ pooling: Pooling, B: Int, T: Int, D: Int, from: Int) {
    for b in 0..<B {
        let f = out + b * D
        switch pooling {
        case .cls: f.update(from: x + b * T * D, count: D)
        case .mean:
            let s = 1 / Float(T - from)
            f.update(repeating: 0, count: D)
            for t in from..<T { let r = x + (b * T + t) * D; for d in 0..<D { f[d] += r[d] } }
            for d in 0..<D { f[d] *= s }
        }
    }
}

/// Writes the gradient of `poolForward` into the rows it read (other rows untouched).
func poolBackward(_ dx: FPtr, _ dout: FPtr, _ pooling: Pooling, B: Int, T: Int, D: Int, from: Int) {
    for b in 0..<B {
        let g = dout + b * D
        switch pooling {
        case .cls: (dx + b * T * D).update(from: g, count: D)
        case .mean:
            let s = 1 / Float(T - from)
            for t in from..<T { let dst = dx + (b * T + t) * D; for d in 0..<D { dst[d] = g[d] * s } }
        }
    }
}
