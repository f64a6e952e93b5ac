import Foundation

/// Softmax followed by cross-entropy with integer class labels, like PyTorch's
/// `nn.CrossEntropyLoss` (mean over the batch), computed with the max-shift so that large
/// logits neither overflow nor lose precision.
public enum SoftmaxCrossEntropy {
    /// Returns the *sum* of the per-sample losses of `batch` rows of `classes` logits and, when
    /// `gradient` is given, writes `gradientScale · (softmax − onehot)` into it. For the mean
    /// loss over a batch of `B` split across workers, each worker passes `gradientScale = 1/B`.
    public static func loss(
        logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int, classes: Int,
        gradientScale: Float = 1, gradient: UnsafeMutablePointer<Float>? = nil
    ) -> Double {
        var total = 0.0
        for n in 0..<batch {
            let row = logits + n * classes
            var maximum = -Float.infinity
            for j in 0..<classes { maximum = max(maximum, row[j]) }
            var sum: Float = 0
            for j in 0..<classes { sum += expf(row[j] - maximum) }
            let label = Int(labels[n])
            let logSum = logf(sum)
            total += Double(logSum - (row[label] - maximum))
            if let gradient {
                let out = gradient + n * classes
                let inverse = 1 / sum
                for j in 0..<classes {
                    out[j] = gradientScale * (expf(row[j] - maximum) * inverse - (j == label ? 1 : 0))
                }
            }
        }
        return total
    }
}
