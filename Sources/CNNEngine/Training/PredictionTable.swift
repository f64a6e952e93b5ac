/// Every sample's label, prediction and logits as CSV (`evaluate --predictions`): a header
/// `index,label,predicted,logit_0,…,logit_{C−1}`, then one row per sample in data order.
/// Logits are written in Swift's shortest form that reads back to the same Float.
public enum PredictionTable {
    /// The CSV text of `evaluation` (which must have collected logits) on `data`.
    public static func csv<Data: LabeledImages>(_ evaluation: Evaluation, on data: Data) -> String {
        let classes = evaluation.classes
        precondition(evaluation.logits.count == data.count * classes, "evaluate with collectingLogits: true")
        var text = "index,label,predicted," + (0..<classes).map { "logit_\($0)" }.joined(separator: ",") + "\n"
        text.reserveCapacity(data.count * (8 + classes * 12))
        for i in 0..<data.count {
            text += "\(i),\(data.label(at: i)),\(evaluation.predictions[i])"
            for j in 0..<classes {
                text += ","
                text += evaluation.logits[i * classes + j].description
            }
            text += "\n"
        }
        return text
    }
}
