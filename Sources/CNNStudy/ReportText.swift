import Foundation

// Number and table formatting shared by the report, the JSON documents and the command line.
// `package`: the CLI uses them too, but they are not part of the library's API.

/// `5000` → `5,000`.
package func grouped(_ n: Int) -> String {
    let formatter = NumberFormatter()
    formatter.numberStyle = .decimal
    formatter.groupingSeparator = ","
    formatter.usesGroupingSeparator = true
    return formatter.string(from: NSNumber(value: n)) ?? String(n)
}

/// Seconds since `start` (from `DispatchTime.now().uptimeNanoseconds`).
package func seconds(since start: UInt64) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Rounds to `places` decimals (for JSON figures people read).
package func rounded(_ value: Double, _ places: Int = 2) -> Double {
    let scale = pow(10, Double(places))
    return (value * scale).rounded() / scale
}

/// Rows of cells as a plain-text table: the first column left-aligned, the others right-aligned,
/// three spaces between columns.
package func alignedTable(_ cells: [[String]]) -> String {
    guard let first = cells.first else { return "" }
    let widths = first.indices.map { column in cells.map { $0[column].count }.max() ?? 0 }
    return cells.map { row in
        row.enumerated().map { column, text in
            column == 0 ? text.padding(toLength: widths[0], withPad: " ", startingAt: 0)
                        : String(repeating: " ", count: widths[column] - text.count) + text
        }.joined(separator: "   ")
    }.joined(separator: "\n")
}
