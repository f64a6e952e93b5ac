import CNNEngine
import CNNPruning
import Foundation
import Testing

/// Statistics of channels inside residual blocks, data-driven group criteria, the group sweep
/// against full evaluation, and iterative group pruning.
@Suite struct GroupStudyTests {
    func network(_ name: String, width: Double = 0.25, seed: UInt64 = 50) throws -> Network {
        let graph = try ModelZoo.graph(named: name, classes: 4, inputShape: [3, 32, 32], widthMultiplier: width)
        var generator = SeededGenerator(seed: seed)
        var network = Network(architecture: try graph.sequential(), generator: &generator)
        for entry in network.architecture.parameterEntries where entry.initializer != .uniformFanIn {
            for i in entry.offset..<(entry.offset + entry.count) { network.parameters[i] = generator.uniform(bound: 0.5) + (entry.initializer == .ones ? 1 : 0) }
        }
        for entry in network.architecture.stateEntries where !entry.isInteger {
            for i in entry.offset..<(entry.offset + entry.count) { network.state[i] = generator.uniform(bound: 0.4) + (entry.initializer == .ones ? 1 : 0) }
        }
        return network
    }

    /// A network whose predictions on its images spread over the classes with small margins
    /// (the output bias shifted by each class's mean logit; random networks otherwise tend to
    /// predict one class for everything), and those images labelled by it: masking then flips
    /// predictions, so that comparisons of accuracies can fail.
    func balanced(_ name: String, width: Double, count: Int) throws -> (network: Network, data: TensorImages) {
        var network = try network(name, width: width)
        let inputs = Fixtures.randomInputs(for: network, count: count, seed: 7)
        let logits = network(inputs)
        let classes = logits.shape[1]
        let bias = try #require(network.architecture.parameterEntries.last)
        #expect(bias.name.hasSuffix(".bias") && bias.count == classes)
        for j in 0..<classes {
            let mean = (0..<count).map { logits.scalars[$0 * classes + j] }.reduce(0, +) / Float(count)
            network.parameters[bias.offset + j] -= mean
        }
        return (network, Fixtures.teacherImages(for: network, count: count, seed: 7))
    }

    func images(for network: Network, count: Int = 24, seed: UInt64 = 7) -> TensorImages {
        Fixtures.teacherImages(for: network, count: count, seed: seed)
    }

