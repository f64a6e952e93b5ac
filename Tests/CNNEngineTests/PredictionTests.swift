import CNNEngine
import Foundation
import Testing

/// Logits collected by the evaluator, the predictions CSV, the confusion matrix, and batches of 512.
@Suite struct PredictionTests {
    static func network(seed: UInt64 = 31) throws -> Network {
        var generator = SeededGenerator(seed: seed)
        return Network(architecture: try TrainingTests.model.architecture(), generator: &generator)
    }

    @Test(arguments: [(1, 7), (2, 512)])
    func csvRowsAreTheDirectForwardPass(threads: Int, batchSize: Int) throws {
        let data = TrainingTests.quadrants(count: 600, seed: 4)
        let network = try PredictionTests.network()
        let evaluation = Evaluator(threads: threads, batchSize: batchSize).evaluate(network, on: data, collectingLogits: true)
        let direct = network(data.images)                       // [600, 4], one forward pass over all images
        #expect(direct.shape == [600, 4] && evaluation.classes == 4)

        let lines = PredictionTable.csv(evaluation, on: data).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "index,label,predicted,logit_0,logit_1,logit_2,logit_3")
        #expect(lines.count == 602 && lines.last == "")        // header, 600 rows, final newline
        var correct = 0
        for (row, line) in lines.dropFirst().dropLast().enumerated() {
            let fields = line.split(separator: ",").map(String.init)
            #expect(fields.count == 7)
            #expect(Int(fields[0]) == row)
            #expect(Int(fields[1]) == data.labels[row])
            let logits = fields[3...].map { Float($0)! }
            for j in 0..<4 {
                #expect(logits[j] == evaluation.logits[row * 4 + j])          // written so it reads back exactly
                #expect(abs(logits[j] - direct[row, j]) <= 1e-5 * max(1, abs(direct[row, j])), "row \(row) logit \(j)")
            }
            let predicted = Int(fields[2])!
            #expect(predicted == logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) }!)
            if predicted == data.labels[row] { correct += 1 }
        }
        #expect(correct == evaluation.correct)
        // Without the option nothing is collected, and the predictions are the same.
        let plain = Evaluator(threads: threads, batchSize: batchSize).evaluate(network, on: data)
        #expect(plain.logits.isEmpty && plain.predictions == evaluation.predictions)
    }

    /// An evaluator keeps its workspaces for the next network only if that network needs the
    /// same buffers: here the second network's residual block has the first's output shape, but
    /// its inner convolutions, left with 2 channels, take other paths (thin patches, no
    /// Winograd) with other working space. Workspaces kept by shapes alone overflowed when a
    /// pruned ResNet needed more (`GroupRemovalStudyTests`, under the address sanitizer).
    @Test func anEvaluatorSizesItsWorkspacesForEachNetwork() throws {
        func network(inner: Int) throws -> Network {
            let architecture = try Sequential(inputShape: [3, 8, 8]) {
                Conv2D(name: "stem", inputChannels: 3, outputChannels: 8, kernelSize: 3, padding: 1)
                Residual(name: "block", main: [Conv2D(name: "a", inputChannels: 8, outputChannels: inner, kernelSize: 3, padding: 1),
                                               ReLU(),
                                               Conv2D(name: "b", inputChannels: inner, outputChannels: 8, kernelSize: 3, padding: 1)])
                GlobalAvgPool2D()
                Flatten()
                Linear(name: "fc", inputFeatures: 8, outputFeatures: 4)
            }
            var generator = SeededGenerator(seed: 33)
            return Network(architecture: architecture, generator: &generator)
        }
        let wide = try network(inner: 8), narrow = try network(inner: 2)
        #expect(wide.architecture.shapes == narrow.architecture.shapes)
        #expect(Workspace.Requirements(wide.foldingBatchNorm.architecture) != Workspace.Requirements(narrow.foldingBatchNorm.architecture))
        let data = TrainingTests.quadrants(count: 100, seed: 8)
        let evaluator = Evaluator(threads: 1, batchSize: 50)
        _ = evaluator.evaluate(wide, on: data)
        // The evaluator runs (and sizes for) each network with its ReLUs fused (`BatchNormFolding`).
        #expect(evaluator.requirements == Workspace.Requirements(wide.foldingBatchNorm.architecture))
        let reused = evaluator.evaluate(narrow, on: data, collectingLogits: true)
        #expect(evaluator.requirements == Workspace.Requirements(narrow.foldingBatchNorm.architecture))
        let direct = narrow(data.images)
        #expect(TestSupport.maxRelativeError(reused.logits, direct.scalars) < 1e-5)
    }

    @Test func confusionMatrixByHand() {
        let matrix = ConfusionMatrix(labels: [0, 1, 2, 2, 1, 0, 2], predictions: [0, 2, 2, 1, 1, 0, 2], rows: 3, columns: 3)
        #expect(matrix.counts == [[2, 0, 0], [0, 1, 1], [0, 1, 2]])
    }

    @Test func confusionMatrixOfAnEvaluationAgreesWithItsCounts() throws {
        let data = TrainingTests.quadrants(count: 300, seed: 6)
        let evaluation = Evaluator(threads: 2).evaluate(try PredictionTests.network(), on: data)
        let counts = ConfusionMatrix(evaluation, on: data).counts
        #expect(counts.count == 4 && counts.allSatisfy { $0.count == 4 })
        for label in 0..<4 {
            #expect(counts[label].reduce(0, +) == evaluation.perClassTotal[label])
            #expect(counts[label][label] == evaluation.perClassCorrect[label])
            for predicted in 0..<4 {
                let direct = (0..<300).filter { data.labels[$0] == label && Int(evaluation.predictions[$0]) == predicted }.count
                #expect(counts[label][predicted] == direct)
            }
        }
    }

    /// A step on 512 images sees all of them: its loss is the sum of the 512 per-sample
    /// cross-entropies of a direct forward pass, and a 512-batch epoch matches across thread counts.
    @Test func batchesOf512Train() throws {
        let data = TrainingTests.quadrants(count: 600, seed: 8)
        let network = try PredictionTests.network(seed: 2)
        let trainer = Trainer(network: network, optimizer: SGD(parameterCount: network.parameters.count, learningRate: 0.05, momentum: 0.9),
                              batchSize: 512, threads: 2)
        let indices = (0..<512).map { Int32(($0 * 37) % 600) }
        let loss = indices.withUnsafeBufferPointer { trainer.step(data: data, indices: $0) }
        let logits = network(data.images)
        var expected = 0.0
        for index in indices.map(Int.init) {
            let row = (0..<4).map { Double(logits[index, $0]) }
            let top = row.max()!
            expected += top + log(row.map { exp($0 - top) }.reduce(0, +)) - row[data.labels[index]]
        }
        #expect(abs(loss - expected) < 1e-4 * expected, "loss \(loss), expected \(expected)")
        #expect(trainer.network.parameters != network.parameters)

        func epoch(threads: Int) throws -> [Float] {
            let trainer = Trainer(network: network, optimizer: SGD(parameterCount: network.parameters.count, learningRate: 0.05, momentum: 0.9),
                                  batchSize: 512, threads: threads)
            var generator = SeededGenerator(seed: 1)
            let summary = try trainer.trainEpoch(on: data, generator: &generator)
            #expect(summary.trainLoss.isFinite)
            return trainer.network.parameters
        }
        #expect(TestSupport.maxRelativeError(try epoch(threads: 1), try epoch(threads: 2)) < 1e-4)
    }
}
