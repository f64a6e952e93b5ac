import Foundation

// Number and table formatting shared by the report, the JSON documents and the command line.
// `package`: the CLI uses them too, but they are not part of the library's API.

/// Seconds since `start` (from `DispatchTime.now().uptimeNanoseconds`).
package func seconds(since start: UInt64) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
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
