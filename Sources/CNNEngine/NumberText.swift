import Foundation

// The one place numbers become text, for every module's messages, reports and JSON figures.
// `package`: the other modules of cnnprune use them, but they are not part of the API.

/// `n` with a comma between groups of three digits, as messages and reports write counts:
/// `5000` → `5,000`, `-1234567` → `-1,234,567`.
package func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    out.reserveCapacity(digits.count + digits.count / 3 + 1)
    for (i, digit) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(digit)
    }
    return n < 0 ? "-" + out : out
}

/// `value` with `places` decimals: `format(68.366, 2)` → `68.37`.
package func format(_ value: Double, _ places: Int) -> String {
    String(format: "%.\(places)f", value)
}

/// `value` rounded to `places` decimals, for JSON figures people read.
package func rounded(_ value: Double, _ places: Int = 2) -> Double {
    let scale = pow(10, Double(places))
    return (value * scale).rounded() / scale
}
