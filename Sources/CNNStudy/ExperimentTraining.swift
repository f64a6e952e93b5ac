import CNNEngine
import Foundation

/// How `experiment` trains the models it studies when none are given: model `i` of a study is
/// trained with the recipe seeded `seed + i` (its initialisation and its batches), saved into the
/// study's folder (`model.safetensors` for model 0, `model-seed{SEED}.safetensors` for the
/// others) with the data set's metadata, and described for the report.
public struct ExperimentTraining {
    /// The training recipe of model 0 (the others differ by their seed).
    public var recipe: TrainingRecipe
    /// Training and evaluation workers.
    public var threads: Int
    /// The study's folder, where the trained models are saved.
    public var directory: URL
    /// The data set's metadata, saved with every model.
    public var dataMetadata: [String: String]

    /// A way of training the study's models.
    /// - Parameters:
    ///   - recipe: the training recipe of model 0.
    ///   - threads: training and evaluation workers.
    ///   - directory: the study's folder.
    ///   - dataMetadata: the data set's metadata, saved with every model.
    public init(recipe: TrainingRecipe, threads: Int, directory: URL, dataMetadata: [String: String]) {
        self.recipe = recipe
        self.threads = threads
        self.directory = directory
        self.dataMetadata = dataMetadata
    }

    /// The seed of model `index`: the recipe's seed plus `index` (wrapping).
    /// - Parameter index: the model's index, 0 first.
    /// - Returns: its seed.
    public func seed(ofModel index: Int) -> UInt64 { recipe.seed &+ UInt64(index) }

    /// The recipe of model `index`.
    /// - Parameter index: the model's index, 0 first.
    /// - Returns: the recipe seeded ``seed(ofModel:)``.
    public func recipe(ofModel index: Int) -> TrainingRecipe { recipe.seeded(seed(ofModel: index)) }

    /// Where model `index` is saved: `model.safetensors` for model 0, `model-seed{SEED}.safetensors` for the others.
    /// - Parameter index: the model's index, 0 first.
    /// - Returns: the file in ``directory``.
    public func url(ofModel index: Int) -> URL {
        directory.appendingPathComponent(index == 0 ? "model.safetensors" : "model-seed\(seed(ofModel: index)).safetensors")
    }

    /// Trains SimpleCNN model `index` from a fresh initialisation (seeded like its recipe) and
    /// saves it with its widths (``url(ofModel:)``).
    /// - Parameters:
    ///   - widths: the SimpleCNN's layer widths.
    ///   - index: the model's index, 0 first.
    ///   - train: the training images.
    ///   - test: the images evaluated after every epoch.
    ///   - progress: receives every batch and every evaluated epoch.
    /// - Returns: the model for the study, with its origin and training seconds.
    /// - Throws: what `TrainingRecipe.train` throws; file errors.
    public func trainSimpleCNN(_ widths: SimpleCNN, model index: Int, train: some LabeledImages, test: some LabeledImages,
                               progress: (TrainingRecipe.Event) -> Void = { _ in }) throws -> StudyModel {
        let recipe = recipe(ofModel: index)
        var generator = SeededGenerator(seed: recipe.seed)
        let start = DispatchTime.now().uptimeNanoseconds
        let trained = try recipe.train(Network(architecture: try widths.architecture(), generator: &generator),
                                       on: train, evaluatingOn: test, threads: threads, progress: progress)
        let trainingSeconds = seconds(since: start)
        let url = url(ofModel: index)
        try Checkpoint.save(trained.network, model: widths, to: url, metadata: dataMetadata)
        return StudyModel(network: trained.network, widths: widths,
                          origin: .trained(path: url.path, epochs: trained.epochs, recipe: recipe.description),
                          trainingSeconds: trainingSeconds)
    }

    /// Trains any `network` (model 0 of a channel-group study) and saves it as
    /// `model.safetensors` with the data set's metadata and its epochs trained.
    /// - Parameters:
    ///   - network: the fresh network.
    ///   - train: the training images.
    ///   - test: the images evaluated after every epoch.
    ///   - progress: receives every batch and every evaluated epoch.
    /// - Returns: the trained network, its origin for the report and the seconds taken.
    /// - Throws: what `TrainingRecipe.train` throws; file errors.
    public func train(_ network: Network, train: some LabeledImages, test: some LabeledImages,
                      progress: (TrainingRecipe.Event) -> Void = { _ in }) throws -> (network: Network, origin: ExperimentReport.ModelOrigin, seconds: Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let trained = try recipe.train(network, on: train, evaluatingOn: test, threads: threads, progress: progress)
        let url = url(ofModel: 0)
        var metadata = dataMetadata
        metadata[Checkpoint.epochsTrainedKey] = String(trained.epochs.count)
        try Checkpoint.save(trained.network, to: url, metadata: metadata)
        return (trained.network, .trained(path: url.path, epochs: trained.epochs, recipe: recipe.description), seconds(since: start))
    }
}