    @Test func tapsReadTheOutputOfLayersInsideResidualBlocks() throws {
        let network = try network("resnet20")
        let architecture = network.architecture
        #expect(GroupCalibration.point(of: "layer1.0.conv1", in: architecture) == "layer1.0.bn1")
        #expect(GroupCalibration.point(of: "layer2.0.downsample.0", in: architecture) == "layer2.0.downsample.1")
        #expect(GroupCalibration.point(of: "fc", in: architecture) == "fc")
        // The fast layout shares bn1's storage with the ReLU after it: no tap there.
        #expect(architecture.outputTap(ofLayer: "layer1.0.bn1") == nil)
        let observed = try architecture.keepingInnerOutputs()
        #expect(observed.parameterCount == architecture.parameterCount && observed.graph == architecture.graph)
        let tap = try #require(observed.outputTap(ofLayer: "layer1.0.bn1"))
        #expect(tap.shape == [4, 32, 32])
        #expect(observed.outputTap(ofLayer: "layer1.0.nothing") == nil)
        let reading = Network(architecture: observed, parameters: network.parameters, state: network.state)

        // Independent truth: the same layers as a plain chain (stem, then the block's conv1 and
        // bn1 as top-level layers), with the tensors copied by name.
        let chain = try ModelGraph(inputShape: [3, 32, 32], layers: [
            .convolution(name: "conv1", outputChannels: 4, kernelSize: 3, stride: 1, padding: 1, bias: false), .batchNorm(name: "bn1"), .relu,
            .convolution(name: "layer1.0.conv1", outputChannels: 4, kernelSize: 3, stride: 1, padding: 1, bias: false),
            .batchNorm(name: "layer1.0.bn1"),
        ]).sequential()
        var truth = Network(architecture: chain, parameters: [Float](repeating: 0, count: chain.parameterCount))
        for entry in chain.parameterEntries + chain.stateEntries {
            try truth.setTensor(try network.tensor(named: entry.name), named: entry.name)
        }
        let data = images(for: network, count: 6)
        let expected = truth(data.images).scalars
        let workspace = Workspace(architecture: observed, batchCapacity: 6, training: false)
        data.images.scalars.withUnsafeBufferPointer { workspace.activation(0).update(from: $0.baseAddress!, count: $0.count) }
        reading.forward(workspace, batch: 6, layers: tap.requiredLayers)
        // Same logits either way.
        #expect(reading(data.images).scalars == network(data.images).scalars)
        let read = Array(UnsafeBufferPointer(start: workspace.output(at: tap, batch: 6), count: expected.count))
        #expect(zip(read, expected).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })

        // The group statistics are those values' per-channel means.
        let group = try #require(try ChannelGroups(architecture).group(named: "layer1.0.conv1"))
        let statistics = try #require(try GroupCalibration.statistics(of: [group], in: network, on: data, threads: 2, batchSize: 4)[group.name])
        #expect(statistics.points == ["layer1.0.bn1"])
        for channel in 0..<4 {
            var sum = 0.0, zeros = 0
            for n in 0..<6 {
                for i in 0..<1024 {
                    let value = Double(expected[(n * 4 + channel) * 1024 + i])
                    sum += value
                    if value <= 0 { zeros += 1 }
                }
            }
            #expect(abs(statistics.producers[0].mean[channel] - sum / 6144) < 1e-5)
            #expect(statistics.producers[0].zeroCount[channel] == zeros)
        }
    }

    @Test func groupTaylorEqualsTheDerivativeOfScalingTheChannel() throws {
        // Σ a · ∂L/∂a over a channel at its BatchNorm's output is d/dε of the summed loss when the
        // channel is scaled by (1 + ε), i.e. γ and β of that channel both scaled: a forward-only truth.
        let network = try network("vgg11-bn", width: 0.125)
        let data = images(for: network, count: 8)
        let groups = try ChannelGroups(network.architecture)
        let group = try #require(groups.group(named: "features.4"))
        let statistics = try #require(try GroupCalibration.statistics(of: [group], in: network, on: data, gradients: true, threads: 1)[group.name])
        #expect(statistics.points == ["features.5"])
        func loss(_ network: Network) -> Double {
            let logits = network(data.images).scalars
            var total = 0.0
            for n in 0..<data.count {
                let row = logits[(n * 4)..<((n + 1) * 4)].map(Double.init)
                let top = row.max()!
                total += log(row.map { exp($0 - top) }.reduce(0, +)) + top - row[data.labels[n]]
            }
            return total
        }
        let epsilon: Float = 1e-2
        for channel in 0..<group.units {
            var plus = network, minus = network
            for tensor in ["features.5.weight", "features.5.bias"] {
                let entry = try network.entry(named: tensor)
                plus.parameters[entry.offset + channel] *= 1 + epsilon
                minus.parameters[entry.offset + channel] *= 1 - epsilon
            }
            let derivative = (loss(plus) - loss(minus)) / (2 * Double(epsilon))
            let computed = statistics.producers[0].gradientProductSum![channel]
            #expect(abs(computed - derivative) <= 2e-3 * max(1, abs(derivative)), "channel \(channel): \(computed) vs \(derivative)")
        }
        // And the criterion is its magnitude per observation, normalised.
        let scores = try Taylor().scores(for: group, in: network, statistics: statistics)
        #expect(scores.count == group.units)
        #expect(throws: PruningError.self) { try Taylor().scores(for: group, in: network) }
    }

