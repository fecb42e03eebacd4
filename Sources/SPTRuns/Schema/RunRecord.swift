import Foundation

/// Version of the run-log schema written by this build. Readers accept this version and older.
public let runLogSchemaVersion = 1

/// The first record of every run log: what ran and how. Unknown fields are ignored on read, and
/// `params` carries any further hyperparameter a trainer wants recorded.
public struct RunHeader: Codable, Equatable, Sendable {
    public var schema: Int = runLogSchemaVersion
    public var run: String
    public var session: String
    public var created: String
    public var engine: String
    public var task: String
    public var backbone: String
    public var backboneHash: String?
    public var strategy: String
    public var variant: String?
    public var deep: Bool
    public var prompts: Int
    public var mode: String?
    public var pooling: String?
    public var optimizer: String
    public var lr: Double
    public var weightDecay: Double
    public var epochs: Int
    public var batch: Int
    public var seed: UInt64
    public var threads: Int
    public var params: [String: String]?

    public init(run: String, session: String, created: String = ISO8601DateFormatter().string(from: Date()),
                engine: String, task: String, backbone: String, backboneHash: String? = nil,
                strategy: String, variant: String? = nil, deep: Bool, prompts: Int, mode: String? = nil,
                pooling: String? = nil, optimizer: String, lr: Double, weightDecay: Double, epochs: Int,
                batch: Int, seed: UInt64, threads: Int, params: [String: String]? = nil) {
        self.run = run; self.session = session; self.created = created; self.engine = engine; self.task = task
        self.backbone = backbone; self.backboneHash = backboneHash; self.strategy = strategy; self.variant = variant
        self.deep = deep; self.prompts = prompts; self.mode = mode; self.pooling = pooling; self.optimizer = optimizer
        self.lr = lr; self.weightDecay = weightDecay; self.epochs = epochs; self.batch = batch; self.seed = seed
        self.threads = threads; self.params = params
    }
}

/// One optimizer step.
public struct TrainRecord: Codable, Equatable, Sendable {
    public var step: Int, epoch: Double, time: Double, loss: Double
    /// Absent where the writer did not log them (a TensorBoard log of loss alone); the engine always does.
    public var lr: Double?, gradNorm: Double?, imagesPerSecond: Double?
    public init(step: Int, epoch: Double, time: Double, loss: Double, lr: Double?, gradNorm: Double?, imagesPerSecond: Double?) {
        self.step = step; self.epoch = epoch; self.time = time; self.loss = loss; self.lr = lr
        self.gradNorm = gradNorm; self.imagesPerSecond = imagesPerSecond
    }
}

/// An evaluation on one split ("train", "val" or "test"); the loss is absent where the writer did not log it.
public struct EvalRecord: Codable, Equatable, Sendable {
    public var step: Int, epoch: Double, time: Double, split: String, loss: Double?, accuracy: Double
    public init(step: Int, epoch: Double, time: Double, split: String, loss: Double?, accuracy: Double) {
        self.step = step; self.epoch = epoch; self.time = time; self.split = split; self.loss = loss; self.accuracy = accuracy
    }
}

/// Per-block NMI between prompt and patch tokens.
public struct NMIRecord: Codable, Equatable, Sendable {
    public var step: Int, epoch: Double, time: Double, values: [Double], mode: String, normalization: String
    public init(step: Int, epoch: Double, time: Double, values: [Double], mode: String, normalization: String) {
        self.step = step; self.epoch = epoch; self.time = time; self.values = values; self.mode = mode; self.normalization = normalization
    }
}

/// The attention the frozen backbone gives the prompts, per block (docs/METHOD.md §4.3): the
/// share of the class token's attention (absent without a class token) and the patch tokens'
/// mean share, each averaged over heads and the probe images. Measured with NMI.
public struct AttentionRecord: Codable, Equatable, Sendable {
    public var step: Int, epoch: Double, time: Double, cls: [Double]?, patches: [Double]
    public init(step: Int, epoch: Double, time: Double, cls: [Double]?, patches: [Double]) {
        self.step = step; self.epoch = epoch; self.time = time; self.cls = cls; self.patches = patches
    }
}

/// The plane each block's prompt map is drawn in (docs/METHOD.md §4.4), written once per run
/// before its first `map`: per block the patch tokens' mean [D], the two principal axes [2·D],
/// and the share of the tokens' variance each explains.
/// With it, for the image view, the probe's first image (`image`: base64 of 8-bit pixels,
/// channels interleaved, rows top down, at most 64 a side).
public struct ProjectionRecord: Codable, Equatable, Sendable {
    public var step: Int, centre: [[Double]], axes: [[Double]], explained: [[Double]]
    public var image: String?, imageWidth: Int?, imageHeight: Int?, imageChannels: Int?
    public init(step: Int, centre: [[Double]], axes: [[Double]], explained: [[Double]],
                image: String? = nil, imageWidth: Int? = nil, imageHeight: Int? = nil, imageChannels: Int? = nil) {
        self.step = step; self.centre = centre; self.axes = axes; self.explained = explained
        self.image = image; self.imageWidth = imageWidth; self.imageHeight = imageHeight; self.imageChannels = imageChannels
    }

