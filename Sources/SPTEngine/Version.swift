/// Recorded in run logs and checkpoint metadata.
public let engineVersion = "0.1.0"
