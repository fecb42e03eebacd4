import Foundation

// Softmax cross-entropy averaged over a batch. logits, probs, dlogits: [B, K].

/// Writes probs and returns the mean loss. Labels must be in 0..<K.
public func crossEntropyForward(_ probs: FPtr, _ logits: FPtr, _ labels: [Int32], B: Int, K: Int) -> Float {
    probs.update(from: logits, count: B * K)
    softmaxRows(probs, rows: B, cols: K)
    var loss: Double = 0
    for b in 0..<B { loss -= Double(logf(max(probs[b * K + Int(labels[b])], .leastNormalMagnitude))) }
    return Float(loss / Double(B))
}

/// dlogits += (probs − onehot) / B.
public func crossEntropyBackward(dlogits: FPtr, _ probs: FPtr, _ labels: [Int32], B: Int, K: Int) {
    let inv = 1 / Float(B)
    for b in 0..<B {
        for k in 0..<K {
            let target: Float = k == Int(labels[b]) ? 1 : 0
            dlogits[b * K + k] += (probs[b * K + k] - target) * inv
        }
    }
}