    /// The probe image's pixels, when the record has a well-formed one.
    public var imagePixels: (width: Int, height: Int, channels: Int, bytes: [UInt8])? {
        guard let image, let w = imageWidth, let h = imageHeight, let c = imageChannels, w > 0, h > 0, c == 1 || c == 3,
              let data = Data(base64Encoded: image), data.count == w * h * c else { return nil }
        return (w, h, c, [UInt8](data))
    }
}

/// Where the prompts sit among the patch tokens at a probe, per block (docs/METHOD.md §4.4): the
/// prompts' and at most 256 sampled probe patch tokens' coordinates in the run's projection (x, y
/// per point), and each prompt's distance to its nearest probe patch token in units of those
/// tokens' spread.
/// For the image view, on the probe's first image, per block: the prompt each patch is nearest to
/// (`image_nearest`), and the first 16 prompts' attention over the patches, prompt-major, in
/// percent of each prompt's largest (`image_attention`).
public struct MapRecord: Codable, Equatable, Sendable {
    public var step: Int, epoch: Double, time: Double, prompts: [[Double]], patches: [[Double]], nearest: [[Double]]
    public var imageNearest: [[Double]]?, imageAttention: [[Double]]?
    public init(step: Int, epoch: Double, time: Double, prompts: [[Double]], patches: [[Double]], nearest: [[Double]],
                imageNearest: [[Double]]? = nil, imageAttention: [[Double]]? = nil) {
        self.step = step; self.epoch = epoch; self.time = time; self.prompts = prompts; self.patches = patches; self.nearest = nearest
        self.imageNearest = imageNearest; self.imageAttention = imageAttention
    }
}

/// How the prompts were initialized, and how diverse they came out, per prompt layer
/// (docs/METHOD.md §3.6): mean pairwise cosine (absent for one prompt), effective rank, and mean
/// distance to the nearest probe-image token in units of those tokens' spread.
public struct InitRecord: Codable, Equatable, Sendable {
    public var step: Int, strategy: String, variant: String?, seconds: Double, gatherSeconds: Double?
    public var iterations: Int?, inertia: Double?, images: Int?
    public var cosine: [Double]?, effectiveRank: [Double]?, nearest: [Double]?
    public init(step: Int, strategy: String, variant: String? = nil, seconds: Double, gatherSeconds: Double? = nil,
                iterations: Int? = nil, inertia: Double? = nil, images: Int? = nil,
                cosine: [Double]? = nil, effectiveRank: [Double]? = nil, nearest: [Double]? = nil) {
        self.step = step; self.strategy = strategy; self.variant = variant; self.seconds = seconds
        self.gatherSeconds = gatherSeconds; self.iterations = iterations; self.inertia = inertia; self.images = images
        self.cosine = cosine; self.effectiveRank = effectiveRank; self.nearest = nearest
    }
}

/// A strategy switch mid-session: from `step` on, the run continues with re-initialized prompts.
public struct SegmentRecord: Codable, Equatable, Sendable {
    public var step: Int, time: Double, strategy: String, variant: String?, reason: String
    public init(step: Int, time: Double, strategy: String, variant: String? = nil, reason: String) {
        self.step = step; self.time = time; self.strategy = strategy; self.variant = variant; self.reason = reason
    }
}

/// Any other named value at a step (a metric this schema has no field for; what an imported
/// TensorBoard log's unknown tags become). The dashboard's `m` key cycles through them.
public struct ScalarRecord: Codable, Equatable, Sendable {
    public var step: Int, time: Double, tag: String, value: Double
    public init(step: Int, time: Double, tag: String, value: Double) {
        self.step = step; self.time = time; self.tag = tag; self.value = value
    }
}

/// A lifecycle event: pause, resume, restored (from a checkpoint), diverged, finished, stopped, error.
public struct EventRecord: Codable, Equatable, Sendable {
    public var step: Int, time: Double, event: String, message: String?
    public init(step: Int, time: Double, _ kind: RunEvent, message: String? = nil) {
        self.step = step; self.time = time; self.event = kind.name; self.message = message
    }
    public var kind: RunEvent { RunEvent(name: event) }
}

/// What an `event` record says. Logs from other writers may name events this version does not
/// know: they are kept, by name.
public enum RunEvent: Equatable, Sendable {
    case pause, resume, finished, stopped, diverged, error
    /// The run continues from a checkpoint: the records before it are the run's up to the
    /// checkpoint's step, those after it continue the run (nothing between is kept twice).
    case restored
    case other(String)

