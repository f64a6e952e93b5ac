import CNNEngine

/// What the data-driven criteria know of a channel group on calibration images: for each of
/// the group's producers, the statistics of its channels where they are read — the output of
/// the BatchNorm that follows the producer, else the producer's own output (before any ReLU).
///
/// With gradients, `UnitStatistics.gradientProductSum` holds `Σ a · ∂L/∂a` over images and
/// positions for each channel `a` at that point (summed per-image losses): from the activation
/// gradients where the point is a top-level activation (as the SimpleCNN study's layers are),
/// and inside residual blocks, where activation gradients are not kept, exactly from the
/// parameter gradients: the point is linear in its layer's weight and bias, so
/// `Σ a · ∂L/∂a = Σ_θ θ · ∂L/∂θ` over the channel's weights and bias (`γ·∂L/∂γ + β·∂L/∂β`
/// for a BatchNorm).
public struct GroupStatistics: Sendable, Equatable {
    /// The layers read, aligned with the group's producers (`layer1.0.bn1`, or the producer).
    public var points: [String]
    /// One per point, over the group's units.
    public var producers: [UnitStatistics]
}

/// Where one producer's channels are read during a calibration pass.
private struct CalibrationPoint {
    var group: Int
    var producer: Int
    var tap: LayerOutputTap
    var units: Int
    var positions: Int
    /// The tapped layer's weight and bias, whose gradients give the Taylor products.
    var tensors: [ParameterEntry]
}

/// One pass over calibration images that gathers `GroupStatistics` for several groups at once.
public enum GroupCalibration {
    /// The layer whose output carries `producer`'s channels for the criteria: the BatchNorm
    /// right after it in its chain, else the producer itself.
    public static func point(of producer: String, in architecture: Sequential) -> String {
        if let next = architecture.layer(following: producer), next.layer is BatchNorm2D, !next.name.isEmpty { return next.name }
        return producer
    }

    /// Runs `network` (inference mode: running statistics) over `data` and gathers the
    /// statistics of every group in `groups`; with `gradients`, also the backward pass of each
    /// image's cross-entropy loss for the Taylor criterion.
    /// - Throws: `PruningError.notPrunable` for a group whose channels cannot be read.
    public static func statistics<Data: LabeledImages>(
        of groups: [ChannelGroup], in network: Network, on data: Data, gradients: Bool = false,
        threads: Int, batchSize: Int = 64
    ) throws -> [String: GroupStatistics] {
        precondition(data.sampleShape == network.architecture.inputShape, "data shape does not match the network")
        // Residual blocks share some inner storage for speed; calibration reads every inner
        // output, so it runs the same layers with that storage kept apart.
        let architecture: Sequential
        do { architecture = try network.architecture.keepingInnerOutputs() } catch {
            throw PruningError.notPrunable(groups.first?.name ?? "network", reason: "its layers cannot be laid out for calibration: \(error)")
        }
        let network = Network(architecture: architecture, parameters: network.parameters, state: network.state)
        var points: [CalibrationPoint] = []
        var names: [[String]] = groups.map { _ in [] }
        for (g, group) in groups.enumerated() {
            for (p, producer) in group.producers.enumerated() {
                let name = point(of: producer, in: architecture)
                guard let tap = architecture.outputTap(ofLayer: name), let channels = tap.shape.first, channels == group.units else {
                    throw PruningError.notPrunable(group.name, reason: "the channels of \(producer) cannot be read at \(name) for a data-driven criterion")
                }
                let tensors = architecture.parameterEntries.filter { $0.name == "\(name).weight" || $0.name == "\(name).bias" }
                points.append(CalibrationPoint(group: g, producer: p, tap: tap, units: channels, positions: tap.shape.dropFirst().reduce(1, *), tensors: tensors))
                names[g].append(name)
            }
        }
        let layerCount = architecture.layers.count
        let last = gradients ? layerCount : (points.map(\.tap.topLevelIndex).max() ?? -1) + 1
        let empty = points.map { UnitStatistics(units: $0.units, positionsPerUnit: $0.positions, withGradients: gradients) }
        // A top-level point reads its activations and their gradients together after the
        // backward pass (the activations are still there); a point inside a block reads its
        // activations after the forward pass and its products from the parameter gradients.
        let topLevel = points.map { gradients && $0.tap.isTopLevel }
        let total = CalibrationPass.run(
            network, on: data, forwardLayers: last, gradients: gradients, threads: threads, batchSize: batchSize, empty: empty,
            afterForward: { workspace, batch, statistics in
                for (j, point) in points.enumerated() where !topLevel[j] {
                    statistics[j].add(batch: batch, preActivations: workspace.output(at: point.tap, batch: batch))
                }
            },
            afterBackward: { workspace, batch, statistics in
                for (j, point) in points.enumerated() where topLevel[j] {
                    statistics[j].add(batch: batch, preActivations: workspace.output(at: point.tap, batch: batch),
                                      gradients: UnsafePointer(workspace.activationGradient(point.tap.topLevelIndex + 1)))
                }
                let gradient = workspace.parameterGradients
                network.parameters.withUnsafeBufferPointer { parameters in
                    for (j, point) in points.enumerated() where !topLevel[j] {
                        for entry in point.tensors {
                            let slice = entry.count / point.units
                            for unit in 0..<point.units {
                                var product = 0.0
                                let base = entry.offset + unit * slice
                                for i in base..<(base + slice) { product += Double(parameters[i]) * Double(gradient[i]) }
                                statistics[j].gradientProductSum![unit] += product
                            }
                        }
                    }
                }
            })
        var byGroup: [String: GroupStatistics] = [:]
        for (g, group) in groups.enumerated() {
            let mine = points.indices.filter { points[$0].group == g }.map { total[$0] }
            byGroup[group.name] = GroupStatistics(points: names[g], producers: mine)
        }
        return byGroup
    }
}

extension GroupCalibration {
    /// The statistics of SimpleCNN-study layers: the pass of their channel groups, each a group
    /// with one producer read at its own output (before any ReLU).
    /// - Parameters:
    ///   - layers: layers of `network` to gather for.
    ///   - network: the network to run.
    ///   - data: the calibration images.
    ///   - gradients: also run the backward pass (cross-entropy against the labels).
    ///   - threads: workers, each taking a contiguous share of the images.
    ///   - batchSize: images per forward pass of one worker.
    /// - Returns: statistics aligned with `layers`.
    public static func statistics<Data: LabeledImages>(
        of layers: [PrunableLayer], in network: Network, on data: Data,
        gradients: Bool = false, threads: Int, batchSize: Int = 64
    ) -> [UnitStatistics] {
        let groups = layers.map(\.group)
        guard let gathered = try? statistics(of: groups, in: network, on: data, gradients: gradients,
                                             threads: threads, batchSize: batchSize) else {
            preconditionFailure("the layers' outputs cannot be read for calibration")
        }
        return groups.map { gathered[$0.name]!.producers[0] }
    }
}
