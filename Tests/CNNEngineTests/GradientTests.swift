import CNNEngine
import Testing

/// Every layer's backward pass against central finite differences of its forward pass.
@Suite struct GradientTests {
    /// Checks input and parameter gradients of `layer` on a random batch of `inputShape` samples.
    func check(_ layer: any Layer, inputShape: [Int], batch: Int = 2, seed: UInt64, tolerance: Float = 2e-2, smoothInput: Bool = false) throws {
        let architecture = try Sequential(inputShape: inputShape, layers: [Identity(), layer])
        var generator = SeededGenerator(seed: seed)
        let network = Network(architecture: architecture, generator: &generator)
        var input = TestSupport.random([batch] + inputShape, seed: seed &+ 1)
        if smoothInput {
            // Spread values apart so that no finite-difference step crosses a max or a kink.
            input.scalars = (0..<input.count).map { Float(($0 * 7919) % input.count) / Float(input.count) * 4 - 2 + 0.013 }
        }
        let weights = TestSupport.random([batch] + architecture.outputShape, seed: seed &+ 2)
        let analytic = TestSupport.analyticGradients(network, input: input, weights: weights)
        let numericInput = TestSupport.numericInputGradients(network, input: input, weights: weights)
        #expect(TestSupport.maxRelativeError(analytic.input, numericInput) < tolerance, "input gradient of \(type(of: layer))")
        #expect(TestSupport.scaledError(analytic.input, numericInput) < 1e-2, "input gradient of \(type(of: layer)), scaled")
        if network.parameters.count > 0 {
            let numericParameters = TestSupport.numericParameterGradients(network, input: input, weights: weights)
            #expect(TestSupport.maxRelativeError(analytic.parameters, numericParameters) < tolerance, "parameter gradient of \(type(of: layer))")
            #expect(TestSupport.scaledError(analytic.parameters, numericParameters) < 1e-2, "parameter gradient of \(type(of: layer)), scaled")
        }
    }

    @Test func conv2DPaddedStrideOne() throws {
        try check(Conv2D(name: "conv", inputChannels: 3, outputChannels: 4, kernelSize: 3, stride: 1, padding: 1), inputShape: [3, 6, 5], seed: 1)
    }

    @Test func conv2DUnpaddedStrideTwo() throws {
        try check(Conv2D(name: "conv", inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 2, padding: 0), inputShape: [2, 7, 7], seed: 2)
    }

    @Test func conv2DPaddedStrideTwoEvenKernel() throws {
        try check(Conv2D(name: "conv", inputChannels: 2, outputChannels: 2, kernelSize: 2, stride: 2, padding: 1), inputShape: [2, 5, 4], seed: 3)
    }

    /// 4×4 planes: images share one product (`Conv2D.imagesPerProduct` > 1); a batch of 5
    /// leaves a partial chunk only when the chunk is smaller, so both a full-batch chunk and
    /// (for 8×8 planes of 6 channels, chunk 4) a partial one are checked.
    @Test func conv2DBatchedSmallPlanes() throws {
        try check(Conv2D(name: "conv", inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 1, padding: 1), inputShape: [2, 4, 4], batch: 5, seed: 13)
        try check(Conv2D(name: "conv", inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 1, padding: 1, bias: false), inputShape: [2, 8, 8], batch: 5, seed: 14)
        try check(Conv2D(name: "conv", inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 1, padding: 1), inputShape: [2, 8, 9], batch: 5, seed: 17)
        try check(Conv2D(name: "conv", inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 2, padding: 1), inputShape: [2, 7, 7], batch: 5, seed: 15)
        // 8×8 planes of 6 channels stack images in the shifted matrix (chunk 4).
        try check(Conv2D(name: "conv", inputChannels: 6, outputChannels: 3, kernelSize: 3, stride: 1, padding: 1, bias: false), inputShape: [6, 8, 8], batch: 5, seed: 18)
    }

