/// A value that crosses into worker threads; safe because every worker touches its own slice.
struct Unchecked<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
