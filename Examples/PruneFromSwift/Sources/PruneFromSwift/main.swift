import CNNEngine
import CNNPruning

// A tiny convolutional network on 3×16×16 images with four classes.
let architecture = try Sequential(inputShape: [3, 16, 16]) {
    Conv2D(name: "conv1", inputChannels: 3, outputChannels: 8, kernelSize: 3, padding: 1, bias: false)
    BatchNorm2D(name: "bn1")
    ReLU()
    MaxPool2D(kernelSize: 2)
    Conv2D(name: "conv2", inputChannels: 8, outputChannels: 16, kernelSize: 3, padding: 1, bias: false)
    BatchNorm2D(name: "bn2")
    ReLU()
    GlobalAvgPool2D()
    Flatten()
    Linear(name: "fc", inputFeatures: 16, outputFeatures: 4)
}

// A labelled image set made in code: horizontal stripes, vertical stripes, a checkerboard and
// flat grey, each with a random phase and a little noise.
let classNames = ["horizontal", "vertical", "checkerboard", "flat"]
var generator = SeededGenerator(seed: 7)
func images(count: Int, generator: inout SeededGenerator) -> TensorImages {
    var scalars: [Float] = []
    var labels: [Int] = []
    for index in 0..<count {
        let label = index % classNames.count
        let phase = Int.random(in: 0..<4, using: &generator)
        for _ in 0..<3 {
            for y in 0..<16 {
                for x in 0..<16 {
                    let stripe: Bool
                    switch label {
                    case 0: stripe = (y + phase) / 2 % 2 == 0
                    case 1: stripe = (x + phase) / 2 % 2 == 0
                    case 2: stripe = ((x + phase) / 2 + (y + phase) / 2) % 2 == 0
                    default: stripe = false
                    }
                    let noise = Float.random(in: -0.3...0.3, using: &generator)
                    scalars.append((stripe ? 1 : label == 3 ? 0 : -1) + noise)
                }
            }
        }
        labels.append(label)
    }
    return TensorImages(images: Tensor(shape: [count, 3, 16, 16], scalars: scalars), labels: labels, classNames: classNames)
}
let train = images(count: 256, generator: &generator)
let test = images(count: 128, generator: &generator)

// Train a few epochs with Adam.
let network = Network(architecture: architecture, generator: &generator)
let trainer = Trainer(network: network, optimizer: Adam(parameterCount: architecture.parameterCount, learningRate: 0.01),
                      batchSize: 32, threads: 1)
for _ in 1...4 {
    let summary = try trainer.trainEpoch(on: train, generator: &generator)
    print("epoch \(summary.epoch): loss \((summary.trainLoss * 1000).rounded() / 1000)")
}

// Remove half of every prunable channel group, ranked by the L1 norm of the filters.
let pruner = GroupPruner(criterion: try ImportanceCriteria.named("l1"))
let outcome = try pruner.prune(trainer.network, to: .uniformRatio(0.5))

let evaluator = Evaluator(threads: 1)
for (title, model) in [("before", trainer.network), ("pruned", outcome.network)] {
    let cost = ArchitectureCost(model.architecture)
    let accuracy = evaluator.evaluate(model, on: test).accuracy
    print("\(title): \(cost.parameters) parameters, \(cost.multiplyAccumulates) MACs, accuracy \(accuracy.rounded()) %")
}
for (group, removed) in outcome.removed.sorted(by: { $0.key < $1.key }) {
    print("removed from \(group): channels \(removed)")
}
