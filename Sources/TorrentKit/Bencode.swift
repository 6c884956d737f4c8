/// A bencoded value (BEP 3). Decoding is bounded in depth and input size,
/// because every bencoded thing Matinee reads arrives from the network.
public indirect enum Bencode: Sendable, Equatable {
    case int(Int64)
    case bytes([UInt8])
    case list([Bencode])
    case dict([(key: [UInt8], value: Bencode)])

    public static func == (a: Bencode, b: Bencode) -> Bool {
        switch (a, b) {
        case let (.int(x), .int(y)): return x == y
        case let (.bytes(x), .bytes(y)): return x == y
        case let (.list(x), .list(y)): return x == y
        case let (.dict(x), .dict(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    public subscript(key: String) -> Bencode? {
        guard case let .dict(entries) = self else { return nil }
        let k = Array(key.utf8)
        return entries.first { $0.key == k }?.value
    }

    public var string: String? {
        guard case let .bytes(b) = self else { return nil }
        return String(validating: b, as: UTF8.self)
    }

    public struct DecodeError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Decodes exactly one value that spans the whole input.
    public static func decode(_ input: [UInt8], maxDepth: Int = 64) throws -> Bencode {
        var parser = Parser(input: input, maxDepth: maxDepth)
        let value = try parser.value(depth: 0)
        guard parser.pos == input.count else { throw DecodeError(description: "trailing data after bencoded value") }
        return value
    }

    public func encoded() -> [UInt8] {
        var out = [UInt8]()
        encode(into: &out)
        return out
    }

    private func encode(into out: inout [UInt8]) {
        switch self {
        case let .int(v): out += Array("i\(v)e".utf8)
        case let .bytes(b):
            out += Array("\(b.count):".utf8)
            out += b
        case let .list(items):
            out.append(UInt8(ascii: "l"))
            for i in items { i.encode(into: &out) }
            out.append(UInt8(ascii: "e"))
        case let .dict(entries):
            out.append(UInt8(ascii: "d"))
            for e in entries.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                Bencode.bytes(e.key).encode(into: &out)
                e.value.encode(into: &out)
            }
            out.append(UInt8(ascii: "e"))
        }
    }

    private struct Parser {
        let input: [UInt8]
        let maxDepth: Int
        var pos = 0

        init(input: [UInt8], maxDepth: Int) {
            self.input = input
            self.maxDepth = maxDepth
        }

        func fail(_ what: String) -> DecodeError { DecodeError(description: "\(what) at byte \(pos)") }

        mutating func value(depth: Int) throws -> Bencode {
            guard depth <= maxDepth else { throw fail("nesting too deep") }
            guard pos < input.count else { throw fail("unexpected end") }
            switch input[pos] {
            case UInt8(ascii: "i"):
                pos += 1
                let v = try integer(until: UInt8(ascii: "e"))
                return .int(v)
            case UInt8(ascii: "l"):
                pos += 1
                var items = [Bencode]()
                while true {
                    guard pos < input.count else { throw fail("unterminated list") }
                    if input[pos] == UInt8(ascii: "e") { pos += 1; break }
                    items.append(try value(depth: depth + 1))
                }
                return .list(items)
            case UInt8(ascii: "d"):
                pos += 1
                var entries = [(key: [UInt8], value: Bencode)]()
                while true {
                    guard pos < input.count else { throw fail("unterminated dictionary") }
                    if input[pos] == UInt8(ascii: "e") { pos += 1; break }
                    let k = try bytes()
                    entries.append((k, try value(depth: depth + 1)))
                }
                return .dict(entries)
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                return .bytes(try bytes())
            default:
                throw fail("unexpected character")
            }
        }

        mutating func integer(until end: UInt8) throws -> Int64 {
            var neg = false
            if pos < input.count, input[pos] == UInt8(ascii: "-") { neg = true; pos += 1 }
            var v: Int64 = 0
            var digits = 0
            while pos < input.count, input[pos] != end {
                let c = input[pos]
                guard c >= 48, c <= 57, digits < 18 else { throw fail("bad integer") }
                v = v * 10 + Int64(c - 48)
                digits += 1
                pos += 1
            }
            guard pos < input.count, digits > 0 else { throw fail("bad integer") }
            pos += 1
            return neg ? -v : v
        }

        mutating func bytes() throws -> [UInt8] {
            guard pos < input.count, input[pos] >= 48, input[pos] <= 57 else { throw fail("expected a string") }
            let n = try integer(until: UInt8(ascii: ":"))
            guard n >= 0, n <= input.count - pos else { throw fail("string longer than the data") }
            let b = Array(input[pos..<pos + Int(n)])
            pos += Int(n)
            return b
        }
    }
}