    @Test(arguments: ["resnet20", "vgg11-bn", "simplecnn"])
    func groupSweepEqualsEvaluatingEveryMaskedCopy(_ name: String) throws {
        let (network, data) = try balanced(name, width: 0.125, count: 40)
        #expect(Set(data.labels).count > 1)
        let groups = try ChannelGroups(network.architecture)
        // Inside a block (past the consumer), coupled through sums (no resume point), at the top
        // level past a convolution consumer, and (SimpleCNN's conv2 and fc1) with the channels
        // zeroed before a flatten or a linear layer.
        let chosen = ["resnet20": ["layer2.1.conv1", "layer3.0.conv2", "conv1"], "vgg11-bn": ["features.0", "features.11"],
                      "simplecnn": ["conv1", "conv2", "fc1"]][name]!
        let evaluator = Evaluator(threads: 1, batchSize: 100)
        for groupName in chosen {
            let group = try #require(groups.group(named: groupName))
            let statistics = try GroupCalibration.statistics(of: [group], in: network, on: data, threads: 1)[group.name]
            let requests = [SweepRequest(criterion: L1Norm()), SweepRequest(criterion: MeanActivation()), SweepRequest(criterion: RandomImportance(seed: 3))]
            let counts = Array(0...group.units)
            let result = try Sweep.run(network: network, group: group, requests: requests, counts: counts, evaluationData: data,
                                            threads: 1, statistics: statistics)
            #expect(result.baseline.correct == evaluator.evaluate(network, on: data).correct)
            for sweep in result.sweeps {
                #expect(sweep.ranking.sorted() == Array(0..<group.units))
                for point in sweep.points {
                    let masked = try network.masking(sweep.ranking.prefix(point.k), of: group)
                    #expect(point.correct == evaluator.evaluate(masked, on: data).correct, "\(name) \(groupName) \(sweep.request.label) K=\(point.k)")
                    #expect(point.masked == sweep.ranking.prefix(point.k).sorted())
                }
            }
            // With every channel gone the prediction no longer depends on the input through the group.
            #expect(result.sweeps[0].points.last!.k == group.units)
        }
        // The shared prefix ends at the block (or layer) holding the group's first producer.
        guard name != "simplecnn" else { return }
        let (inner, holder) = name == "resnet20" ? ("layer2.1.conv1", "layer2.1") : ("features.11", "features.11")
        let evaluation = try GroupMaskedEvaluation(network: network, group: try #require(groups.group(named: inner)), threads: 2)
        #expect(evaluation.firstAffectedLayer == network.architecture.layerIndex(named: holder))
        #expect(throws: PruningError.self) {
            try Sweep.run(network: network, group: try #require(groups.group(named: chosen[0])), requests: [SweepRequest(criterion: L1Norm())],
                               counts: [999], evaluationData: data, threads: 1)
        }
    }

