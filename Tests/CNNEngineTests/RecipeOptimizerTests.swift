import CNNEngine
import Foundation
import Testing

/// SGD's momentum, Nesterov and weight decay, and Adam's two weight decays, against steps
/// computed by hand from PyTorch's update rules (`torch.optim.SGD`, `Adam`, `AdamW`).
@Suite struct RecipeOptimizerTests {
    @Test func sgdNesterovWithWeightDecayByHand() {
        var sgd = SGD(parameterCount: 1, learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.1)
        var p: [Float] = [1]
        // g' = 2 + 0.1·1 = 2.1; b = 2.1; g'' = 2.1 + 0.9·2.1 = 3.99; p = 1 − 0.399 = 0.601.
        step(&sgd, &p, [2])
        #expect(abs(p[0] - 0.601) < 1e-6)
        // g' = 1 + 0.1·0.601 = 1.0601; b = 0.9·2.1 + 1.0601 = 2.9501; g'' = 1.0601 + 0.9·2.9501 = 3.71519;
        // p = 0.601 − 0.371519 = 0.229481.
        step(&sgd, &p, [1])
        #expect(abs(p[0] - 0.229481) < 1e-6)
        #expect(abs(sgd.momentumBuffer[0] - 2.9501) < 1e-6)
        #expect(sgd.stepCount == 2)
    }

    @Test func sgdMomentumWithWeightDecayByHand() {
        var sgd = SGD(parameterCount: 1, learningRate: 0.1, momentum: 0.9, weightDecay: 0.1)
        var p: [Float] = [1]
        step(&sgd, &p, [2])   // g' = 2.1, b = 2.1, p = 1 − 0.21 = 0.79
        #expect(abs(p[0] - 0.79) < 1e-6)
        step(&sgd, &p, [1])   // g' = 1 + 0.079 = 1.079, b = 1.89 + 1.079 = 2.969, p = 0.79 − 0.2969 = 0.4931
        #expect(abs(p[0] - 0.4931) < 1e-6)
        var plain = SGD(parameterCount: 1, learningRate: 0.5, weightDecay: 0.2)
        var q: [Float] = [1]
        step(&plain, &q, [3])  // g' = 3 + 0.2 = 3.2, p = 1 − 1.6 = −0.6
        #expect(abs(q[0] - (-0.6)) < 1e-6)
        #expect(plain.momentumBuffer.isEmpty)
    }

    @Test func sgdRestoredMidRunContinuesExactly() {
        var a = SGD(parameterCount: 3, learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01)
        var p: [Float] = [1, -2, 0.5]
        step(&a, &p, [0.3, -0.1, 2])
        var b = SGD(parameterCount: 3, learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01)
        b.restore(stepCount: a.stepCount, momentumBuffer: a.momentumBuffer)
        var q = p
        step(&a, &p, [1, 1, -1])
        step(&b, &q, [1, 1, -1])
        #expect(p == q)
        // A fresh optimizer (no buffer) would take the first-step branch and differ.
        var c = SGD(parameterCount: 3, learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01)
        var r = q
        step(&c, &r, [1, 1, -1])
        step(&b, &q, [1, 1, -1])
        #expect(r != q)
    }

    @Test func adamWFirstTwoStepsByHand() {
        var adamW = Adam.adamW(parameterCount: 2, learningRate: 0.1, weightDecay: 0.5)
        var p: [Float] = [1, -2]
        // Step 1: p *= 1 − 0.1·0.5 = 0.95 → (0.95, −1.9); then Adam's first step moves by lr·sign(g).
        step(&adamW, &p, [0.5, -4])
        #expect(abs(p[0] - 0.85) < 1e-6)
        #expect(abs(p[1] - (-1.8)) < 1e-6)
        // Step 2: p *= 0.95 → (0.8075, −1.71); the moments are Adam's (they do not see the decay):
        // m = 0.145, v = 0.00124975 and m = −0.36, v = 0.015984, as in adamFirstTwoStepsByHand.
        step(&adamW, &p, [1, 0])
        let expected0 = 0.8075 - 0.1 * (0.145 / 0.19) / ((0.00124975 / 0.001999).squareRoot() + 1e-8)
        let expected1 = -1.71 - 0.1 * (-0.36 / 0.19) / ((0.015984 / 0.001999).squareRoot() + 1e-8)
        #expect(abs(Double(p[0]) - expected0) < 1e-5)
        #expect(abs(Double(p[1]) - expected1) < 1e-5)
        #expect(adamW.decoupledWeightDecay && adamW.weightDecay == 0.5)
        #expect(Adam.adamW(parameterCount: 1).weightDecay == 0.01)   // PyTorch's default
    }

