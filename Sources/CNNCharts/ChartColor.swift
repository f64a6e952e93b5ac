/// An opaque 8-bit-per-channel sRGB colour, used for series lines, markers and chart furniture.
///
/// Charts render to both SVG (as `#rrggbb`) and PNG (as raw RGB bytes), so the colour is stored
/// exactly as both formats want it.
public struct ChartColor: Sendable, Hashable {
    /// Red channel, 0–255.
    public var red: UInt8
    /// Green channel, 0–255.
    public var green: UInt8
    /// Blue channel, 0–255.
    public var blue: UInt8

    /// Creates a colour from its three channels.
    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// Creates a colour from a 24-bit `0xRRGGBB` literal, e.g. `ChartColor(hex: 0x0072B2)`.
    public init(hex: UInt32) {
        self.init(
            red: UInt8((hex >> 16) & 0xFF),
            green: UInt8((hex >> 8) & 0xFF),
            blue: UInt8(hex & 0xFF)
        )
    }

    /// The colour as a lowercase CSS/SVG hex string, e.g. `"#0072b2"`.
    public var hexString: String {
        let digits = Array("0123456789abcdef")
        var text = "#"
        for channel in [red, green, blue] {
            text.append(digits[Int(channel >> 4)])
            text.append(digits[Int(channel & 0x0F)])
        }
        return text
    }

    /// Pure white, the chart background.
    public static let white = ChartColor(red: 255, green: 255, blue: 255)
    /// Pure black.
    public static let black = ChartColor(red: 0, green: 0, blue: 0)

    /// The series palette: the Okabe–Ito colour-blind-safe colours, ordered for contrast on white.
    ///
    /// Okabe–Ito's yellow (`#F0E442`) is left out because it nearly vanishes on a white
    /// background. Series beyond the seventh reuse these colours, but get a dashed line and a
    /// different marker shape so that they stay distinguishable (see `ChartSeries`).
    public static let palette: [ChartColor] = [
        ChartColor(hex: 0x0072B2),  // blue
        ChartColor(hex: 0xD55E00),  // vermillion
        ChartColor(hex: 0x009E73),  // bluish green
        ChartColor(hex: 0xCC79A7),  // reddish purple
        ChartColor(hex: 0xE69F00),  // orange
        ChartColor(hex: 0x56B4E9),  // sky blue
        ChartColor(hex: 0x000000),  // black
    ]
}

/// The neutral colours of the chart furniture, shared by every renderer so SVG and PNG match.
enum ChartTheme {
    static let background = ChartColor.white
    static let text = ChartColor(hex: 0x222222)
    static let tickText = ChartColor(hex: 0x444444)
    static let axis = ChartColor(hex: 0x555555)
    static let grid = ChartColor(hex: 0xE3E3E3)
    static let legendBorder = ChartColor(hex: 0xBBBBBB)
}