    /// Thin patches (`Conv2D.hasThinPatches`, one grey channel) on a large plane: two images per
    /// product, so a batch of 3 sums the transposed weight gradient over a whole chunk and a part.
    /// The 3×3 layer's forward pass runs the direct kernel where there is AVX2
    /// (`usesDirectKernel`); the 5×5 one's, the chunks of unfolded patches.
    @Test func conv2DThinPatches() throws {
        let layers = [Conv2D(name: "conv", inputChannels: 1, outputChannels: 3, kernelSize: 3, stride: 1, padding: 1),
                      Conv2D(name: "conv", inputChannels: 1, outputChannels: 3, kernelSize: 5, stride: 1, padding: 2)]
        for (index, layer) in layers.enumerated() {
            var bound = layer
            _ = try bound.prepare(inputShape: [1, 24, 24])
            #expect(bound.hasThinPatches && !bound.usesShiftedRows && bound.imagesPerProduct == 2)
            #expect(bound.usesDirectKernel == (index == 0 && KernelBuild.usesAVX2))
            try check(layer, inputShape: [1, 24, 24], batch: 3, seed: 19 + UInt64(index))
        }
    }

    /// Planes of 256 positions and up with "same" padding take the shifted-row path
    /// (`Conv2D.usesShiftedRows`): 3×3 and 5×5 kernels, with and without bias.
    @Test func conv2DShiftedRows() throws {
        let layers = [Conv2D(name: "conv", inputChannels: 6, outputChannels: 3, kernelSize: 3, stride: 1, padding: 1),
                      Conv2D(name: "conv", inputChannels: 4, outputChannels: 2, kernelSize: 5, stride: 1, padding: 2, bias: false)]
        for (index, layer) in layers.enumerated() {
            var bound = layer
            _ = try bound.prepare(inputShape: [layer.inputChannels, 16, 17])
            #expect(bound.usesShiftedRows, "the shape must exercise the shifted-row path")
            try check(layer, inputShape: [layer.inputChannels, 16, 17], batch: 3, seed: 16 + UInt64(index))
        }
    }

    /// 8 input channels on 8×8 planes and up: the forward pass runs Winograd F(2×2, 3×3)
    /// (`Conv2D.usesWinograd`), the backward pass the direct convolution; the gradients must
    /// still be those of the forward function, on even and odd planes, with and without bias.
    @Test func conv2DWinogradForward() throws {
        let cases = [(Conv2D(name: "conv", inputChannels: 8, outputChannels: 3, kernelSize: 3, stride: 1, padding: 1), [8, 8, 8]),
                     (Conv2D(name: "conv", inputChannels: 9, outputChannels: 2, kernelSize: 3, stride: 1, padding: 1, bias: false), [9, 9, 11])]
        for (index, (layer, shape)) in cases.enumerated() {
            var bound = layer
            _ = try bound.prepare(inputShape: shape)
            #expect(bound.usesWinograd, "the shape must exercise the Winograd forward pass")
            try check(layer, inputShape: shape, batch: 2, seed: 60 + UInt64(index))
        }
    }

    @Test func linear() throws {
        try check(Linear(name: "fc", inputFeatures: 7, outputFeatures: 5), inputShape: [7], batch: 3, seed: 4)
    }

    @Test func relu() throws {
        try check(ReLU(), inputShape: [3, 4, 4], seed: 5, smoothInput: true)
    }

    @Test func maxPool() throws {
        try check(MaxPool2D(kernelSize: 2), inputShape: [2, 6, 6], seed: 6, smoothInput: true)
    }

    @Test func maxPoolOverlapping() throws {
        try check(MaxPool2D(kernelSize: 3, stride: 2), inputShape: [2, 7, 7], seed: 7, smoothInput: true)
    }

    @Test func flatten() throws {
        try check(Flatten(), inputShape: [2, 3, 3], seed: 8)
    }

