/// The two halves of every data set: the images to train on and the held-out test images.
public enum DatasetSplit: String, Sendable, CaseIterable {
    /// The images a network is trained on.
    case train
    /// The held-out images it is evaluated on.
    case test
}
