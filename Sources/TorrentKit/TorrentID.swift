/// The 20-byte identity of a torrent: its v1 info-hash when it has one,
/// otherwise its v2 (SHA-256) info-hash truncated to 20 bytes, as BitTorrent
/// clients do. Written as 40 lowercase hex digits in URLs and file names.
public struct TorrentID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 20 else { return nil }
        self.bytes = bytes
    }

    /// Parses 40 hex digits (either case), or a 32-character base32 v1 hash.
    public init?(string: String) {
        if string.utf8.count == 40, let b = Hex.decode(string) {
            self.bytes = b
        } else if string.utf8.count == 32, let b = Base32.decode(string), b.count == 20 {
            self.bytes = b
        } else {
            return nil
        }
    }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }

    public static func < (a: TorrentID, b: TorrentID) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }

    init(
        tuple t: (
            UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
            UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
        )
    ) {
        self.bytes = withUnsafeBytes(of: t) { Array($0) }
    }
}

/// Hex digits, as in info-hashes and keys.
public enum Hex {
    public static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ s: String) -> [UInt8]? {
        let u = Array(s.utf8)
        guard u.count % 2 == 0 else { return nil }
        func v(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let hi = v(u[i]), let lo = v(u[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}

/// RFC 4648 base32 without padding.
public enum Base32 {
    public static func encode(_ bytes: [UInt8]) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
        var out = [UInt8]()
        var buffer: UInt32 = 0
        var bits = 0
        for b in bytes {
            buffer = (buffer << 8) | UInt32(b)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[Int((buffer >> UInt32(bits)) & 31)])
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ s: String) -> [UInt8]? {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)
        var buffer: UInt64 = 0
        var bits = 0
        var out = [UInt8]()
        for c in s.uppercased().utf8 {
            guard let idx = alphabet.firstIndex(of: c) else { return nil }
            buffer = (buffer << 5) | UInt64(idx)
            bits += 5
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((buffer >> UInt64(bits)) & 0xff))
            }
        }
        return out
    }
}
