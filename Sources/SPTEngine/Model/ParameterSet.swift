import CBF16
import Foundation
/// One named tensor inside a flat parameter buffer.
public struct TensorSpec: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public let offset: Int
    /// AdamW/SGD weight decay applies (false for biases, norms, cls/pos tokens).
    public let decay: Bool
    public var count: Int { shape.reduce(1, *) }
}

/// Named tensors packed into one allocation (llm.c style), so an optimizer is one flat loop and
/// "the backbone is unchanged" is one buffer comparison.
public struct ParameterLayout: Sendable, Equatable {
    public private(set) var specs: [TensorSpec] = []
    public private(set) var count = 0
    private var index: [String: Int] = [:]

    public init() {}

    public mutating func add(_ name: String, _ shape: [Int], decay: Bool? = nil) {
        let isBias = name.hasSuffix(".bias") || shape.count <= 1
        specs.append(TensorSpec(name: name, shape: shape, offset: count, decay: decay ?? !isBias))
        index[name] = specs.count - 1
        count += shape.reduce(1, *)
    }

    public func spec(_ name: String) -> TensorSpec? { index[name].map { specs[$0] } }
}

/// A layout with its values.
public final class ParameterSet: @unchecked Sendable {
    public let layout: ParameterLayout
    public let values: Buffer

    public init(_ layout: ParameterLayout) {
        self.layout = layout
        values = Buffer([layout.count])
    }

    /// Pointer to the named tensor; the name must exist (a programming error otherwise).
    public func ptr(_ name: String) -> FPtr {
        guard let s = layout.spec(name) else { preconditionFailure("no tensor named \(name)") }
        return values.ptr + s.offset
    }

    /// The named tensor rounded to bf16 (`--precision bf16`), made at the first call and kept at
    /// the same address; weights that train call `refreshBF16` after they moved.
    public func bf16(_ name: String) -> UnsafePointer<UInt16> {
        bf16Lock.lock(); defer { bf16Lock.unlock() }
        if let p = bf16Copies[name] { return UnsafePointer(p) }
        guard let s = layout.spec(name) else { preconditionFailure("no tensor named \(name)") }
        let p = UnsafeMutablePointer<UInt16>.allocate(capacity: s.count)
        spt_f32_to_bf16(values.ptr + s.offset, p, s.count)
        bf16Copies[name] = p
        return UnsafePointer(p)
    }
    /// Rounds every bf16 copy made so far again from the current values (weights that train:
    /// autocast rounds them at every use; here once per forward pass).
    public func refreshBF16() {
        bf16Lock.lock(); defer { bf16Lock.unlock() }
        for (name, p) in bf16Copies {
            let s = layout.spec(name)!
            spt_f32_to_bf16(values.ptr + s.offset, p, s.count)
        }
    }
    private var bf16Copies: [String: UnsafeMutablePointer<UInt16>] = [:]
    private let bf16Lock = NSLock()
    deinit { bf16Copies.values.forEach { $0.deallocate() } }

    public func array(_ name: String) -> [Float] {
        let s = layout.spec(name)!
        return Array(UnsafeBufferPointer(start: values.ptr + s.offset, count: s.count))
    }

    public func set(_ name: String, _ v: [Float]) {
        let s = layout.spec(name)!
        precondition(v.count == s.count, "\(name): \(v.count) values for \(s.shape)")
        v.withUnsafeBufferPointer { (values.ptr + s.offset).update(from: $0.baseAddress!, count: s.count) }
    }
}
