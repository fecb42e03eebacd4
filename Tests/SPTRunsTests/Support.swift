import Foundation
import SPTRuns
import TestSupport

func tempDir(_ name: String = #function) -> String { temporaryDirectory(name) }

func sampleHeader(run: String = "r1", strategy: String = "kmeans") -> RunHeader {
    RunHeader(run: run, session: "s1", created: "2026-11-24T10:00:00Z", engine: "test", task: "fashion-mnist",
              backbone: "mae-tiny", backboneHash: "abc", strategy: strategy, variant: nil, deep: false, prompts: 10,
              mode: "prompt", pooling: "mean", optimizer: "adamw", lr: 1e-3, weightDecay: 0.01, epochs: 2,
              batch: 32, seed: 1, threads: 2)
}

/// A small run: 4 train steps, an eval, two NMI measurements, a segment switch.
func sampleRecords(run: String = "r1") -> [RunRecord] {
    [.header(sampleHeader(run: run)),
     .initialization(InitRecord(step: 0, strategy: "kmeans", seconds: 0.25, gatherSeconds: 0.5, iterations: 12, inertia: 3.5, images: 800)),
     .nmi(NMIRecord(step: 0, epoch: 0, time: 0, values: [0.01, 0.002], mode: "tokens", normalization: "sqrt")),
     .train(TrainRecord(step: 1, epoch: 0.25, time: 0.5, loss: 2.0, lr: 1e-3, gradNorm: 1.5, imagesPerSecond: 100)),
     .train(TrainRecord(step: 2, epoch: 0.5, time: 1.0, loss: 1.0, lr: 1e-3, gradNorm: 1.2, imagesPerSecond: 110)),
     .segment(SegmentRecord(step: 3, time: 1.2, strategy: "random", reason: "key 1")),
     .train(TrainRecord(step: 3, epoch: 0.75, time: 1.5, loss: 3.0, lr: 1e-3, gradNorm: 2.0, imagesPerSecond: 120)),
     .train(TrainRecord(step: 4, epoch: 1.0, time: 2.0, loss: 1.5, lr: 5e-4, gradNorm: 1.0, imagesPerSecond: 120)),
     .eval(EvalRecord(step: 4, epoch: 1.0, time: 2.1, split: "val", loss: 1.2, accuracy: 0.5)),
     .nmi(NMIRecord(step: 4, epoch: 1.0, time: 2.2, values: [0.03, 0.004], mode: "tokens", normalization: "sqrt")),
     .event(EventRecord(step: 4, time: 2.3, .finished))]
}

func writeLog(_ records: [RunRecord], to path: String) throws {
    let w = try RunLogWriter(path: path)
    for r in records { try w.append(r) }
}

/// Runs a program to its end; returns its exit status and peak resident memory in kB, sampled
/// from its own /proc status (VmHWM) while it runs: wait4's ru_maxrss would include the RSS of
/// the test process it was spawned from.
func runMeasured(_ path: String, _ args: [String]) throws -> (status: Int32, peakKB: Int) {
    var pid: pid_t = 0
    let argv = ([path] + args).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    defer { posix_spawn_file_actions_destroy(&actions) }
    let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
    guard rc == 0 else { throw CocoaError(.fileReadUnknown) }
    var status: Int32 = 0, peak = 0
    while true {
        if let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
           let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kb = Int(line.split(separator: " ").dropFirst().first ?? "") { peak = max(peak, kb) }
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid { break }
        usleep(5_000)
    }
    return ((status >> 8) & 0xff, peak)
}
