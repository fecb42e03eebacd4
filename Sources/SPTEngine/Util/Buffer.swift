/// Pointer type every kernel takes: kernels index raw memory so that loops vectorize.
public typealias FPtr = UnsafeMutablePointer<Float>

/// A zero-initialized, fixed-size Float allocation with a shape. Reference type so that named
/// views (pointers into it) stay valid for the buffer's lifetime.
public final class Buffer: @unchecked Sendable {
    public let count: Int
    public let ptr: FPtr
    public var shape: [Int]

    public init(_ shape: [Int]) {
        self.shape = shape
        count = shape.reduce(1, *)
        ptr = .allocate(capacity: max(count, 1))
        ptr.initialize(repeating: 0, count: max(count, 1))
    }

    public convenience init(_ shape: [Int], _ values: [Float]) {
        self.init(shape)
        precondition(values.count == count, "Buffer: \(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { ptr.update(from: $0.baseAddress!, count: count) }
    }

    deinit { ptr.deallocate() }

    public subscript(i: Int) -> Float {
        get { ptr[i] }
        set { ptr[i] = newValue }
    }

    public var array: [Float] { Array(UnsafeBufferPointer(start: ptr, count: count)) }
    public func zero() { ptr.update(repeating: 0, count: count) }
    public func copy(from other: Buffer) {
        precondition(other.count == count)
        ptr.update(from: other.ptr, count: count)
    }
}