    @Test func wholeSimpleCNNParameters() throws {
        // The full chain at a small size: conv1 → … → fc2, every parameter against finite differences.
        let model = SimpleCNN(inputChannels: 2, imageSize: 8, conv1: 3, conv2: 4, fc1: 6, classes: 3)
        var generator = SeededGenerator(seed: 9)
        let network = Network(architecture: try model.architecture(), generator: &generator)
        var input = TestSupport.random([2, 2, 8, 8], seed: 10)
        input.scalars = (0..<input.count).map { Float(($0 * 7919) % input.count) / Float(input.count) * 4 - 2 + 0.013 }
        let weights = TestSupport.random([2, 3], seed: 11)
        let analytic = TestSupport.analyticGradients(network, input: input, weights: weights)
        // Three step sizes: a difference that straddles a ReLU or max-pool kink is wrong at one
        // step but not at all of them, while a wrong analytic gradient disagrees with every one.
        let numerics = [1e-3, 3e-4, 1e-4].map { TestSupport.numericParameterGradients(network, input: input, weights: weights, step: Float($0)) }
        let coarse = numerics[0]
        // Per tensor, relative to that tensor's largest gradient, so no layer's error can hide
        // behind another's larger gradients (entries here are ~0.01–0.1, far below 1).
        for entry in network.architecture.parameterEntries {
            let range = entry.offset..<(entry.offset + entry.count)
            let scale = coarse[range].map(abs).max()!
            #expect(scale > 1e-4, "\(entry.name): the check needs non-zero gradients")
            let error = range.map { i in numerics.map { abs(analytic.parameters[i] - $0[i]) }.min()! }.max()! / scale
            #expect(error < 1e-2, "\(entry.name): scaled error \(error)")
        }
    }

    @Test func softmaxCrossEntropyGradient() {
        let batch = 3, classes = 5
        let logits = TestSupport.random([batch, classes], seed: 12, bound: 3)
        let labels: [Int32] = [0, 4, 2]
        var gradient = [Float](repeating: 0, count: batch * classes)
        let scale: Float = 1 / Float(batch)
        _ = logits.scalars.withUnsafeBufferPointer { l in
            labels.withUnsafeBufferPointer { y in
                gradient.withUnsafeMutableBufferPointer { g in
                    SoftmaxCrossEntropy.loss(logits: l.baseAddress!, labels: y.baseAddress!, batch: batch, classes: classes,
                                             gradientScale: scale, gradient: g.baseAddress!)
                }
            }
        }
        func meanLoss(_ values: [Float]) -> Double {
            values.withUnsafeBufferPointer { l in
                labels.withUnsafeBufferPointer { y in
                    SoftmaxCrossEntropy.loss(logits: l.baseAddress!, labels: y.baseAddress!, batch: batch, classes: classes) / Double(batch)
                }
            }
        }
        for i in 0..<(batch * classes) {
            var plus = logits.scalars, minus = logits.scalars
            plus[i] += 1e-2
            minus[i] -= 1e-2
            let numeric = (meanLoss(plus) - meanLoss(minus)) / 2e-2
            #expect(abs(Double(gradient[i]) - numeric) < 1e-3)
        }
    }

    @Test func softmaxCrossEntropyValueAndStability() {
        // Hand-computed: logits (0, ln 3) with label 1 → −ln(3/4).
        let logits: [Float] = [0, logf(3)]
        let label: [Int32] = [1]
        let value = SoftmaxCrossEntropy.loss(logits: logits, labels: label, batch: 1, classes: 2)
        #expect(abs(value - (-log(0.75))) < 1e-6)
        // Huge logits neither overflow nor produce NaN: loss of the right class ≈ 0, wrong ≈ 1000.
        let huge: [Float] = [1000, 0, -1000]
        #expect(abs(SoftmaxCrossEntropy.loss(logits: huge, labels: [0], batch: 1, classes: 3)) < 1e-6)
        #expect(abs(SoftmaxCrossEntropy.loss(logits: huge, labels: [1], batch: 1, classes: 3) - 1000) < 1e-3)
    }
}

import Foundation
