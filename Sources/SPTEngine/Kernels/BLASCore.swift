import COpenBLAS
import Foundation

/// The BLAS core OpenBLAS chose at load time (e.g. "Haswell", "SkylakeX").
public var blasCoreName: String { String(cString: openblas_get_corename()) }

/// OpenBLAS 0.3.21 picks its kernels from the CPU's model number when it loads, and on a model it
/// does not know (recent Xeons among them) falls back to Prescott: SSE3 kernels, about 5× slower
/// on the model's GEMMs than the AVX-512 ones the CPU can run. It reads `OPENBLAS_CORETYPE` only at
/// load, before `main`, so the only fix from inside the program is to start it again with the
/// variable set. A core the user chose through the variable is never overridden.
public enum BLASCore {
    /// Set in the relaunched process to the core OpenBLAS detected by itself, for reports.
    public static let detectedVariable = "SPT_BLAS_DETECTED_CORE"

    /// OpenBLAS cores whose kernels use AVX2 or wider; any other core on an AVX2 CPU is a fallback.
    static let vectorCores: Set<String> = ["Haswell", "SkylakeX", "Cooperlake", "SapphireRapids", "Zen"]

    /// The core to relaunch with, or nil to keep the one OpenBLAS chose.
    static func override(detected: String, userChoice: String?, avx2: Bool, avx512: Bool) -> String? {
        guard userChoice == nil, !vectorCores.contains(detected) else { return nil }
        return avx512 ? "SkylakeX" : avx2 ? "Haswell" : nil
    }

    /// Call first thing in `main`: replaces the process with itself, OpenBLAS's core overridden,
    /// when detection fell back to slow kernels. Returns when there is nothing to do (or exec fails).
    public static func relaunchIfUndetected() {
        let env = ProcessInfo.processInfo.environment
        guard env[detectedVariable] == nil,
              let core = override(detected: blasCoreName, userChoice: env["OPENBLAS_CORETYPE"],
                                  avx2: spt_cpu_has_avx2_fma() != 0, avx512: spt_cpu_has_avx512() != 0) else { return }
        setenv(detectedVariable, blasCoreName, 1)
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
    }

    /// "SkylakeX", or "SkylakeX (OpenBLAS detected Prescott)" after a relaunch.
    public static var description: String {
        guard let detected = ProcessInfo.processInfo.environment[detectedVariable] else { return blasCoreName }
        return "\(blasCoreName) (OpenBLAS detected \(detected))"
    }
}
