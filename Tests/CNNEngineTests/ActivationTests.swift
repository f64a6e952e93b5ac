import Foundation
import Testing
@testable import CNNEngine

/// The activation functions against PyTorch 2.15's values and autograd gradients (computed with
/// `torch.nn.ReLU6`, `LeakyReLU(0.1)`, `SiLU`, `Hardswish`, `Hardsigmoid`, `Sigmoid` on the
/// points below, kinks included), and the layer's backward pass against finite differences.
@Suite struct ActivationTests {
    static let points: [Float] = [-5, -3.5, -3, -1.25, -0.5, 0, 0.75, 2.5, 3, 4, 6, 7.5]

    /// (function, PyTorch's values, PyTorch's gradients) at `points`.
    static let references: [(ActivationFunction, [Float], [Float])] = [
        (.relu6, [0, 0, 0, 0, 0, 0, 0.75, 2.5, 3, 4, 6, 6],
                 [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0]),
        (.leakyReLU(slope: 0.1), [-0.5, -0.35, -0.3, -0.125, -0.05, 0, 0.75, 2.5, 3, 4, 6, 7.5],
                                 [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 1, 1, 1, 1, 1, 1]),
        (.silu, [-0.033464252948760986, -0.10259281098842621, -0.14227761328220367, -0.27837517857551575, -0.1887703388929367, 0,
                 0.509384036064148, 2.310354471206665, 2.857722520828247, 3.9280550479888916, 5.985164642333984, 7.495853900909424],
                [-0.02654743380844593, -0.07027334719896317, -0.08810410648584366, 0.006319149397313595, 0.260038822889328, 0.5,
                 0.8425999283790588, 1.0994011163711548, 1.0881041288375854, 1.0526646375656128, 1.0123262405395508, 1.0035910606384277]),
        (.hardswish, [0, 0, 0, -0.3645833432674408, -0.2083333283662796, 0, 0.46875, 2.2916667461395264, 3, 4, 6, 7.5],
                     [0, 0, 0, 0.0833333432674408, 0.3333333134651184, 0.5, 0.75, 1.3333332538604736, 1, 1, 1, 1]),
        (.hardsigmoid, [0, 0, 0, 0.2916666567325592, 0.4166666567325592, 0.5, 0.625, 0.9166666865348816, 1, 1, 1, 1],
                       [0, 0, 0, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6, 0, 0, 0, 0]),
        (.sigmoid, [0.006692850962281227, 0.02931223064661026, 0.04742587357759476, 0.22270013391971588, 0.3775406777858734, 0.5,
                    0.6791787147521973, 0.9241418242454529, 0.9525741338729858, 0.9820137619972229, 0.9975274205207825, 0.9994471669197083],
                   [0.006648056674748659, 0.028453022241592407, 0.045176658779382706, 0.17310479283332825, 0.23500370979309082, 0.25,
                    0.21789498627185822, 0.0701037123799324, 0.04517665505409241, 0.017662733793258667, 0.002466465812176466, 0.0005525274318642914]),
    ]

    @Test func valuesAndGradientsMatchPyTorch() throws {
        for (function, values, gradients) in Self.references {
            // Through the layer, forward and backward, as training runs it.
            let architecture = try Sequential(inputShape: [Self.points.count], layers: [Identity(), Activation(function)])
            var generator = SeededGenerator(seed: 1)
            let network = Network(architecture: architecture, generator: &generator)
            let input = Tensor(shape: [1, Self.points.count], scalars: Self.points)
            let ones = Tensor(shape: [1, Self.points.count], repeating: 1)
            let output = network(input, training: false)
            let backward = TestSupport.analyticGradients(network, input: input, weights: ones)
            for i in Self.points.indices {
                #expect(abs(output.scalars[i] - values[i]) <= 1e-6 * max(1, abs(values[i])), "\(function.typeName)(\(Self.points[i]))")
                #expect(abs(backward.input[i] - gradients[i]) <= 1e-6 * max(1, abs(gradients[i])), "\(function.typeName)′(\(Self.points[i]))")
            }
        }
    }

    @Test func backwardMatchesFiniteDifferencesAwayFromKinks() throws {
        for (function, _, _) in Self.references {
            let shape = [3, 4, 4]
            let architecture = try Sequential(inputShape: shape, layers: [Identity(), Activation(function)])
            var generator = SeededGenerator(seed: 2)
            let network = Network(architecture: architecture, generator: &generator)
            var input = TestSupport.random([2] + shape, seed: 3)
            // Spread over [-5, 8], every value at least 0.05 from a kink (-3, 0, 3, 6).
            input.scalars = (0..<input.count).map { i in
                let v = Float((i * 7919) % input.count) / Float(input.count) * 13 - 5 + 0.013
                return [-3, 0, 3, 6].contains { abs(v - $0) < 0.05 } ? v + 0.1 : v
            }
            let weights = TestSupport.random([2] + shape, seed: 4)
            let analytic = TestSupport.analyticGradients(network, input: input, weights: weights)
            let numeric = TestSupport.numericInputGradients(network, input: input, weights: weights, step: 1e-2)
            #expect(TestSupport.scaledError(analytic.input, numeric) < 1e-2, "\(function.typeName)")
        }
    }

    @Test func architectureFilesSpellEveryFunction() throws {
        let json = """
        [{"type": "conv", "name": "conv", "out": 4, "kernel": 3, "padding": 1}, {"type": "relu6"},
         {"type": "leaky-relu", "slope": 0.2}, {"type": "leaky-relu"}, {"type": "silu"}, {"type": "hardswish"},
         {"type": "hardsigmoid"}, {"type": "sigmoid"}, {"type": "flatten"}, {"type": "linear", "name": "fc", "out": 3}]
        """
        let specs = try JSONDecoder().decode([LayerSpec].self, from: Data(json.utf8))
        #expect(specs[1...7].map(\.typeName) == ["relu6", "leaky-relu", "leaky-relu", "silu", "hardswish", "hardsigmoid", "sigmoid"])
        #expect(specs[2] == .activation(.leakyReLU(slope: 0.2)))
        #expect(specs[3] == .activation(.leakyReLU(slope: ActivationFunction.defaultLeakySlope)))
        // Written and read back unchanged.
        let again = try JSONDecoder().decode([LayerSpec].self, from: JSONEncoder().encode(specs))
        #expect(again == specs)
        for name in ActivationFunction.typeNames { #expect(LayerSpec.typeNames.contains(name)) }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([LayerSpec].self, from: Data(#"[{"type": "leaky-relu", "slope": "steep"}]"#.utf8))
        }
    }

    @Test func zeroPreservingFunctionsAreTheOnesWithFOfZeroZero() {
        for (function, values, _) in Self.references {
            #expect(function.preservesZero == (values[Self.points.firstIndex(of: 0)!] == 0), "\(function.typeName)")
        }
    }
}
