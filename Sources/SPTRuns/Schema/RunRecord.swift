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
    public var step: Int, epoch: Double, time: Double, loss: Double, lr: Double, gradNorm: Double, imagesPerSecond: Double
    public init(step: Int, epoch: Double, time: Double, loss: Double, lr: Double, gradNorm: Double, imagesPerSecond: Double) {
        self.step = step; self.epoch = epoch; self.time = time; self.loss = loss; self.lr = lr
        self.gradNorm = gradNorm; self.imagesPerSecond = imagesPerSecond
    }
}

/// An evaluation on one split ("train", "val" or "test").
public struct EvalRecord: Codable, Equatable, Sendable {
    public var step: Int, epoch: Double, time: Double, split: String, loss: Double, accuracy: Double
    public init(step: Int, epoch: Double, time: Double, split: String, loss: Double, accuracy: Double) {
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

/// How the prompts were initialized.
public struct InitRecord: Codable, Equatable, Sendable {
    public var step: Int, strategy: String, variant: String?, seconds: Double, gatherSeconds: Double?
    public var iterations: Int?, inertia: Double?, images: Int?
    public init(step: Int, strategy: String, variant: String? = nil, seconds: Double, gatherSeconds: Double? = nil,
                iterations: Int? = nil, inertia: Double? = nil, images: Int? = nil) {
        self.step = step; self.strategy = strategy; self.variant = variant; self.seconds = seconds
        self.gatherSeconds = gatherSeconds; self.iterations = iterations; self.inertia = inertia; self.images = images
    }
}

/// A strategy switch mid-session: from `step` on, the run continues with re-initialized prompts.
public struct SegmentRecord: Codable, Equatable, Sendable {
    public var step: Int, time: Double, strategy: String, variant: String?, reason: String
    public init(step: Int, time: Double, strategy: String, variant: String? = nil, reason: String) {
        self.step = step; self.time = time; self.strategy = strategy; self.variant = variant; self.reason = reason
    }
}

/// A lifecycle event: pause, resume, diverged, finished, stopped, error.
public struct EventRecord: Codable, Equatable, Sendable {
    public var step: Int, time: Double, event: String, message: String?
    public init(step: Int, time: Double, event: String, message: String? = nil) {
        self.step = step; self.time = time; self.event = event; self.message = message
    }
}

/// One line of a run log. On disk each is a JSON object whose `kind` names the case.
public enum RunRecord: Equatable, Sendable {
    case header(RunHeader)
    case train(TrainRecord)
    case eval(EvalRecord)
    case nmi(NMIRecord)
    case initialization(InitRecord)
    case segment(SegmentRecord)
    case event(EventRecord)

    public var kind: String {
        switch self {
        case .header: "header"
        case .train: "train"
        case .eval: "eval"
        case .nmi: "nmi"
        case .initialization: "init"
        case .segment: "segment"
        case .event: "event"
        }
    }

    /// The step the record belongs to (0 for the header).
    public var step: Int {
        switch self {
        case .header: 0
        case .train(let r): r.step
        case .eval(let r): r.step
        case .nmi(let r): r.step
        case .initialization(let r): r.step
        case .segment(let r): r.step
        case .event(let r): r.step
        }
    }

    /// Seconds since the run started, where the record has one.
    public var time: Double? {
        switch self {
        case .header, .initialization: nil
        case .train(let r): r.time
        case .eval(let r): r.time
        case .nmi(let r): r.time
        case .segment(let r): r.time
        case .event(let r): r.time
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
        case .initialization(let r): body = try Self.encoder.encode(r)
        case .segment(let r): body = try Self.encoder.encode(r)
        case .event(let r): body = try Self.encoder.encode(r)
        }
        // Splice the kind in front of the object's other fields.
        var line = Data("{\"kind\":\"\(kind)\"".utf8)
        if body.count > 2 { line.append(contentsOf: ",".utf8) }
        line.append(body.dropFirst())
        return line
    }

    /// Decodes one line. Returns nil for a well-formed record of a kind this build does not know.
    public static func decode(line: Data, decoder: JSONDecoder) throws -> RunRecord? {
        struct Kind: Decodable { let kind: String }
        let k = try decoder.decode(Kind.self, from: line).kind
        switch k {
        case "header": return .header(try decoder.decode(RunHeader.self, from: line))
        case "train": return .train(try decoder.decode(TrainRecord.self, from: line))
        case "eval": return .eval(try decoder.decode(EvalRecord.self, from: line))
        case "nmi": return .nmi(try decoder.decode(NMIRecord.self, from: line))
        case "init": return .initialization(try decoder.decode(InitRecord.self, from: line))
        case "segment": return .segment(try decoder.decode(SegmentRecord.self, from: line))
        case "event": return .event(try decoder.decode(EventRecord.self, from: line))
        default: return nil
        }
    }

    public static func makeDecoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return d
    }
}
