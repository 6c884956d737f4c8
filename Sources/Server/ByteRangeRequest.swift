/// What a request's Range header asks of a resource of `size` bytes,
/// by RFC 9110 §14.
public enum ByteRangeRequest: Equatable, Sendable {
    /// No usable Range: send everything with 200.
    case whole
    /// One satisfiable range: send it with 206.
    case partial(Range<Int64>)
    /// Nothing in the header overlaps the resource: 416.
    case unsatisfiable

    /// Parses `bytes=a-b`, `bytes=a-` and `bytes=-n`. A header in another unit,
    /// a malformed one, or one asking for several ranges is ignored (200 with
    /// the whole body), which RFC 9110 allows.
    public init(header: String?, size: Int64) {
        guard let header else {
            self = .whole
            return
        }
        let h = header.trimmingSpaces
        guard h.lowercased().hasPrefix("bytes=") else {
            self = .whole
            return
        }
        let specs = h.dropFirst(6).split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces }
        guard specs.count == 1, let spec = specs.first, let dash = spec.firstIndex(of: "-") else {
            self = .whole
            return
        }
        let first = spec[..<dash]
        let last = spec[spec.index(after: dash)...]
        if first.isEmpty {
            // suffix: the last n bytes
            guard let n = Self.number(last) else {
                self = .whole
                return
            }
            if n == 0 || size == 0 {
                self = .unsatisfiable
            } else {
                self = .partial(max(0, size - n)..<size)
            }
            return
        }
        guard let a = Self.number(first) else {
            self = .whole
            return
        }
        var b = size - 1
        if !last.isEmpty {
            guard let l = Self.number(last), l >= a else {
                self = .whole
                return
            }
            b = min(l, size - 1)
        }
        guard a < size else {
            self = .unsatisfiable
            return
        }
        self = .partial(a..<(b + 1))
    }

    /// A position: ASCII digits, as many as the client sends (RFC 9110 sets
    /// no limit). One past what Int64 holds is past the end of anything, so
    /// it saturates: `bytes=0-99999999999999999999` is the whole file with
    /// 206, `bytes=99999999999999999999-` is 416.
    static func number(_ digits: Substring) -> Int64? {
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) else { return nil }
        var v: Int64 = 0
        for d in digits.utf8 {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (n, o2) = m.addingReportingOverflow(Int64(d - UInt8(ascii: "0")))
            if o1 || o2 { return .max }
            v = n
        }
        return v
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return String(s)
    }
}
