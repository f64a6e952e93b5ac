import Foundation

/// The data sets cnnprune reads, by their `--dataset` name.
public enum DatasetKind: String, Sendable, CaseIterable, Codable {
    /// CIFAR-10: 32×32 colour images, 10 classes.
    case cifar10
    /// CIFAR-100: 32×32 colour images, 100 fine or 20 coarse classes.
    case cifar100
    /// MNIST: 28×28 grey handwritten digits, 10 classes.
    case mnist
    /// Fashion-MNIST: 28×28 grey images of clothing, 10 classes; MNIST's file layout.
    case fashionMNIST = "fashion-mnist"
    /// The user's own images, one subfolder per class (torchvision's `ImageFolder` layout).
    case folder

    /// The name people read.
    public var displayName: String {
        switch self {
        case .cifar10: return "CIFAR-10"
        case .cifar100: return "CIFAR-100"
        case .mnist: return "MNIST"
        case .fashionMNIST: return "Fashion-MNIST"
        case .folder: return "image folder"
        }
    }

    /// The common PyTorch-recipe normalisation: CIFAR-10 keeps the exercise's (0.5, 0.5);
    /// CIFAR-100, MNIST and Fashion-MNIST use their training sets' per-channel mean and std.
    public var defaultNormalization: Normalization {
        switch self {
        case .cifar10, .folder: return Normalization(mean: 0.5, std: 0.5)
        case .cifar100: return Normalization(mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762])
        case .mnist: return Normalization(mean: 0.1307, std: 0.3081)
        case .fashionMNIST: return Normalization(mean: 0.2860, std: 0.3530)
        }
    }

    /// The environment variable naming the data's folder when `--data` is not given.
    public var environmentVariable: String? {
        switch self {
        case .cifar10: return DataDirectory.environmentVariable
        case .cifar100: return "CIFAR100_DIR"
        case .mnist: return "MNIST_DIR"
        case .fashionMNIST: return "FASHION_MNIST_DIR"
        case .folder: return nil
        }
    }

    /// Where the data is looked for last (relative to the working directory).
    public var defaultPath: String? {
        switch self {
        case .cifar10: return DataDirectory.defaultPath
        case .cifar100: return "data/cifar-100-binary"
        case .mnist: return "data/mnist"
        case .fashionMNIST: return "data/fashion-mnist"
        case .folder: return nil
        }
    }

    /// One image's `[channels, height, width]` as published; nil for image folders (any size).
    public var imageShape: [Int]? {
        switch self {
        case .cifar10, .cifar100: return [3, 32, 32]
        case .mnist, .fashionMNIST: return [1, 28, 28]
        case .folder: return nil
        }
    }

    /// The number of classes as published (CIFAR-100: the 100 fine ones); nil for image folders.
    public var classCount: Int? {
        switch self {
        case .cifar10, .mnist, .fashionMNIST: return 10
        case .cifar100: return 100
        case .folder: return nil
        }
    }

    /// Whether `cnnprune download` can fetch it.
    public var isDownloadable: Bool { self != .folder }
}
