import CNNEngine
import Testing

/// Optimizers against steps computed by hand from PyTorch's update rules.
@Suite struct OptimizerTests {
    @Test func adamFirstTwoStepsByHand() {
        var adam = Adam(parameterCount: 2, learningRate: 0.1)
        var parameters: [Float] = [1, -2]
        // Step 1, g = (0.5, −4): m̂ = g, v̂ = g², so each parameter moves by lr·sign(g) (eps aside).
        step(&adam, &parameters, [0.5, -4])
        #expect(abs(parameters[0] - 0.9) < 1e-6)
        #expect(abs(parameters[1] - (-1.9)) < 1e-6)
        // Step 2, g = (1, 0): m = 0.9·0.05 + 0.1·1 = 0.145, v = 0.999·0.00025 + 0.001·1 = 0.00124975;
        // m̂ = 0.145/0.19, v̂ = 0.00124975/0.001999; p −= 0.1·m̂/(√v̂ + 1e-8).
        step(&adam, &parameters, [1, 0])
        let mHat = 0.145 / (1 - 0.81), vHat = 0.00124975 / (1 - 0.998001)
        let expected0 = 0.9 - 0.1 * mHat / (vHat.squareRoot() + 1e-8)
        #expect(abs(Double(parameters[0]) - expected0) < 1e-5)
        // Second parameter: m = 0.9·(−0.4) = −0.36, v = 0.999·0.016 = 0.015984.
        let mHat1 = -0.36 / 0.19, vHat1 = 0.015984 / 0.001999
        let expected1 = -1.9 - 0.1 * mHat1 / (vHat1.squareRoot() + 1e-8)
        #expect(abs(Double(parameters[1]) - expected1) < 1e-5)
        #expect(adam.stepCount == 2)
    }

    @Test func sgdWithMomentumByHand() {
        var sgd = SGD(parameterCount: 1, learningRate: 0.1, momentum: 0.9)
        var parameters: [Float] = [1]
        step(&sgd, &parameters, [2])     // v = 2, p = 1 − 0.2 = 0.8
        step(&sgd, &parameters, [1])     // v = 0.9·2 + 1 = 2.8, p = 0.8 − 0.28 = 0.52
        #expect(abs(parameters[0] - 0.52) < 1e-6)
        var plain = SGD(parameterCount: 1, learningRate: 0.5)
        var q: [Float] = [1]
        step(&plain, &q, [3])
        #expect(q == [-0.5])
    }

    private func step<O: Optimizer>(_ optimizer: inout O, _ parameters: inout [Float], _ gradients: [Float]) {
        parameters.withUnsafeMutableBufferPointer { p in
            gradients.withUnsafeBufferPointer { g in optimizer.step(parameters: p, gradients: g) }
        }
    }
}
