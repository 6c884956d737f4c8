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
            guard let n = Int64(last), n >= 0, last.allSatisfy(\.isASCIIDigit) else {
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
        guard let a = Int64(first), first.allSatisfy(\.isASCIIDigit) else {
            self = .whole
            return
        }
        var b = size - 1
        if !last.isEmpty {
            guard let l = Int64(last), last.allSatisfy(\.isASCIIDigit), l >= a else {
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
