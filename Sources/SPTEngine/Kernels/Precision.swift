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
