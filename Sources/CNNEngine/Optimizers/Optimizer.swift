/// Updates parameters from their gradients; the state it keeps (moments, step count) is its own.
public protocol Optimizer: Sendable {
    /// Applies one update to `parameters` given the loss gradient `gradients` (same layout),
    /// splitting the elementwise work across up to `workers` threads.
    mutating func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>, workers: Int)
    /// The learning rate, which schedules and fine-tuning may change between steps.
    var learningRate: Float { get set }
}

extension Optimizer {
    /// Applies one update on the calling thread.
    public mutating func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>) {
        step(parameters: parameters, gradients: gradients, workers: 1)
    }
}
