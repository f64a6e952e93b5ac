/// Holm's step-down correction (Holm 1979) for several tests at once — e.g. one p-value per
/// pruning level — which controls the family-wise error rate like Bonferroni's but rejects more.
public enum HolmBonferroni {
    /// Adjusted p-values, in the input's order: sorted ascending, the i-th smallest (0-based) of
    /// m is multiplied by `m − i`, made non-decreasing by a running maximum and capped at 1
    /// (as `statsmodels.stats.multitest.multipletests(method="holm")`). Reject a hypothesis at
    /// level α when its adjusted p-value is ≤ α.
    public static func adjustedPValues(_ pValues: [Double]) -> [Double] {
        let m = pValues.count
        let order = pValues.indices.sorted { (pValues[$0], $0) < (pValues[$1], $1) }
        var adjusted = [Double](repeating: 0, count: m)
        var running = 0.0
        for (rank, index) in order.enumerated() {
            running = max(running, min(1, Double(m - rank) * pValues[index]))
            adjusted[index] = running
        }
        return adjusted
    }

    /// Which hypotheses are rejected at family-wise level `alpha`, in the input's order.
    public static func rejections(_ pValues: [Double], alpha: Double = 0.05) -> [Bool] {
        adjustedPValues(pValues).map { $0 <= alpha }
    }
}
