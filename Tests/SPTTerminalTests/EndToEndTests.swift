import Foundation
import Testing
import SPTRuns

/// Drives the real `spt-tui` binary in a private tmux server, as a person would.
final class TmuxSession {
    let server = "spt-e2e-\(UInt32.random(in: 0..<UInt32.max))"
    static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") }

    /// Runs a tmux client command on the private server through popen/pclose (Foundation's
    /// Process did not notice the exit of a tmux client whose server it had forked).
    @discardableResult
    /// With `output: false` stdout goes to /dev/null, which new-session needs: the server it forks
    /// would otherwise hold the pipe open.
    func tmux(_ args: [String], output: Bool = true) -> String {
        func quote(_ a: String) -> String { "'" + a.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let cmd = (["/usr/bin/tmux", "-L", server, "-f", "/dev/null"] + args).map(quote).joined(separator: " ")
            + " 2>/dev/null </dev/null" + (output ? "" : " >/dev/null")
        guard let f = popen(cmd, "r") else { return "" }
        var out = Data(), buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        pclose(f)
        return String(decoding: out, as: UTF8.self)
    }

    init(command: String, width: Int = 100, height: Int = 30) {
        tmux(["new-session", "-d", "-s", "S", "-x", String(width), "-y", String(height), "-e", "LANG=C.UTF-8", command], output: false)
    }

    deinit { tmux(["kill-server"]) }

    var screen: String { tmux(["capture-pane", "-p", "-t", "S"]) }
    func keys(_ k: String...) { tmux(["send-keys", "-t", "S"] + k) }

    /// Polls the screen until `predicate` holds or `timeout` seconds pass; returns the last screen.
    @discardableResult
    func waitFor(_ timeout: Double = 20, _ what: String, _ predicate: (String) -> Bool) -> (ok: Bool, screen: String) {
        let end = Date().addingTimeInterval(timeout)
        var s = screen
        while Date() < end {
            s = screen
            if predicate(s) { return (true, s) }
            usleep(100_000)
        }
        Issue.record("timed out waiting for \(what); screen:\n\(s)")
        return (false, s)
    }

    func waitFor(_ text: String, timeout: Double = 20) { waitFor(timeout, "“\(text)”") { $0.contains(text) } }
}

@Suite(.serialized) struct EndToEndTests {
    static func binary(_ name: String = "spt-tui") -> String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    }