    /// The evaluator gives the forward pass's logits, with and without BatchNorm folding
    /// (torchvision's networks: depthwise convolutions, ReLU6, padded max-pools, sums without a
    /// ReLU); unfolded, the same operations in the same order, the same predictions.
    @Test(arguments: ["mobilenetv2", "resnet18"])
    func evaluatorAgreesWithTheForwardPass(_ name: String) throws {
        let (network, data) = try balanced(name, width: 0.125, count: 40)
        let logits = network(data.images).scalars
        for folds in [false, true] {
            let evaluation = Evaluator(threads: 1, batchSize: 100, foldsBatchNorm: folds).evaluate(network, on: data, collectingLogits: true)
            let worst = zip(evaluation.logits, logits).map { abs($0 - $1) }.max() ?? .infinity
            // The balanced logits are differences of near-equal O(1) logits (a narrow random
            // MobileNetV2's vary by 1e-7 across images): compared in absolute terms.
            #expect(worst <= 1e-6, "\(name), folding \(folds): worst logit difference \(worst)")
            if !folds { #expect(evaluation.correct == data.count, "\(name)") }
        }
    }

    /// A sweep over channels that pass through a depthwise convolution (at the top level, and
    /// inside an inverted residual block, as MobileNetV2's) equals evaluating every masked copy.
    /// A shallow network of its own: a narrow random MobileNetV2's logits differ by round-off
    /// between images, which would make counts of correct predictions meaningless.
    @Test func depthwiseGroupSweepEqualsEvaluatingEveryMaskedCopy() throws {
        func depthwise(_ name: String, _ channels: Int, stride: Int) -> [LayerSpec] {
            [.convolution(name: name, outputChannels: channels, geometry: .init(kernel: 3, stride: stride, padding: 1), groups: channels, bias: false),
             .batchNorm(name: name + "_bn"), .activation(.relu6)]
        }
        let block: [LayerSpec] = [.convolution(name: "expand", outputChannels: 24, kernelSize: 1, stride: 1, padding: 0, bias: false),
                                  .batchNorm(name: "expand_bn"), .activation(.relu6)]
            + depthwise("dw", 24, stride: 1)
            + [.convolution(name: "project", outputChannels: 12, kernelSize: 1, stride: 1, padding: 0, bias: false), .batchNorm(name: "project_bn")]
        let layers: [LayerSpec] = [.convolution(name: "stem", outputChannels: 8, kernelSize: 3, stride: 1, padding: 1, bias: false),
                                   .batchNorm(name: "stem_bn"), .activation(.relu6)]
            + depthwise("dw1", 8, stride: 2)
            + [.convolution(name: "pw", outputChannels: 12, kernelSize: 1, stride: 1, padding: 0, bias: true), .relu,
               .residual(name: "block", main: block, shortcut: [], rectifiesOutput: false),
               .globalAvgPool, .flatten, .linear(name: "fc", outputFeatures: 5)]
        var generator = SeededGenerator(seed: 5)
        var network = Network(architecture: try ModelGraph(inputShape: [3, 12, 12], layers: layers).sequential(), generator: &generator)
        for entry in network.architecture.stateEntries where entry.name.hasSuffix("running_var") {
            for i in entry.offset..<(entry.offset + entry.count) { network.state[i] = 0.05 }
        }
        // Every class predicted about as often: the logits' means over the images go from the bias.
        let inputs = Fixtures.randomInputs(for: network, count: 40, seed: 3), logits = network(inputs)
        let bias = try network.entry(named: "fc.bias")
        for j in 0..<5 { network.parameters[bias.offset + j] -= (0..<40).map { logits.scalars[$0 * 5 + j] }.reduce(0, +) / 40 }
        let data = Fixtures.teacherImages(for: network, count: 40, seed: 3)
        #expect(Set(data.labels).count > 2)
        let groups = try ChannelGroups(network.architecture)
        let evaluator = Evaluator(threads: 1, batchSize: 100, foldsBatchNorm: false)
        for name in ["stem", "block.expand"] {
            let group = try #require(groups.group(named: name))
            #expect(!group.depthwiseLayers.isEmpty && group.isPrunable(allowResidual: false), "\(name)")
            let result = try Sweep.run(network: network, group: group, requests: [SweepRequest(criterion: L1Norm()), SweepRequest(criterion: RandomImportance(seed: 4))],
                                       counts: Array(0...group.units), evaluationData: data, threads: 1)
            #expect(result.baseline.correct == data.count)
            var seen = Set<Int>()
            for sweep in result.sweeps {
                for point in sweep.points {
                    let masked = try network.masking(sweep.ranking.prefix(point.k), of: group)
                    #expect(point.correct == evaluator.evaluate(masked, on: data).correct, "\(name) \(sweep.request.label) K=\(point.k)")
                    seen.insert(point.correct)
                }
            }
            #expect(seen.count > 2, "\(name): the masks must matter")
        }
    }

    /// The resume point of group `name` of `architecture`.
    func resumePoint(_ name: String, in architecture: Sequential) throws -> GroupResumePoint? {
        let group = try ChannelGroups(architecture).group(named: name)
        return GroupResumePoint(group: try #require(group), in: architecture)
    }

    @Test func resumePointsFollowTheChainToItsConsumer() throws {
        let resnet = try network("resnet20", width: 0.125).architecture
        // Inside a block: conv1 · bn1 · ReLU, then conv2, the consumer, then bn2 (main layer 4).
        let inner = try #require(try resumePoint("layer2.1.conv1", in: resnet))
        let block = try #require(resnet.layerIndex(named: "layer2.1"))
        #expect(inner.place == .block(block, mainLayer: 3))
        #expect(inner.consumer?.place == .block(block, mainLayer: 4))
        #expect(inner.consumer?.weight == "layer2.1.conv2.weight")
        #expect(inner.channelShape == [4, 16, 16] && inner.plane == 256)
        #expect(inner.sharedLayers == 0..<(block + 1))
        // Groups coupled through residual sums, and the output, have none.
        #expect(try resumePoint("conv1", in: resnet) == nil)
        #expect(try resumePoint("fc", in: resnet) == nil)
        // Top level: VGG's features.0 · BatchNorm · ReLU · max-pool, then features.4.
        let first = try #require(try resumePoint("features.0", in: try network("vgg11-bn", width: 0.125).architecture))
        #expect(first.place == .activation(4) && first.consumer?.place == .activation(5) && first.plane == 256)
        // SimpleCNN's fc1 (a Linear) · ReLU, then fc2, a Linear consumer: one value per unit.
        let simple = try network("simplecnn", width: 0.125).architecture
        let fc1 = try #require(try resumePoint("fc1", in: simple))
        let fc2 = try #require(simple.layerIndex(named: "fc2"))
        #expect(fc1.plane == 1 && fc1.consumer?.weight == "fc2.weight" && fc1.place == .activation(fc2))
        #expect(fc1.consumer?.place == .activation(fc2 + 1) && fc1.isRectified && !fc1.isNormalized)
        #expect(fc1.fill(bias: -0.5) == 0 && fc1.fill(bias: 0.25) == 0.25)
        // conv2 · ReLU · max-pool · flatten, then fc1: 8 × 8 = 64 features per channel (at full width).
        let conv2 = try #require(try resumePoint("conv2", in: try SimpleCNN().architecture()))
        #expect(conv2.place == .activation(7) && conv2.plane == 64 && conv2.consumer?.weight == "fc1.weight")
        #expect(conv2.inputLayers == 0..<7)
        // A BatchNorm in the chain transforms a kept bias: no fill.
        #expect(first.isNormalized && first.fill(bias: 1) == nil)
    }

    @Test(arguments: ["resnet20", "vgg11-bn"])
    func maskedSetsInAnyOrderEqualEvaluatingEveryCopy(_ name: String) throws {
        let (network, data) = try balanced(name, width: 0.125, count: 30)
        let found = try ChannelGroups(network.architecture).group(named: name == "resnet20" ? "layer3.1.conv1" : "features.4")
        let group = try #require(found)
        let evaluation = try GroupMaskedEvaluation(network: network, group: group, threads: 2, batchSize: 7)
        // Growing, shrinking, disjoint, repeated and empty sets: each from the right start.
        let sets = [[2], [2, 5, 0], [5], [], [1, 3, 4, 6, 7], [7, 6, 4, 3, 1], Array(0..<group.units), [0]]
        let counts = try evaluation.correctCounts(masking: sets, on: data)
        let evaluator = Evaluator(threads: 1)
        for (set, count) in zip(sets, counts) {
            #expect(count == evaluator.evaluate(try network.masking(set, of: group), on: data).correct, "\(name) \(set)")
        }
        // With contributions shared (each channel's own convolution), and without (one
        // convolution over each step's newly masked channels, the default for a convolution).
        #expect(evaluation.contributionBudget == 0)
        let shared = try GroupMaskedEvaluation(network: network, group: group, threads: 2, batchSize: 7, contributionBudget: 1 << 22)
        #expect(try shared.correctCounts(masking: sets, on: data) == counts)
        // The masks matter: otherwise the comparison could not fail.
        #expect(Set(counts).count > 2, "\(counts)")
        #expect(throws: RemovalError.self) { _ = try evaluation.correctCounts(masking: [[group.units]], on: data) }
    }

    @Test func sensitivityListsUnprunableGroupsWithTheirReason() throws {
        let network = try network("resnet20", width: 0.125)
        let data = images(for: network, count: 16)
        let groups = try ChannelGroups(network.architecture)
        let result = try Sensitivity.run(network: network, groups: groups.groups, allowResidual: false,
                                              request: SweepRequest(criterion: L1Norm()), evaluationData: data, threads: 2)
        #expect(result.curves.map(\.group.name) == groups.prunable(allowResidual: false).map(\.name))
        #expect(result.unprunable.map(\.group) == ["conv1", "layer2.0.conv2", "layer3.0.conv2", "fc"])
        #expect(result.unprunable.allSatisfy { !$0.reason.isEmpty })
        #expect(result.unprunable.first { $0.group == "fc" }?.reason.contains("output") == true)
        for curve in result.curves {
            #expect(curve.sweep.points.first?.k == 0 && curve.fractions.first == 0)
            #expect(curve.sweep.points.map(\.k) == curve.sweep.points.map(\.k).sorted())
        }
    }

    @Test func iterativePruningReachesTheTargetInSteps() throws {
        let network = try network("resnet20", width: 0.25)
        let groups = try ChannelGroups(network.architecture)
        let prunable = groups.prunable(allowResidual: false)
        let total = prunable.reduce(0) { $0 + $1.units }
        let pruner = GroupPruner(criterion: L1Norm())
        var seen: [Int] = []
        let outcome = try pruner.prune(network, to: .globalRatio(0.3), steps: 3) { step, current in
            seen.append(current.architecture.parameterCount)
            #expect(step == seen.count)
            return current
        }
        #expect(seen.count == 2 && seen[0] > seen[1] && seen[1] > outcome.network.architecture.parameterCount)
        #expect(outcome.removed.values.reduce(0) { $0 + $1.count } == Int((Double(total) * 0.3).rounded(.down)))
        // Indices are those of the input network, distinct within a group.
        for (name, units) in outcome.removed {
            #expect(Set(units).count == units.count)
            #expect(units.allSatisfy { $0 < groups.group(named: name)!.units })
        }
        // --k in steps: ⌊K·i/S⌋ after step i.
        var widths: [Int] = []
        let counted = try pruner.prune(network, to: .count(6, group: "layer3.1.conv1"), steps: 3) { _, current in
            widths.append(try ChannelGroups(current.architecture).group(named: "layer3.1.conv1")!.units)
            return current
        }
        #expect(widths == [14, 12])
        #expect(try ChannelGroups(counted.network.architecture).group(named: "layer3.1.conv1")?.units == 10)
        // Uniform ratio: each group ends at ⌊units·r⌋ removed, as in one step.
        let uniform = try pruner.prune(network, to: .uniformRatio(0.5), steps: 2) { $1 }
        let oneStep = try pruner.prune(network, to: .uniformRatio(0.5))
        #expect(uniform.removed.mapValues(\.count) == oneStep.removed.mapValues(\.count))
        // MACs in steps end below the target.
        let macs = try pruner.prune(network, to: .multiplyAccumulates(0.6), steps: 2) { $1 }
        #expect(Double(ArchitectureCost(macs.network.architecture).multiplyAccumulates) <= 0.6 * Double(ArchitectureCost(network.architecture).multiplyAccumulates))
        #expect(throws: PruningTargetError.self) { try pruner.prune(network, to: .count(2, group: "layer3.1.conv1"), steps: 3) { $1 } }
    }

    @Test func uniformAllocationRemovesTheSmallestCommonShareThatMeetsTheBudget() throws {
        let network = try network("vgg11-bn", width: 0.25)
        let prunable = try ChannelGroups(network.architecture).prunable(allowResidual: false)
        let pruner = GroupPruner(criterion: L1Norm(), allocation: .uniform)
        let fullMACs = Double(ArchitectureCost(network.architecture).multiplyAccumulates)
        let fullParameters = Double(network.architecture.parameterCount)
        for (target, measure, full) in [(PruningTarget.multiplyAccumulates(0.5), { (n: Network) in Double(ArchitectureCost(n.architecture).multiplyAccumulates) }, fullMACs),
                                        (.parameters(0.4), { (n: Network) in Double(n.architecture.parameterCount) }, fullParameters)] {
            let fraction: Double
            switch target { case .multiplyAccumulates(let f), .parameters(let f): fraction = f; default: fraction = 0 }
            let outcome = try pruner.prune(network, to: target)
            #expect(measure(outcome.network) <= fraction * full)
            // Every group lost ⌊units · p / 100⌋ of its channels, for one p.
            let shares = (1...90).filter { p in prunable.allSatisfy { (outcome.removed[$0.name]?.count ?? 0) == $0.units * p / 100 } }
            #expect(!shares.isEmpty, "no common share: \(outcome.removed.mapValues(\.count))")
            // And p is the smallest such share: one percent less misses the budget.
            if let p = shares.first, p > 1 {
                let less = try GroupPruner(criterion: L1Norm()).prune(network, to: .uniformRatio(Double(p - 1) / 100 + 1e-9))
                #expect(measure(less.network) > fraction * full)
            }
            // In steps, it ends within the budget too, and no group is thinned more than the others.
            let stepped = try pruner.prune(network, to: target, steps: 2) { $1 }
            #expect(measure(stepped.network) <= fraction * full)
            let ratios = prunable.map { Double(stepped.removed[$0.name]?.count ?? 0) / Double($0.units) }
            #expect(ratios.max()! - ratios.min()! < 0.1, "\(ratios)")
        }
        // One planned step towards the budget follows the allocation too: 5 % of every group.
        let step = try pruner.plan(network, target: .multiplyAccumulates(0.5))
        for group in prunable where group.units * 5 / 100 > 0 { #expect(step[group.name]?.count == group.units * 5 / 100) }
        #expect(try GroupPruner(criterion: L1Norm()).plan(network, target: .multiplyAccumulates(0.5)).values.reduce(0) { $0 + $1.count }
                == prunable.reduce(0) { $0 + $1.units } / 20)
        // A budget that needs more than --max-layer-ratio of every group: one line, nothing removed.
        #expect(throws: PruningTargetError.self) { try pruner.prune(network, to: .multiplyAccumulates(0.001)) }
        do { _ = try pruner.prune(network, to: .multiplyAccumulates(0.001)) } catch let error as PruningTargetError {
            #expect(error.description.contains("same fraction of every group") && !error.description.contains("\n"))
        }
    }

    @Test func dataDrivenCriteriaPruneThroughTheProvider() throws {
        let network = try network("vgg11-bn", width: 0.125)
        let data = images(for: network, count: 12)
        let box = UncheckedData(data)
        for criterion in [MeanActivation(), APoZ(), Taylor()] as [any ImportanceCriterion] {
            let pruner = GroupPruner(criterion: criterion, statistics: { network, groups in
                try GroupCalibration.statistics(of: groups, in: network, on: box.data, gradients: criterion.need == .gradients, threads: 2)
            })
            let outcome = try pruner.prune(network, to: .globalRatio(0.25))
            #expect(outcome.network.architecture.parameterCount < network.architecture.parameterCount, "\(criterion.name)")
            #expect(throws: PruningTargetError.self) { try GroupPruner(criterion: criterion).prune(network, to: .globalRatio(0.25)) }
        }
        #expect(ImportanceCriteria.names.count == 9)
        #expect(try ImportanceCriteria.parseList("l1,taylor").map(\.name) == ["l1", "taylor"])
        #expect(throws: PruningError.self) { try ImportanceCriteria.parseList("l1,l1") }
    }
}

/// Test data handed to a `@Sendable` statistics provider.
struct UncheckedData: @unchecked Sendable {
    let data: TensorImages
    init(_ data: TensorImages) { self.data = data }
}