    public static let known: [RunEvent] = [.pause, .resume, .restored, .finished, .stopped, .diverged, .error]

    public init(name: String) { self = Self.known.first { $0.name == name } ?? .other(name) }

    public var name: String {
        switch self {
        case .pause: "pause"; case .resume: "resume"; case .finished: "finished"; case .stopped: "stopped"
        case .diverged: "diverged"; case .error: "error"; case .restored: "restored"; case .other(let n): n
        }
    }

    /// Whether the run ends with it (the writer syncs the log).
    public var ends: Bool {
        switch self {
        case .finished, .stopped, .diverged, .error: true
        case .pause, .resume, .restored, .other: false
        }
    }
}

/// One line of a run log. On disk each is a JSON object whose `kind` names the case.
public enum RunRecord: Equatable, Sendable {
    case header(RunHeader)
    case train(TrainRecord)
    case eval(EvalRecord)
    case nmi(NMIRecord)
    case attention(AttentionRecord)
    case projection(ProjectionRecord)
    case map(MapRecord)
    case initialization(InitRecord)
    case segment(SegmentRecord)
    case event(EventRecord)
    case scalar(ScalarRecord)

    public var kind: String {
        switch self {
        case .header: "header"
        case .train: "train"
        case .eval: "eval"
        case .nmi: "nmi"
        case .attention: "attention"
        case .projection: "projection"
        case .map: "map"
        case .initialization: "init"
        case .segment: "segment"
        case .event: "event"
        case .scalar: "scalar"
        }
    }

    /// The step the record belongs to (0 for the header).
    public var step: Int {
        switch self {
        case .header: 0
        case .train(let r): r.step
        case .eval(let r): r.step
        case .nmi(let r): r.step
        case .attention(let r): r.step
        case .projection(let r): r.step
        case .map(let r): r.step
        case .initialization(let r): r.step
        case .segment(let r): r.step
        case .event(let r): r.step
        case .scalar(let r): r.step
        }
    }

    /// Seconds since the run started, where the record has one.
    public var time: Double? {
        switch self {
        case .header, .initialization, .projection: nil
        case .train(let r): r.time
        case .eval(let r): r.time
        case .nmi(let r): r.time
        case .attention(let r): r.time
        case .map(let r): r.time
        case .segment(let r): r.time
        case .event(let r): r.time
        case .scalar(let r): r.time
        }
    }
}

