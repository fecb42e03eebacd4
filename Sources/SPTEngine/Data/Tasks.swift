import Foundation

/// Where a built-in task's files live, overridable for machines that keep them elsewhere.
public enum DataPaths {
    public static var fashionMNIST: String {
        ProcessInfo.processInfo.environment["SPT_FASHION_MNIST"] ?? "/usr/share/datasets/fashion-mnist"
    }
}

public enum BuiltinData {
    public static let fashionClasses = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// Fashion-MNIST as Debian's `dataset-fashion-mnist` installs it.
    public static func fashionMNIST() throws -> DataSplits {
        try IDXReader.load(directory: DataPaths.fashionMNIST, name: "fashion-mnist", classNames: fashionClasses)
    }
}
