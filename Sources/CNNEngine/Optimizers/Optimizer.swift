/// Updates parameters from their gradients; the state it keeps (moments, step count) is its own.
public protocol Optimizer: Sendable {
    /// Applies one update to `parameters` given the loss gradient `gradients` (same layout).
    mutating func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>)
    /// The learning rate, which schedules and fine-tuning may change between steps.
    var learningRate: Float { get set }
}
