import ArgumentParser
import Foundation
import SPTDashboard
import SPTEngine
import SPTRuns

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the engine against the GEMM peak and PyTorch in one process; never part of the tests.",
        discussion: "Run as a user's machine would: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE spt bench (make bench does).")

    @Option(help: "Config preset.") var config = "reference"
    @Option(help: "Batch (default: 32 at 224² and above, else 64).") var batch: Int?
    @Option(help: "Prompts.") var prompts = 10
    @Option(help: "Worker threads.") var threads = 2
    @Option(help: "Seconds per measurement.") var seconds = 3.0
    @Option(help: "Python with torch for the comparison (default: python3 if it imports torch).") var python: String?
    @Flag(help: "Skip the PyTorch comparison.") var noTorch = false
    @Option(help: "PyTorch modes compared: eager, compiled (torch.compile, inductor; its compile time reported apart) or both.")
    var torchModes = "eager,compiled"
    @Option(help: "fp32, bf16 (compared with PyTorch under bf16 autocast) or auto.") var precision: Precision = .fp32
    @Option(help: "Backbone for the K-means timing (a name or file).") var kmeansBackbone = "mae-tiny"
    @Option(help: "Task whose 1000 final-protocol training images the K-means timing gathers.") var kmeansTask = "fashion-mnist"
    @Option(help: "Seeds the K-means timing averages over (every side the same).") var kmeansSeeds = 10
    @Option(help: "Comma-separated parts to run: engine, kmeans, dashboard, runlog (default: all).")
    var only = Part.allCases.map(\.rawValue).joined(separator: ",")
    @Option(help: "Comma-separated steps the engine part runs (\(Benchmark.StepKind.allCases.map(\.rawValue).joined(separator: ", ")); default: all) — one, to profile it.")
    var steps: String?
    @Flag(help: "Print JSON.") var json = false

    enum Part: String, CaseIterable { case engine, kmeans, dashboard, runlog }

    struct Report: Codable {
        var blasCore: String, threads: Int, config: ViTConfig, batch: Int, prompts: Int
        var cpu: String, precision: String
        var gemmPeakGFLOPs: Double?
        var steps: [Benchmark.Step] = []
        /// Under bf16: the same steps in fp32, in the same run (bf16's speed-up over the engine's own fp32).
        var fp32Steps: [Benchmark.Step]?
        var fp32GemmPeakGFLOPs: Double?
        /// PyTorch's numbers per mode ("eager fp32", "compiled fp32", and under bf16 "eager bf16",
        /// "compiled bf16"): img/s, peak RSS and compile seconds per step key.
        var torch: [String: [String: Double]]?
        var torchVersions: String?
        var nmiOverheadFraction: Double?
        /// The same probe drawing a prompt map each time (the plane already fixed), and the first map's plane, once.
        var mapOverheadFraction: Double?
        var mapPlaneSeconds: Double?
        var kmeans: [String: Double]?
        var frameMilliseconds: Double?
        /// 140×45 frames of the prompt map and of the image view (ViT-B/16 sizes: 12 blocks, 50 prompts, 196 patches, a 56² RGB image).
        var mapFrameMilliseconds: Double?, imageFrameMilliseconds: Double?
        var runLogRead100kSeconds: Double?
    }

    func validate() throws {
        try OptionCheck.threadCount(threads)
        if let batch { try OptionCheck.positive("batch", batch) }
        try OptionCheck.require(OptionCheck.prompts.contains(prompts), "prompts", prompts, "must be in \(OptionCheck.prompts)")
        try OptionCheck.require(seconds.isFinite && seconds > 0, "seconds", seconds, "must be a positive number")
        try OptionCheck.positive("kmeans-seeds", kmeansSeeds)
        _ = try chosenSteps()
        for m in torchModes.split(separator: ",") where m != "eager" && m != "compiled" {
            throw ValidationError("--torch-modes: unknown mode \(m) (eager, compiled)")
        }
    }

    /// `--steps` read, or nil for every step.
    func chosenSteps() throws -> Set<Benchmark.StepKind>? {
        try steps.map {
            try Set($0.split(separator: ",").map {
                guard let kind = Benchmark.StepKind(rawValue: String($0)) else {
                    throw ValidationError("--steps: unknown step \($0) (\(Benchmark.StepKind.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                return kind
            })
        }
    }

    func run() throws {
        Parallel.setThreads(threads)
        // A preset, or the architecture of a backbone file (timed with random weights of that shape).
        guard let c = try ViTConfig.presets[config] ?? (FileManager.default.fileExists(atPath: config) ? Backbone.load(config).config : nil) else {
            throw ValidationError("--config \(config): not a preset (\(ViTConfig.presets.keys.sorted().joined(separator: ", "))) nor a backbone file")
        }
        let batch = self.batch ?? (c.imageSize >= 224 ? 32 : 64)
        var parts = Set<Part>()
        for name in only.split(separator: ",") {
            guard let p = Part(rawValue: String(name)) else { throw ValidationError("unknown part \(name); parts: engine, kmeans, dashboard, runlog") }
            parts.insert(p)
        }
        let (precision, precisionLine) = try self.precision.resolved()
        var report = Report(blasCore: BLASCore.description, threads: threads, config: c, batch: batch, prompts: prompts,
                            cpu: Self.cpuModel, precision: precisionLine)
        if parts.contains(.engine) {
            let peak = Benchmark.gemmPeak(c, rows: batch * (1 + prompts + c.numPatches), precision: precision)
            report.gemmPeakGFLOPs = peak
            // Full fine-tuning at 224² takes minutes per measurement: timed on the small configs only.
            let chosen = try chosenSteps()
            report.steps = Benchmark.steps(c, batch: batch, prompts: prompts, classes: 10, peak: peak, seconds: seconds, full: c.imageSize < 224,
                                           precision: precision, only: chosen)
            if precision == .bf16 {
                let peak32 = Benchmark.gemmPeak(c, rows: batch * (1 + prompts + c.numPatches))
                report.fp32GemmPeakGFLOPs = peak32
                report.fp32Steps = Benchmark.steps(c, batch: batch, prompts: prompts, classes: 10, peak: peak32, seconds: seconds, full: c.imageSize < 224,
                                                   only: chosen)
            }
            (report.nmiOverheadFraction, report.mapOverheadFraction, report.mapPlaneSeconds) = nmiOverhead(c, batch: batch, steps: report.steps)
            if !noTorch {
                // Every mode of each precision the engine ran, in this run (the machine drifts between runs).
                var modes: [String: [String: Double]] = [:]
                for bf16 in precision == .bf16 ? [true, false] : [false] {
                    for mode in torchModes.split(separator: ",").map(String.init) {
                        if let (n, v) = torchNumbers(c, batch: batch, autocast: bf16, compile: mode == "compiled") {
                            modes["\(mode) \(bf16 ? "bf16" : "fp32")"] = n
                            report.torchVersions = v
                        }
                    }
                }
                report.torch = modes.isEmpty ? nil : modes
            }
        }
        if parts.contains(.kmeans) { report.kmeans = kmeansTiming() }
        if parts.contains(.dashboard) { (report.frameMilliseconds, report.mapFrameMilliseconds, report.imageFrameMilliseconds) = frameTime() }
        if parts.contains(.runlog) { report.runLogRead100kSeconds = try runLogRead() }
        if json {
            let e = JSONEncoder(); e.outputFormatting = [.prettyPrinted, .sortedKeys]
            say(String(decoding: try e.encode(report), as: UTF8.self))
            return
        }
        say("CPU \(report.cpu); precision \(report.precision)")
        say("BLAS core \(report.blasCore), \(threads) thread(s); config \(config) (\(c.imageSize)²×\(c.channels), patch \(c.patchSize), D \(c.dim), depth \(c.depth), heads \(c.heads)), batch \(batch), \(prompts) prompts")
        if let peak = report.gemmPeakGFLOPs {
            say(String(format: "GEMM peak on the model's shapes (%@): %.1f GFLOP/s", precision.rawValue, peak)
                + (report.fp32GemmPeakGFLOPs.map { String(format: "; fp32 %.1f GFLOP/s (bf16/fp32 %.2f×)", $0, peak / $0) } ?? ""))
        }
        let own = report.fp32Steps.map { Dictionary($0.map { ($0.kind, $0.imagesPerSecond) }, uniquingKeysWith: { a, _ in a }) }
        if !report.steps.isEmpty {
            say("step                    img/s   GFLOP/s  of peak  peak RSS" + (own == nil ? "" : "   fp32 img/s  bf16/fp32"))
        }
        func gb(_ b: Double?) -> String { b.map { String(format: "%6.2f GB", $0 / Double(1 << 30)) } ?? "        —" }
        for s in report.steps {
            say(s.kind.rawValue.padding(toLength: 20, withPad: " ", startingAt: 0)
                + String(format: " %8.1f %9.1f %7.0f%%  %@", s.imagesPerSecond, s.gflops, s.fractionOfPeak * 100, gb(s.peakRSSBytes.map(Double.init)))
                + (own.map { o in o[s.kind].map { String(format: " %12.1f  %8.2f×", $0, s.imagesPerSecond / $0) } ?? "" } ?? ""))
        }
        if let torch = report.torch, !report.steps.isEmpty {
            say("PyTorch \(report.torchVersions ?? "") (timm's VisionTransformer, the same shapes and steps); engine ÷ PyTorch's best mode of the same precision:")
            say("step                 precision  engine img/s  eager img/s  compiled img/s (compile s)  engine/best  best's peak RSS")
            for (label, steps) in [(precision == .bf16 ? "bf16" : "fp32", report.steps)] + (report.fp32Steps.map { [("fp32", $0)] } ?? []) {
                for s in steps {
                    let key = s.kind.rawValue
                    let eager = torch["eager \(label)"]?[key], compiled = torch["compiled \(label)"]?[key]
                    let best = [("eager", eager), ("compiled", compiled)].compactMap { m, v in v.map { (m, $0) } }.max { $0.1 < $1.1 }
                    func rate(_ v: Double?) -> String { v.map { String(format: "%.1f", $0) } ?? "—" }
                    let compile = torch["compiled \(label)"]?[key + "_compile_s"].map { String(format: " (%.0f s)", $0) } ?? ""
                    say(s.kind.rawValue.padding(toLength: 20, withPad: " ", startingAt: 0) + " " + label.padding(toLength: 9, withPad: " ", startingAt: 0)
                        + String(format: " %13.1f", s.imagesPerSecond) + " " + rate(eager).leftPad(12) + " " + (rate(compiled) + compile).leftPad(27)
                        + (best.map { String(format: " %10.2f×  ", s.imagesPerSecond / $0.1) + gb(torch["\($0.0) \(label)"]?[key + "_rss"]) + " (\($0.0))" } ?? ""))
                }
            }
        }
        if let n = report.nmiOverheadFraction, let m = report.mapOverheadFraction, let plane = report.mapPlaneSeconds {
            // The fractions are at cadence 5; `auto` times the probe with a map, as a run does (the probe over a step is 5m).
            let auto = NMICadence.steps(probeSeconds: 5 * m, stepSeconds: 1)
            say(String(format: "NMI probe (32 images) every 5 steps: %.1f%% of training time, %.1f%% with a prompt map; "
                       + "at the default cadence (auto: every %d steps): %.1f%%, %.1f%% with maps (a run draws at most --maps); the first map's plane: %.2f s once",
                       n * 100, m * 100, auto, n * 100 * 5 / Double(auto), m * 100 * 5 / Double(auto), plane))
        }
        if let k = report.kmeans {
            say(String(format: "K-means, deep prompts (%.0f layers × %.0f tokens, 10 centroids; mean of %.0f seeds): %.3f s clustering (+%.2f s gathering), %.0f iterations in all layers, inertia %.4g",
                       k["layers"] ?? 0, k["tokens"] ?? 0, k["seeds"] ?? 0, k["seconds"] ?? 0, k["gather_seconds"] ?? 0, k["iterations"] ?? 0, k["inertia"] ?? 0))
            if let sk = k["sklearn_seconds"] {
                say(String(format: "scikit-learn KMeans on the same matrices and seeds: %.3f s, inertia %.4g", sk, k["sklearn_inertia"] ?? 0))
            }
            if let fs = k["faiss_seconds"] {
                say(String(format: "faiss Kmeans (random init, 100 iterations, every token) on the same matrices: %.3f s, inertia %.4g", fs, k["faiss_inertia"] ?? 0))
            }
        }
        if let f = report.frameMilliseconds { say(String(format: "dashboard frame (160×48, 5 runs × 100k points, render + diff): %.2f ms", f)) }
        if let m = report.mapFrameMilliseconds, let i = report.imageFrameMilliseconds {
            say(String(format: "frames at 140×45 with ViT-B/16's 12 blocks, 50 prompts, 196 patches: prompt map %.2f ms, image view (56² RGB) %.2f ms", m, i))
        }
        if let r = report.runLogRead100kSeconds { say(String(format: "run log: 100k records read in %.3f s", r)) }
    }

    private func pythonWithTorch() -> String? {
        let candidates = python.map { [$0] } ?? ["python3"]
        for p in candidates where run(p, ["-c", "import torch, timm"]) != nil { return p }
        return nil
    }

    /// Runs a program, returning its stdout, or nil when it fails.
    private func run(_ exe: String, _ args: [String]) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [exe] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return p.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }

    private func toolPath(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../tools/bench/\(name)").standardized.path
    }

    /// The CPU's model name (ratios depend on it: PyTorch's and OpenBLAS's kernels differ by part).
    static var cpuModel: String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let name = info.split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":", maxSplits: 1).last
        return (name.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown") + (Precision.hardware ? " (AVX512-BF16/AMX)" : "")
    }

    /// torch_bench.py's numbers (img/s, peak RSS and compile seconds per step) and the versions it ran.
    private func torchNumbers(_ c: ViTConfig, batch: Int, autocast: Bool, compile: Bool) -> ([String: Double], String)? {
        guard let py = pythonWithTorch() else { warn("(PyTorch with timm not importable: no comparison; make bench creates it, or pass --python PATH)"); return nil }
        let args = [toolPath("torch_bench.py"), "--image", "\(c.imageSize)", "--patch", "\(c.patchSize)", "--channels", "\(c.channels)",
                    "--dim", "\(c.dim)", "--depth", "\(c.depth)", "--heads", "\(c.heads)", "--mlp", "\(c.mlpDim)",
                    "--batch", "\(batch)", "--prompts", "\(prompts)", "--threads", "\(threads)",
                    "--full", c.imageSize < 224 ? "1" : "0", "--autocast", autocast ? "bf16" : "none", "--compile", compile ? "1" : "0"]
            // A ViT-B step takes seconds: fewer repetitions, as the engine's side does (median of ≥ 5).
            + (c.imageSize >= 224 ? ["--warmup", "3", "--iters", "5"] : [])
        guard let out = run(py, args), let obj = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any] else { return nil }
        return (obj.compactMapValues { $0 as? Double }, "torch \(obj["torch"] as? String ?? "?"), timm \(obj["timm"] as? String ?? "?")")
    }

    /// The probe's share of training time at cadence 5, without and with a prompt map, and the first map's plane's seconds.
    private func nmiOverhead(_ c: ViTConfig, batch: Int, steps: [Benchmark.Step]) -> (Double?, Double?, Double?) {
        guard let step = steps.first(where: { $0.kind == .vptShallow }) else { return (nil, nil, nil) }
        let m = ViTClassifier(config: c, backbone: c.initBackbone(seed: 1), numClasses: 10, prompts: PromptSpec(count: prompts), pooling: .cls, mode: .prompt)
        var rng = RNG(seed: 0)
        let probe = Buffer([32, c.channels, c.imageSize, c.imageSize])
        for i in 0..<probe.count { probe[i] = rng.normal() }
        let probeSeconds = Benchmark.measure(seconds: 1) { _ = PromptProbe.measure(m, images: probe.ptr, B: 32, mode: .tokens, normalization: .sqrt) } ?? 0
        // A fixed plane (the run's usual case), and an empty one that each probe computes (its first map).
        let fixed = PromptProbe.measure(m, images: probe.ptr, B: 32, mode: .tokens, normalization: .sqrt, map: ProjectionBasis()).basis
        let mapSeconds = Benchmark.measure(seconds: 1) { _ = PromptProbe.measure(m, images: probe.ptr, B: 32, mode: .tokens, normalization: .sqrt, map: fixed) } ?? 0
        let firstSeconds = Benchmark.measure(seconds: 1) { _ = PromptProbe.measure(m, images: probe.ptr, B: 32, mode: .tokens, normalization: .sqrt, map: ProjectionBasis()) } ?? 0
        let plane = firstSeconds - mapSeconds
        let training = 5 * Double(batch) / step.imagesPerSecond
        return (probeSeconds / training, mapSeconds / training, max(0, plane))
    }

    /// Token gathering for a deep run and K-means on every layer's tokens, then scikit-learn and
    /// faiss on the same matrices and seeds. Layer by layer: at ViT-B scale all layers together
    /// are 7.2 GB as Float.
    private func kmeansTiming() -> [String: Double]? {
        guard let b = try? Backbone.load(kmeansBackbone), let data = try? b.loadTask(kmeansTask) else {
            warn("(K-means timing skipped: backbone \(kmeansBackbone) or task \(kmeansTask) unavailable)"); return nil
        }
        let task = TaskData(source: data, protocol: .final)
        guard let cand = try? Candidates.gather(backbone: b, data: task.train, layerCount: b.config.depth) else { return nil }
        let seeds = kmeansSeeds, N = cand.images * cand.tokensPerImage
        var out: [String: Double] = ["layers": Double(cand.layerCount), "tokens": Double(N), "seconds": 0, "gather_seconds": cand.seconds,
                                     "inertia": 0, "iterations": 0, "seeds": Double(seeds)]
        let py = pythonWithTorch() ?? python
        let file = NSTemporaryDirectory() + "spt-kmeans-layer-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: file) }
        for l in 0..<cand.layerCount {
            let tokens = cand.layer(l)
            // one seed's inertia varies by about ±1%, so every side averages over the same seeds
            for s in 0..<seeds {
                let t = Date()
                let r = tokens.withUnsafeBufferPointer {
                    kmeans(UnsafeMutablePointer(mutating: $0.baseAddress!), N: N, D: cand.dim, K: 10, seed: UInt64(1000 * s + l))
                }
                out["seconds"]! += Date().timeIntervalSince(t) / Double(seeds)
                out["inertia"]! += r.inertia / Double(seeds); out["iterations"]! += Double(r.iterations) / Double(seeds)
            }
            guard let py, (try? SafeTensors.write(path: file, tensors: [("layer\(l)", [N, cand.dim], tokens)])) != nil else { continue }
            for (name, script) in [("sklearn", "kmeans_sklearn.py"), ("faiss", "kmeans_faiss.py")] {
                guard let o = run(py, [toolPath(script), file, "--k", "10", "--threads", "\(threads)", "--seeds", "\(seeds)"]),
                      let obj = try? JSONSerialization.jsonObject(with: Data(o.utf8)) as? [String: Double] else {
                    warn("(\(name) comparison failed on layer \(l): \(py) needs numpy, scikit-learn, faiss-cpu and safetensors)"); continue
                }
                out["\(name)_seconds", default: 0] += obj["seconds"] ?? .nan
                out["\(name)_inertia", default: 0] += obj["inertia"] ?? .nan
            }
        }
        return out
    }

    /// Milliseconds per frame: the chart at 160×48, then the prompt map and the image view at 140×45.
    private func frameTime() -> (Double, Double, Double) {
        var s = DashboardState(mode: .replay, task: "bench", backbone: "bench", themes: ["dark"], strategies: [])
        var rng = RNG(seed: 1)
        for r in 0..<5 {
            var recs: [RunRecord] = [.header(RunHeader(run: "run\(r)", session: "b", engine: engineVersion, task: "t", backbone: "b", strategy: "kmeans",
                                                      deep: true, prompts: 10, optimizer: "adamw", lr: 1e-3, weightDecay: 0, epochs: 1,
                                                      batch: 1, seed: 0, threads: 1))]
            for step in 1...100_000 {
                recs.append(.train(TrainRecord(step: step, epoch: Double(step) / 1000, time: Double(step) / 10, loss: 1 / Double(step) + Double(rng.uniform()) * 0.01,
                                               lr: 1e-3, gradNorm: 1, imagesPerSecond: 100)))
                if step % 1000 == 0 { recs.append(.nmi(NMIRecord(step: step, epoch: 0, time: 0, values: (0..<6).map { _ in Double(rng.uniform()) }, mode: "tokens", normalization: "sqrt"))) }
            }
            _ = update(&s, .records(id: "run\(r)", recs))
        }
        func frame(_ s: DashboardState, _ w: Int, _ h: Int) -> Double {
            var previous: CellBuffer?
            return 1000 * (Benchmark.measure(seconds: 2) {
                let frame = view(s, width: w, height: h)
                _ = screenDiff(old: previous, new: frame)
                previous = frame
            } ?? 0)
        }
        let chart = frame(s, 160, 48)
        // The focused run draws maps and an image of ViT-B/16's sizes.
        let blocks = 12, prompts = 50, patches = 196
        let pixels = Data((0..<(56 * 56 * 3)).map { _ in UInt8(rng.int(256)) }).base64EncodedString()
        let map = MapRecord(step: 1, epoch: 0, time: 0,
                            prompts: (0..<blocks).map { _ in (0..<(2 * prompts)).map { _ in Double(rng.normal()) } },
                            patches: (0..<blocks).map { _ in (0..<(2 * 256)).map { _ in Double(rng.normal()) } },
                            nearest: (0..<blocks).map { _ in (0..<prompts).map { _ in Double(rng.uniform()) } },
                            imageNearest: (0..<blocks).map { _ in (0..<patches).map { _ in Double(rng.int(prompts)) } },
                            imageAttention: (0..<blocks).map { _ in (0..<(16 * patches)).map { _ in Double(rng.int(101)) } })
        _ = update(&s, .records(id: "run0", [.projection(ProjectionRecord(step: 0, centre: [], axes: [], explained: Array(repeating: [0.3, 0.1], count: blocks),
                                                                          image: pixels, imageWidth: 56, imageHeight: 56, imageChannels: 3)), .map(map)]))
        s.panel = .map
        let mapFrame = frame(s, 140, 45)
        s.panel = .image
        s.imagePrompt = 3
        return (chart, mapFrame, frame(s, 140, 45))
    }

    private func runLogRead() throws -> Double {
        let path = NSTemporaryDirectory() + "spt-bench-\(UInt32.random(in: 0..<UInt32.max)).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let w = try RunLogWriter(path: path)
        try w.append(.header(RunHeader(run: "b", session: "b", engine: engineVersion, task: "t", backbone: "b", strategy: "random", deep: false,
                                       prompts: 1, optimizer: "sgd", lr: 0.1, weightDecay: 0, epochs: 1, batch: 1, seed: 0, threads: 1)))
        for s in 1..<100_000 {
            try w.append(.train(TrainRecord(step: s, epoch: 0, time: Double(s), loss: 1, lr: 0.1, gradNorm: 1, imagesPerSecond: 1)))
        }
        let t = Date()
        _ = try RunLogReader.read(path)
        return Date().timeIntervalSince(t)
    }
}
