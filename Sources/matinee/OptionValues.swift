import ArgumentParser

/// Option values parsed here rather than by ArgumentParser, for options whose
/// help says the default in words ("any free port"): ArgumentParser would
/// add its own "(default: 0)" after it, and writes 120 minutes as "120.0".
enum OptionValue {
    static func int(_ text: String) throws -> Int {
        guard let v = Int(text) else { throw ValidationError("not a whole number") }
        return v
    }

    static func number(_ text: String) throws -> Double {
        guard let v = Double(text), v.isFinite else { throw ValidationError("not a number") }
        return v
    }

    /// 120 as "120", 0.5 as "0.5".
    static func figure(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }
}
