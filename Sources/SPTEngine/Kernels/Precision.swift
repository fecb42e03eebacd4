import CBF16
import Foundation

/// Compute precision of the backbone's matrix products (`--precision`).
public enum Precision: String, Codable, Sendable, CaseIterable {
    /// Everything in fp32.
    case fp32
    /// As `torch.autocast("cpu", dtype=torch.bfloat16)`: matrix-product inputs in bf16 (frozen
    /// weights rounded once, weights that train at every forward pass), fp32 accumulation;
    /// LayerNorm, softmax, GELU, the loss, NMI, K-means and every trainable parameter, gradient
    /// and optimizer state stay fp32.
    case bf16
    /// bf16 where the CPU has AVX512-BF16 or AMX, else fp32.
    case auto

    /// Whether this CPU multiplies bf16 in hardware. `SPT_BF16_HARDWARE=0` says no (to try the
    /// fallback on a CPU that has it).
    public static var hardware: Bool {
        ProcessInfo.processInfo.environment["SPT_BF16_HARDWARE"] != "0" && spt_bf16_hardware() != 0
    }

    /// The precision runs use, and a line saying why. Throws for bf16 without the hardware
    /// (oneDNN would emulate it far slower than fp32).
    public func resolved(hardware: Bool = Precision.hardware) throws -> (Precision, String) {
        switch self {
        case .fp32: return (.fp32, "fp32")
        case .bf16:
            guard hardware else { throw EngineError.invalidArgument("--precision bf16: this CPU has neither AVX512-BF16 nor AMX (use fp32 or auto)") }
            return (.bf16, "bf16 (AVX512-BF16/AMX through oneDNN)")
        case .auto:
            return hardware ? (.bf16, "auto → bf16 (the CPU has AVX512-BF16 or AMX)")
                                 : (.fp32, "auto → fp32 (the CPU has neither AVX512-BF16 nor AMX)")
        }
    }
}

public typealias BF16MutablePtr = UnsafeMutablePointer<UInt16>

/// The bf16 view of an fp32 buffer's memory (its first half): under `--precision bf16` an
/// activation that only feeds matrix products is stored rounded there, by the kernel that makes
/// it. Only C (the rounding and oneDNN) reads or writes through this view.
@inline(__always)
public func bf16View(_ p: FPtr) -> BF16MutablePtr { UnsafeMutableRawPointer(p).assumingMemoryBound(to: UInt16.self) }

/// Values `body(tile, start, n)` computes into a small fp32 tile (cache-resident), rounded to
/// bf16 into `out[start..<start+n]` tile by tile, over `range`.
@inline(__always)
func roundedTiles(_ range: Range<Int>, into out: BF16MutablePtr, _ body: (FPtr, Int, Int) -> Void) {
    let size = 1024
    withUnsafeTemporaryAllocation(of: Float.self, capacity: size) { t in
        var start = range.lowerBound
        while start < range.upperBound {
            let n = min(size, range.upperBound - start)
            body(t.baseAddress!, start, n)
            spt_f32_to_bf16(t.baseAddress!, out + start, n)
            start += n
        }
    }
}
