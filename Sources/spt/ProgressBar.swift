import Foundation
import SPTEngine

/// Text progress bars and durations for the CLI.
enum ProgressBar {
    static func render(fraction: Double, width: Int) -> String {
        let f = min(max(fraction, 0), 1), filled = Int((f * Double(width)).rounded(.down))
        return "[" + String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled) + "]"
            + String(format: " %3.0f%%", f * 100)
    }

    static func duration(_ s: Double) -> String { PhaseClock.duration(s) }
}

/// Prints a line unbuffered, so progress shows up at once when piped to a file.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// A side remark that must not mix into machine-readable stdout.
func warn(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Prints a trainer's long phases (gathering, K-means, evaluation) as progress lines: at most one
/// a second and the last of each phase, with the time spent and an estimate of the time left.
final class PhaseReporter: @unchecked Sendable {
    private var clock = PhaseClock()
    private var lastPrint = Date.distantPast
    private let emit: (String) -> Void
    init(_ emit: @escaping (String) -> Void) { self.emit = emit }

    func report(_ p: TrainerPhase) {
        let now = Date(), text = clock.text(p, now: now)
        if clock.phaseChanged { lastPrint = .distantPast }
        guard now.timeIntervalSince(lastPrint) >= 1 || p.fraction >= 1 else { return }
        lastPrint = now
        emit("\(ProgressBar.render(fraction: p.fraction, width: 20)) \(text)")
    }
}
