import Foundation
import TorrentKit

/// A channel's address: its Ed25519 public key (docs/channel-format.md §1).
/// Written as a BEP 46 magnet (`magnet:?xs=urn:btpk:<hex>`) or the short
/// form `matinee:<base32>`.
public struct ChannelAddress: Hashable, Sendable, CustomStringConvertible {
    public let publicKey: [UInt8]
    /// A BEP 46 salt (`s=`); Matinee publishes without one.
    public let salt: [UInt8]

    public init?(publicKey: [UInt8], salt: [UInt8] = []) {
        guard publicKey.count == 32, salt.count <= DHTMutableItem.maxSaltSize else { return nil }
        self.publicKey = publicKey
        self.salt = salt
    }

    /// Parses either form; nil for anything else.
    public init?(_ text: String) {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.lowercased().hasPrefix("matinee:") {
            let body = String(t.dropFirst("matinee:".count))
            guard body.utf8.count == 52, let key = Base32.decode(body), key.count == 32,
                Base32.encode(key) == body.lowercased()
            else { return nil }
            self.init(publicKey: key)
            return
        }
        guard t.lowercased().hasPrefix("magnet:?"), let query = t.split(separator: "?", maxSplits: 1).last else { return nil }
        var key: [UInt8]?
        var salt: [UInt8] = []
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { continue }
            let value = kv[1].removingPercentEncoding ?? kv[1]
            switch kv[0] {
            case "xs":
                let prefix = "urn:btpk:"
                guard value.lowercased().hasPrefix(prefix) else { continue }
                let hex = String(value.dropFirst(prefix.count))
                guard hex.utf8.count == 64, let k = Hex.decode(hex) else { return nil }
                key = k
            case "s":
                guard let s = Hex.decode(value) else { return nil }
                salt = s
            default:
                continue
            }
        }
        guard let key else { return nil }
        self.init(publicKey: key, salt: salt)
    }

    public var hex: String { Hex.encode(publicKey) }
    public var magnet: String {
        salt.isEmpty ? "magnet:?xs=urn:btpk:\(hex)" : "magnet:?xs=urn:btpk:\(hex)&s=\(Hex.encode(salt))"
    }
    public var short: String { "matinee:\(Base32.encode(publicKey))" }
    public var description: String { magnet }
}
