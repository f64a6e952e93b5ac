/// The two halves of every data set: the images to train on and the held-out test images.
public enum DatasetSplit: String, Sendable, CaseIterable {
    case train, test
}