    func tempDir() -> String {
        let d = NSTemporaryDirectory() + "spt-e2e-\(UInt32.random(in: 0..<UInt32.max))"
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// A three-class MNIST-layout task small enough for a debug build: 60 train, 10 test images.
    func makeTinyTask(at data: String) throws {
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        func idx(_ name: String, magic: UInt32, dims: [UInt32], bytes: [UInt8]) throws {
            var d = Data()
            for v in [magic] + dims { withUnsafeBytes(of: v.bigEndian) { d.append(contentsOf: $0) } }
            d.append(contentsOf: bytes)
            try d.write(to: URL(fileURLWithPath: "\(data)/\(name)"))
        }
        for (prefix, n) in [("train", 60), ("t10k", 10)] {
            try idx("\(prefix)-images-idx3-ubyte", magic: 0x803, dims: [UInt32(n), 28, 28], bytes: (0..<(n * 784)).map { UInt8(($0 * 37) % 251) })
            try idx("\(prefix)-labels-idx1-ubyte", magic: 0x801, dims: [UInt32(n)], bytes: (0..<n).map { UInt8($0 % 3) })
        }
    }

    @Test(.enabled(if: TmuxSession.available, "needs tmux (make test installs it)"))
    func replayKeysExportResizeAndQuit() throws {
        let dir = tempDir()
        for (run, scale) in [("random", 1.0), ("kmeans", 0.6)] {
            let w = try RunLogWriter(path: "\(dir)/logs/\(run).jsonl")
            try w.append(.header(RunHeader(run: run, session: "e2e", engine: "test", task: "t", backbone: "b", strategy: run, deep: false,
                                           prompts: 4, optimizer: "adamw", lr: 1e-3, weightDecay: 0, epochs: 4, batch: 10, seed: 0,
                                           threads: 1, params: ["train_images": "500"])))
            for s in 1...200 {
                try w.append(.train(TrainRecord(step: s, epoch: Double(s) / 50, time: Double(s) * 0.1, loss: scale * 2 / Double(s).squareRoot(),
                                                lr: 1e-3, gradNorm: 1, imagesPerSecond: 100)))
                if s % 10 == 0 { try w.append(.nmi(NMIRecord(step: s, epoch: Double(s) / 50, time: Double(s) * 0.1, values: [0.01 * scale, 1e-4], mode: "tokens", normalization: "sqrt"))) }
            }
        }
        let t = TmuxSession(command: "cd \(dir) && \(Self.binary()) --replay logs --speed 100; echo EXITED:$?; sleep 60")
        t.waitFor(20, "the chart") { $0.contains("train loss") && $0.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) } }
        t.keys("?")
        t.waitFor("Keys")
        t.keys("Escape")
        t.waitFor(10, "help closed") { !$0.contains("this help") }
        t.keys("Tab")
        t.waitFor(10, "focus on run 2") { $0.contains(">■ 2 random") }
        t.keys("s")
        t.waitFor("smoothing 0.3")
        t.keys("x")
        t.waitFor(10, "epoch axis") { $0.contains(" epoch ") }
        t.keys("e")
        let exported = t.waitFor(10, "export") { $0.contains("exported spt-export-") }.screen
        let name = exported.split(separator: "\n").first { $0.contains("exported ") }.map { String($0.split(separator: " ").first { $0.hasSuffix(".csv") } ?? "") } ?? ""
        #expect(FileManager.default.fileExists(atPath: "\(dir)/\(name)"), "export \(name) not written")
        t.tmux(["resize-window", "-t", "S", "-x", "20", "-y", "5"])
        t.waitFor("too small")
        t.tmux(["resize-window", "-t", "S", "-x", "100", "-y", "30"])
        t.waitFor("train loss")
        t.keys("q")
        t.waitFor("EXITED:0")
        #expect(t.tmux(["display-message", "-p", "-t", "S", "#{alternate_on}"]).trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    @Test(.enabled(if: TmuxSession.available, "needs tmux (make test installs it)"))
    func liveSessionTrainsAndSwitchesStrategy() throws {
        let dir = tempDir()
        try makeTinyTask(at: dir + "/task")
        let cmd = "cd \(dir) && \(Self.binary()) --backbone random-tiny --task task --epochs 3 --batch 4 --strategies kmeans random --threads 1 --nmi-every 2 --runs-dir runs; echo EXITED:$?; sleep 60"
        let t = TmuxSession(command: cmd)
        t.waitFor(120, "a few steps") { s in s.contains("kmeans") && s.range(of: #" [2-9]/36 "#, options: .regularExpression) != nil }
        t.keys("1") // focused run (kmeans) → random
        t.waitFor(60, "the switch") { $0.contains("kmeans→random") }
        t.keys("q")
        t.waitFor(10, "the quit question") { $0.contains("quit? (y/n)") }
        t.keys("y")
        t.waitFor(60, "exit") { $0.contains("EXITED:0") }
        let logs = try RunDirectory.logFiles(at: dir + "/runs")
        let kmeans = try RunLogReader.read(logs.first { $0.hasSuffix("/kmeans.jsonl") }!)
        #expect(kmeans.records.contains { if case .segment(let s) = $0 { s.strategy == "random" } else { false } })
        #expect(kmeans.records.contains { if case .event(let e) = $0 { e.event == "stopped" } else { false } })
    }

    /// `spt compare --json` on final runs: stdout is one JSON table; what was not measured (best
    /// val without a val split, NMI when off) is left out rather than breaking the encoder.
    @Test func compareFinalPrintsJSONLeavingOutWhatWasNotMeasured() throws {
        let dir = tempDir()
        try makeTinyTask(at: dir + "/task")
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: Self.binary("spt"))
        p.arguments = ["compare", "--json", "--eval-protocol", "final", "--task", dir + "/task", "--backbone", "random-tiny",
                       "--epochs", "1", "--batch", "4", "--strategies", "random", "kmeans", "--threads", "1",
                       "--nmi-every", "0", "--runs-dir", dir + "/runs"]
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let table = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let rows = try #require(table["rows"] as? [[String: Any]])
        #expect(rows.map { $0["strategy"] as? String } == ["random", "kmeans"])
        for r in rows {
            #expect(r["split"] as? String == "test")
            #expect((r["accuracyMean"] as? Double).map { (0...1).contains($0) } == true)
            #expect(r["bestVal"] == nil && r["nmiStart"] == nil && r["nmiEnd"] == nil)
        }
    }

    /// A crash while the dashboard is up (here a SIGSEGV sent to it) leaves the terminal as it
    /// was: off curses' screen, echo and line editing back on.
    @Test(.enabled(if: TmuxSession.available, "needs tmux"))
    func aCrashRestoresTheTerminal() throws {
        let dir = tempDir()
        let w = try RunLogWriter(path: dir + "/logs/a.jsonl")
        try w.append(.header(RunHeader(run: "a", session: "e2e", engine: "test", task: "t", backbone: "b", strategy: "random", deep: false,
                                       prompts: 4, optimizer: "adamw", lr: 1e-3, weightDecay: 0, epochs: 4, batch: 10, seed: 0, threads: 1)))
        let t = TmuxSession(command: "\(Self.binary()) --replay \(dir)/logs; echo EXIT:$?; stty -a | tr ' ' '\\n' | grep -E '^-?(icanon|echo)$' | tr '\\n' ' '; echo; sleep 60")
        t.waitFor(20, "the dashboard") { $0.contains("replay") }
        let pid = try #require(Self.processes(argv0: Self.binary(), containing: dir).first)
        kill(pid, SIGSEGV)
        let s = t.waitFor(20, "the shell after the crash") { $0.contains("EXIT:139") && $0.contains("icanon") }.screen
        #expect(s.contains("icanon echo") && !s.contains("-icanon") && !s.contains("-echo"), "\(s)")
        #expect(t.tmux(["display-message", "-p", "-t", "S", "#{alternate_on}"]).trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    /// Processes running `argv0` with an argument containing `text` (read from /proc).
    static func processes(argv0: String, containing text: String) -> [pid_t] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { name in
            guard let pid = pid_t(name), let data = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else { return nil }
            let args = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return args.first == argv0 && args.dropFirst().contains { $0.contains(text) } ? pid : nil
        }
    }

    /// Without a terminal, or on one that cannot move the cursor, spt-tui says so and exits.
    @Test(.enabled(if: TmuxSession.available, "needs tmux"))
    func unusableTerminalsAreRefusedWithAMessage() throws {
        let t = TmuxSession(command: "TERM=dumb \(Self.binary()); echo EXIT:$?; TERM=nonesuch \(Self.binary()); echo EXIT:$?; \(Self.binary()) </dev/null; echo EXIT:$?; sleep 60")
        let s = t.waitFor(20, "three refusals") { $0.components(separatedBy: "EXIT:1").count == 4 }.screen
        #expect(s.contains("terminal type 'dumb' cannot move the cursor"))
        #expect(s.contains("terminal type 'nonesuch' is unknown to terminfo"))
        #expect(s.contains("standard input or output is not one"))
    }

    /// A live session whose logs cannot be written (a full disk) marks its runs "error" with the
    /// reason instead of training on with truncated logs, and still quits cleanly.
    @Test(.enabled(if: TmuxSession.available && HostileInputTests.canMountTmpfs, "needs tmux and root for a small tmpfs"))
    func aFullDiskMarksLiveRunsAsErrors() throws {
        let dir = tempDir()
        try makeTinyTask(at: dir + "/task")
        try FileManager.default.createDirectory(atPath: dir + "/runs", withIntermediateDirectories: true)
        #expect(HostileInputTests.mountTmpfs(dir + "/runs", bytes: 4096))
        defer { umount(dir + "/runs") }
        let cmd = "cd \(dir) && \(Self.binary()) --backbone random-tiny --task task --epochs 3 --batch 4 --strategies random kmeans --threads 1 --runs-dir runs; echo EXITED:$?; sleep 60"
        let t = TmuxSession(command: cmd, width: 140)
        let s = t.waitFor(120, "both runs in error") { $0.contains(" · 2 error · ") }.screen
        #expect(s.contains("No space left on device"), "\(s)")
        t.keys("q")
        t.waitFor(30, "exit") { $0.contains("EXITED:0") }
    }
}
