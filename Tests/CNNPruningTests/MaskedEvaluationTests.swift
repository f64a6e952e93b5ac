import CNNEngine
import CNNPruning
import Testing

/// The fast sweep against its naive twin: a full evaluation of each masked copy.
@Suite struct MaskedEvaluationTests {
    func naiveCorrect(_ network: Network, layer: PrunableLayer, masks: [[Int]], keepBias: Bool, data: TensorImages) -> [Int] {
        let evaluator = Evaluator(threads: 1, batchSize: 64)
        return masks.map { evaluator.evaluate(network.masking($0, of: layer, keepBias: keepBias), on: data).correct }
    }

    @Test(arguments: ["conv1", "conv2", "fc1"])
    func fastSweepEqualsFullReEvaluationAtEveryK(layer name: String) throws {
        let network = try Fixtures.smallCNN()
        let data = Fixtures.teacherImages(for: network, count: 300)
        let layer = try PrunableLayer(named: name, in: network.architecture)
        let ranking = L1Norm().ranking(of: try L1Norm().scores(for: layer, in: network, statistics: nil))
        let counts = Array(0..<layer.unitCount)
        // Nested masks, and masks that shrink and jump (which restart from the unmasked network).
        let jumping = [[1], [0, 2], [2], [], [0, 1, 2, 3], [3]]
        for threads in [1, 2] {
            let evaluation = MaskedEvaluation(network: network, layer: layer, data: data, threads: threads, batchSize: 32)
            for keepBias in [false, true] {
                let nested = MaskSequence.nested(ranking: ranking, counts: counts, keepBias: keepBias)
                let other = MaskSequence(masks: jumping, keepBias: keepBias)
                let fast = evaluation.correctCounts([nested, other])
                #expect(fast[0] == naiveCorrect(network, layer: layer, masks: nested.masks, keepBias: keepBias, data: data),
                        "\(name) nested, keepBias \(keepBias), \(threads) threads")
                #expect(fast[1] == naiveCorrect(network, layer: layer, masks: jumping, keepBias: keepBias, data: data),
                        "\(name) jumping, keepBias \(keepBias), \(threads) threads")
                #expect(fast[0][0] == data.count)
                #expect(fast[0].last! < data.count * 9 / 10, "masking must cost accuracy for the test to mean anything")
            }
        }
    }

    /// Cached, streamed (no cache) and continued-from-another-layer evaluations agree.
    @Test func cachedStreamedAndContinuedEvaluationsAgree() throws {
        let network = try Fixtures.smallCNN()
        let data = Fixtures.teacherImages(for: network, count: 120)
        let conv2 = try PrunableLayer(named: "conv2", in: network.architecture)
        let fc1 = try PrunableLayer(named: "fc1", in: network.architecture)
        let sequence = MaskSequence.nested(ranking: Array(0..<8).reversed(), counts: [0, 1, 3, 5, 7], keepBias: true)
        let naive = naiveCorrect(network, layer: fc1, masks: sequence.masks, keepBias: true, data: data)
        let cached = MaskedEvaluation(network: network, layer: conv2, data: data, threads: 2, batchSize: 16)
        let streamed = MaskedEvaluation(network: network, layer: conv2, data: data, threads: 2, collectStatistics: true, batchSize: 16, cacheLimit: 0)
        #expect(cached.isCached && !streamed.isCached)
        #expect(streamed.statistics?.samples == data.count)
        for base in [cached, streamed] {
            let continued = MaskedEvaluation(continuing: base, layer: fc1, collectStatistics: true)
            #expect(continued.correctCounts([sequence])[0] == naive)
            #expect(continued.statistics?.zeroCount == GroupCalibration.statistics(of: [fc1], in: network, on: data, threads: 1)[0].zeroCount)
        }
        let conv2Masks = MaskSequence.nested(ranking: [5, 0, 3, 1, 2, 4], counts: [0, 2, 4], keepBias: false)
        #expect(cached.correctCounts([conv2Masks]) == streamed.correctCounts([conv2Masks]))
    }

    @Test func statisticsGatheredOnTheWayEqualACalibrationPass() throws {
        let network = try Fixtures.smallCNN()
        let data = Fixtures.teacherImages(for: network, count: 50)
        let layer = try PrunableLayer(named: "conv2", in: network.architecture)
        let evaluation = MaskedEvaluation(network: network, layer: layer, data: data, threads: 2, collectStatistics: true, batchSize: 16)
        let direct = GroupCalibration.statistics(of: [layer], in: network, on: data, threads: 1)[0]
        let gathered = try #require(evaluation.statistics)
        #expect(gathered.samples == direct.samples && gathered.zeroCount == direct.zeroCount)
        // Equal up to Float round-off: the two passes run the convolutions as products of other
        // shapes (2 workers of 8 images against 1 of 50), and a matrix-product library may round
        // differently per shape (oneDNN's AVX2 kernels do; its AVX-512 ones and OpenBLAS did not).
        let scale = direct.sum.map(abs).max()!
        #expect(scale > 0)
        for (a, b) in zip(gathered.sum, direct.sum) { #expect(abs(a - b) <= 1e-5 * scale) }
    }

    @Test func theFixtureHasBalancedClasses() throws {
        let data = Fixtures.teacherImages(for: try Fixtures.smallCNN(), count: 300)
        for label in 0..<3 { #expect(data.labels.filter { $0 == label }.count > 30) }
    }

    @Test func layerSweepRanksOnceAndNests() throws {
        let network = try Fixtures.smallCNN()
        let data = Fixtures.teacherImages(for: network, count: 200)
        let layer = try PrunableLayer(named: "conv2", in: network.architecture)
        let requests = [SweepRequest(criterion: MeanActivation(), calibration: .test), SweepRequest(criterion: L2Norm())]
        let result = try Sweep.run(network: network, layer: layer, requests: requests, counts: [0, 2, 4, 6], evaluationData: data,
                                        threads: 2, statistics: Fixtures.noCalibration)
        #expect(result.baseline.correct == data.count && result.baseline.masked.isEmpty)
        let sweeps = result.sweeps
        #expect(sweeps.map(\.request.label) == ["mean-activation", "l2"])
        for sweep in sweeps {
            #expect(sweep.points.map(\.k) == [0, 2, 4, 6])
            #expect(sweep.ranking.sorted() == Array(0..<6))
            for point in sweep.points {
                #expect(point.masked == Array(sweep.ranking.prefix(point.k)).sorted())
                let naive = Evaluator(threads: 1).evaluate(network.masking(point.masked, of: layer), on: data).correct
                #expect(point.correct == naive)
            }
        }
        #expect(throws: PruningError.countOutOfRange(7, layer: "conv2", units: 6, unitName: "channel")) {
            try Sweep.run(network: network, layer: layer, requests: requests, counts: [0, 7], evaluationData: data,
                               threads: 1, statistics: Fixtures.noCalibration)
        }
    }
}