extension RunRecord {
    private static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return e
    }()

    /// One JSON line, without the newline: `{"kind":"train",...}`.
    public func encodedLine() throws -> Data {
        let body: Data
        switch self {
        case .header(let r): body = try Self.encoder.encode(r)
        case .train(let r): body = try Self.encoder.encode(r)
        case .eval(let r): body = try Self.encoder.encode(r)
        case .nmi(let r): body = try Self.encoder.encode(r)
        case .attention(let r): body = try Self.encoder.encode(r)
        case .projection(let r): body = try Self.encoder.encode(r)
        case .map(let r): body = try Self.encoder.encode(r)
        case .initialization(let r): body = try Self.encoder.encode(r)
        case .segment(let r): body = try Self.encoder.encode(r)
        case .event(let r): body = try Self.encoder.encode(r)
        case .scalar(let r): body = try Self.encoder.encode(r)
        }
        // Splice the kind in front of the object's other fields.
        var line = Data("{\"kind\":\"\(kind)\"".utf8)
        if body.count > 2 { line.append(contentsOf: ",".utf8) }
        line.append(body.dropFirst())
        return line
    }

    public struct DecodeError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Decodes one line. Returns nil for a well-formed record of a kind this build does not know;
    /// throws for anything that is not a well-formed record (unknown fields are ignored).
    public static func decode(line: UnsafeRawBufferPointer) throws -> RunRecord? {
        let v = try JSONValue.parse(line)
        guard case .object(let o) = v else { throw DecodeError(message: "not a JSON object") }
        guard let kind = o["kind"]?.string else { throw DecodeError(message: "no kind") }
        func num(_ k: String) throws -> Double {
            guard let d = o[k]?.double else { throw DecodeError(message: "\(kind): field \(k) missing or not a number") }
            return d
        }
        func int(_ k: String) throws -> Int {
            guard let d = o[k]?.int else { throw DecodeError(message: "\(kind): field \(k) missing or not an integer") }
            return d
        }
        func str(_ k: String) throws -> String {
            guard let d = o[k]?.string else { throw DecodeError(message: "\(kind): field \(k) missing or not a string") }
            return d
        }
        func optNum(_ k: String) -> Double? { o[k]?.double }
        func optStr(_ k: String) -> String? { o[k]?.string }
        /// An array of numbers (non-finite ones as strings); absent, or anything else, is nil.
        func optNums(_ k: String) -> [Double]? {
            guard case .array(let a) = o[k] else { return nil }
            let values = a.compactMap(\.double)
            return values.count == a.count ? values : nil
        }
        /// An array of arrays of numbers; anything else throws.
        func rows(_ k: String) throws -> [[Double]] {
            guard case .array(let a) = o[k] else { throw DecodeError(message: "\(kind): field \(k) missing or not a list") }
            return try a.map { row in
                guard case .array(let r) = row else { throw DecodeError(message: "\(kind): \(k) holds something other than lists") }
                let values = r.compactMap(\.double)
                guard values.count == r.count else { throw DecodeError(message: "\(kind): \(k) holds something other than numbers") }
                return values
            }
        }
        switch kind {
        case "header":
            var params: [String: String]?
            if case .object(let p) = o["params"] { params = p.compactMapValues(\.string) }
            guard let deep = o["deep"]?.bool else { throw DecodeError(message: "header: field deep missing") }
            guard let seed = o["seed"]?.double, seed >= 0 else { throw DecodeError(message: "header: field seed missing") }
            var h = RunHeader(run: try str("run"), session: try str("session"), created: try str("created"), engine: try str("engine"),
                              task: try str("task"), backbone: try str("backbone"), backboneHash: optStr("backbone_hash"),
                              strategy: try str("strategy"), variant: optStr("variant"), deep: deep, prompts: try int("prompts"),
                              mode: optStr("mode"), pooling: optStr("pooling"), optimizer: try str("optimizer"), lr: try num("lr"),
                              weightDecay: try num("weight_decay"), epochs: try int("epochs"), batch: try int("batch"),
                              seed: UInt64(seed), threads: try int("threads"), params: params)
            h.schema = try int("schema")
            return .header(h)
        case "train":
            return .train(TrainRecord(step: try int("step"), epoch: try num("epoch"), time: try num("time"), loss: try num("loss"),
                                      lr: optNum("lr"), gradNorm: optNum("grad_norm"), imagesPerSecond: optNum("images_per_second")))
        case "eval":
            return .eval(EvalRecord(step: try int("step"), epoch: try num("epoch"), time: try num("time"), split: try str("split"),
                                    loss: optNum("loss"), accuracy: try num("accuracy")))
        case "nmi":
            guard case .array(let a) = o["values"] else { throw DecodeError(message: "nmi: field values missing") }
            let values = try a.map { v -> Double in
                guard let d = v.double else { throw DecodeError(message: "nmi: a value is not a number") }
                return d
            }
            return .nmi(NMIRecord(step: try int("step"), epoch: try num("epoch"), time: try num("time"), values: values,
                                  mode: try str("mode"), normalization: try str("normalization")))
        case "attention":
            guard let patches = optNums("patches") else { throw DecodeError(message: "attention: field patches missing or not numbers") }
            return .attention(AttentionRecord(step: try int("step"), epoch: try num("epoch"), time: try num("time"),
                                              cls: optNums("cls"), patches: patches))
        case "projection":
            return .projection(ProjectionRecord(step: try int("step"), centre: try rows("centre"), axes: try rows("axes"), explained: try rows("explained"),
                                                image: optStr("image"), imageWidth: o["image_width"]?.int, imageHeight: o["image_height"]?.int,
                                                imageChannels: o["image_channels"]?.int))
        case "map":
            return .map(MapRecord(step: try int("step"), epoch: try num("epoch"), time: try num("time"), prompts: try rows("prompts"),
                                  patches: try rows("patches"), nearest: try rows("nearest"),
                                  imageNearest: o["image_nearest"] == nil ? nil : try rows("image_nearest"),
                                  imageAttention: o["image_attention"] == nil ? nil : try rows("image_attention")))
        case "init":
            return .initialization(InitRecord(step: try int("step"), strategy: try str("strategy"), variant: optStr("variant"),
                                              seconds: try num("seconds"), gatherSeconds: optNum("gather_seconds"),
                                              iterations: o["iterations"]?.int, inertia: optNum("inertia"), images: o["images"]?.int,
                                              cosine: optNums("cosine"), effectiveRank: optNums("effective_rank"), nearest: optNums("nearest")))
        case "segment":
            return .segment(SegmentRecord(step: try int("step"), time: try num("time"), strategy: try str("strategy"),
                                          variant: optStr("variant"), reason: try str("reason")))
        case "scalar":
            return .scalar(ScalarRecord(step: try int("step"), time: try num("time"), tag: try str("tag"), value: try num("value")))
        case "event":
            return .event(EventRecord(step: try int("step"), time: try num("time"), RunEvent(name: try str("event")), message: optStr("message")))
        default:
            return nil
        }
    }
}
