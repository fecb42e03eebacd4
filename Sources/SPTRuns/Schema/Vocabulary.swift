/// The keys of a header's `params` that the engine and `spt_torch.train` write (another writer may
/// add its own). With the record structs, `RunEvent`, `ControlChannel.Command` and `Metric`, these
/// are the names this side shares with `python/spt_torch/vocabulary.py`; `CrossLanguageTests`
/// compares the two sides name by name, so a rename lands on both in one commit.
public enum HeaderParam: String, CaseIterable, Sendable {
    /// The evaluation protocol, tune (train/val) or final (train+val/test) — not the recipe.
    case evalProtocol = "protocol"
    case evalSplit = "eval_split", splitSeed = "split_seed", trainSelection = "train_selection"
    case trainImages = "train_images", evalImages = "eval_images"
    case nmiMode = "nmi_mode", nmiNormalization = "nmi_normalization", nmiEvery = "nmi_every", nmiCadence = "nmi_cadence", probeImages = "probe_images"
    case promptDropout = "prompt_dropout", warmupEpochs = "warmup_epochs", recipe, precision, lrSchedule = "lr_schedule", momentum
    case initImages = "init_images", initDraw = "init_draw", augment, kmeansImages = "kmeans_images", kmeansRestarts = "kmeans_restarts"
    case blasCore = "blas_core", imageSize = "image_size", preprocessing, normalization
    /// Ranks of a `torchrun` job (the PyTorch trainer's).
    case worldSize = "world_size"
}

extension RunHeader {
    /// One of the shared `params`.
    public subscript(param p: HeaderParam) -> String? { params?[p.rawValue] }

    /// `params` from the shared keys.
    public static func params(_ values: KeyValuePairs<HeaderParam, String>) -> [String: String] {
        Dictionary(values.map { ($0.key.rawValue, $0.value) }, uniquingKeysWith: { _, last in last })
    }
}
