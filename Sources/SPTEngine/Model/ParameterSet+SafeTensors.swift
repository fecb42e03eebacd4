import SPTFormats

extension SafeTensors {
    /// Throws unless every tensor of `layout` is in the file with its exact shape. Run before a
    /// parameter set is allocated, so that a file's claims size no allocation the file cannot fill.
    public func check(_ layout: ParameterLayout, prefix: String = "") throws {
        for spec in layout.specs {
            let name = prefix + spec.name
            guard let e = entries[name] else { throw EngineError.checkpoint(file: path, message: "missing tensor \(name)") }
            guard e.shape == spec.shape else {
                throw EngineError.checkpoint(file: path, message: "tensor \(name) has shape \(e.shape), expected \(spec.shape)")
            }
        }
    }

    /// Copies every tensor of `set` from this file; names and shapes must match exactly.
    public func load(into set: ParameterSet, prefix: String = "") throws {
        try check(set.layout, prefix: prefix)
        for spec in set.layout.specs {
            let name = prefix + spec.name
            let v = try floats(name)
            guard v.allSatisfy(\.isFinite) else {
                throw EngineError.checkpoint(file: path, message: "tensor \(name) holds NaN or Inf")
            }
            set.set(spec.name, v)
        }
    }

    /// All tensors of a parameter set, in layout order, for `write`.
    public static func tensors(of set: ParameterSet, prefix: String = "") -> [(name: String, shape: [Int], values: [Float])] {
        set.layout.specs.map { (prefix + $0.name, $0.shape, set.array($0.name)) }
    }
}
