import Foundation

/// SRT (or WebVTT) to WebVTT for the browser, with every tag stripped and
/// text escaped: subtitle files come from strangers, and players have been
/// taken over through them ("Hacked in Translation", docs/threat_model.md).
/// Size-limited; malformed cues are skipped, never fatal.
public enum SubtitleConverter {
    public static let maxInputBytes = 2 << 20

    /// `shift` seconds are taken off every cue (a converted stream that
    /// starts mid-film counts from 0); cues that end before 0 are dropped.
    public static func webVTT(from input: [UInt8], shift: Double = 0) -> String? {
        guard input.count <= maxInputBytes else { return nil }
        var text = String(decoding: input, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        text = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var out = "WEBVTT\n\n"
        var cues = 0
        for block in text.components(separatedBy: "\n\n") {
            let lines = block.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
            guard let timeIndex = lines.firstIndex(where: { $0.contains("-->") }), timeIndex <= 1 else { continue }
            guard let timing = Self.timing(lines[timeIndex], shift: shift) else { continue }
            let body = lines[(timeIndex + 1)...].map(Self.clean).filter { !$0.isEmpty }
            guard !body.isEmpty else { continue }
            cues += 1
            out += "\(timing)\n" + body.joined(separator: "\n") + "\n\n"
        }
        return cues > 0 ? out : nil
    }

    /// The WebVTT this converter made, as SubRip (numbered cues, commas in
    /// the times). SRT players read tags, so an escaped < or > becomes ‹ or ›
    /// rather than markup.
    public static func subRip(fromWebVTT vtt: String) -> String {
        var out = ""
        var n = 0
        for block in vtt.components(separatedBy: "\n\n") {
            let lines = block.split(separator: "\n").map(String.init)
            guard let first = lines.first, first.contains("-->") else { continue }
            n += 1
            let text = lines.dropFirst().map {
                $0.replacingOccurrences(of: "&lt;", with: "‹").replacingOccurrences(of: "&gt;", with: "›")
                    .replacingOccurrences(of: "&amp;", with: "&")
            }
            out += "\(n)\n\(first.replacingOccurrences(of: ".", with: ","))\n" + text.joined(separator: "\n") + "\n\n"
        }
        return out
    }

    /// "00:00:01,000 --> 00:00:02,500 X:1" -> "00:00:01.000 --> 00:00:02.500"
    /// (cue settings dropped).
    static func timing(_ line: String, shift: Double = 0) -> String? {
        let parts = line.components(separatedBy: "-->").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2 else { return nil }
        let end = parts[1].split(separator: " ").first.map(String.init) ?? ""
        guard let a = time(parts[0]), let b = time(end), a <= b, b - shift > 0 else { return nil }
        return "\(format(max(0, a - shift))) --> \(format(b - shift))"
    }

    static func time(_ s: String) -> Double? {
        let t = s.replacingOccurrences(of: ",", with: ".")
        let fields = t.split(separator: ":")
        guard (2...3).contains(fields.count) else { return nil }
        var total = 0.0
        for f in fields {
            guard let v = Double(f), v >= 0, v.isFinite else { return nil }
            total = total * 60 + v
        }
        return total < 360_000 ? total : nil
    }

    static func format(_ t: Double) -> String {
        let ms = Int((t * 1000).rounded())
        return String(format: "%02d:%02d:%02d.%03d", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
    }

    /// Strips HTML-like tags (<i>, <font ...>, <script>) and ASS overrides
    /// ({\an8}), then escapes what WebVTT would read as markup.
    static func clean(_ line: String) -> String {
        var out = ""
        var inTag = false
        var inBrace = false
        for ch in line {
            switch ch {
            case "<": inTag = true
            case ">" where inTag: inTag = false
            case "{" where !inTag: inBrace = true
            case "}" where inBrace: inBrace = false
            default:
                if !inTag && !inBrace { out.append(ch) }
            }
        }
        return out.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "-->", with: "--&gt;")
            .trimmingCharacters(in: .whitespaces)
    }
}