    @Test func adamCoupledWeightDecayByHand() {
        var adam = Adam(parameterCount: 2, learningRate: 0.1, weightDecay: 0.5)
        var p: [Float] = [1, -2]
        // Step 1: g' = g + 0.5·p = (1, −5): still a move of lr·sign(g') → (0.9, −1.9).
        step(&adam, &p, [0.5, -4])
        #expect(abs(p[0] - 0.9) < 1e-6)
        #expect(abs(p[1] - (-1.9)) < 1e-6)
        // Step 2, g = (1, 0): g' = (1.45, −0.95); m = 0.9·0.1 + 0.1·1.45 = 0.235,
        // v = 0.999·0.001 + 0.001·1.45² = 0.0031015; m = 0.9·(−0.5) + 0.1·(−0.95) = −0.545,
        // v = 0.999·0.025 + 0.001·0.9025 = 0.0258775.
        step(&adam, &p, [1, 0])
        let expected0 = 0.9 - 0.1 * (0.235 / 0.19) / ((0.0031015 / 0.001999).squareRoot() + 1e-8)
        let expected1 = -1.9 - 0.1 * (-0.545 / 0.19) / ((0.0258775 / 0.001999).squareRoot() + 1e-8)
        #expect(abs(Double(p[0]) - expected0) < 1e-5)
        #expect(abs(Double(p[1]) - expected1) < 1e-5)
    }

    /// Both decays over enough parameters to run the eight-lane loop and its tail, against a
    /// scalar Double transcription of PyTorch's `_single_tensor_adam` / `adamw`.
    @Test(arguments: [false, true])
    func adamWeightDecayMatchesAReferenceOverLanesAndTail(decoupled: Bool) {
        let count = 19, lr = 0.01, wd = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8
        var generator = SeededGenerator(seed: 3)
        var p: [Float] = (0..<count).map { _ in generator.uniform(bound: 2) }
        var reference = p.map(Double.init)
        var m = [Double](repeating: 0, count: count), v = m
        var adam = Adam(parameterCount: count, learningRate: Float(lr), weightDecay: Float(wd), decoupledWeightDecay: decoupled)
        for t in 1...3 {
            let g: [Float] = (0..<count).map { _ in generator.uniform(bound: 1) }
            step(&adam, &p, g)
            for i in 0..<count {
                var gi = Double(g[i])
                if decoupled { reference[i] *= 1 - lr * wd } else { gi += wd * reference[i] }
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                let correction1 = 1 - pow(b1, Double(t)), correction2 = 1 - pow(b2, Double(t))
                reference[i] -= lr / correction1 * m[i] / (v[i].squareRoot() / correction2.squareRoot() + eps)
            }
        }
        for i in 0..<count { #expect(abs(Double(p[i]) - reference[i]) < 2e-6, "parameter \(i)") }
        // Without decay the result differs: the decay was really applied.
        var plainAdam = Adam(parameterCount: count, learningRate: Float(lr))
        var q: [Float] = (0..<count).map { _ in 1 }
        var r = q
        var decayed = Adam(parameterCount: count, learningRate: Float(lr), weightDecay: Float(wd), decoupledWeightDecay: decoupled)
        for gradient: Float in [0.5, 0.1] {
            step(&plainAdam, &q, [Float](repeating: gradient, count: count))
            step(&decayed, &r, [Float](repeating: gradient, count: count))
        }
        #expect(zip(q, r).allSatisfy { abs($0 - $1) > 1e-4 })
    }

    @Test func settingsBuildTheOptimizerPyTorchDefaultsAndRoundTripTheirState() throws {
        #expect(OptimizerSettings(kind: .adamw).weightDecay == 0.01)
        #expect(OptimizerSettings(kind: .adam).weightDecay == 0)
        #expect(OptimizerSettings(kind: .sgd, momentum: 0.9, nesterov: true, weightDecay: 5e-4).description
                == "SGD (momentum 0.9, Nesterov, weight decay 0.0005)")
        for settings in [OptimizerSettings(kind: .sgd, momentum: 0.9), OptimizerSettings(kind: .adamw), OptimizerSettings(kind: .sgd)] {
            var optimizer = settings.makeOptimizer(parameterCount: 9, learningRate: 0.1)
            var p: [Float] = (0..<9).map { Float($0) / 4 }
            p.withUnsafeMutableBufferPointer { pb in
                [Float](repeating: 0.25, count: 9).withUnsafeBufferPointer { optimizer.step(parameters: pb, gradients: $0) }
            }
            let state = settings.state(of: optimizer)
            #expect(state.stepCount == 1)
            #expect(state.tensors.keys.sorted() == (settings.kind == .sgd
                ? (settings.momentum == 0 ? [] : ["optimizer.momentum_buffer"]) : ["optimizer.exp_avg", "optimizer.exp_avg_sq"]))
            let restored = try settings.restoredOptimizer(parameterCount: 9, learningRate: 0.1, stepCount: 1, tensors: state.tensors)
            #expect(settings.state(of: restored).tensors == state.tensors)
            if settings.momentum != 0 {
                #expect(throws: TrainingCheckpointError.self) {
                    _ = try settings.restoredOptimizer(parameterCount: 9, learningRate: 0.1, stepCount: 1, tensors: [:])
                }
            }
        }
    }

    private func step<O: Optimizer>(_ optimizer: inout O, _ parameters: inout [Float], _ gradients: [Float]) {
        parameters.withUnsafeMutableBufferPointer { p in
            gradients.withUnsafeBufferPointer { g in optimizer.step(parameters: p, gradients: g) }
        }
    }
}
