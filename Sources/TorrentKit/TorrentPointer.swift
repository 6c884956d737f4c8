public import Crypto

/// A BEP 46 pointer: a BEP 44 mutable item whose value is `{"ih": <20 bytes>}`,
/// naming the torrent that holds a signed document (a channel's catalog, a
/// release's manifest). The item is signed by the channel's key over the BEP 44
/// bytes, which begin "4:salt" or "3:seqi": no Matinee document signature
/// (each behind its own text prefix) can pass for one, nor the other way round.
public enum TorrentPointer {
    public static func value(for torrent: TorrentID) -> [UInt8] {
        Bencode.dict([(key: Array("ih".utf8), value: .bytes(torrent.bytes))]).encoded()
    }

    /// The torrent a value names; nil for anything but a dictionary with a
    /// 20-byte `ih`.
    public static func torrent(in value: [UInt8]) -> TorrentID? {
        guard let v = try? Bencode.decode(value), case let .bytes(ih)? = v["ih"] else { return nil }
        return TorrentID(bytes: ih)
    }

    public static func item(
        pointingAt torrent: TorrentID, sequence: Int64, salt: [UInt8] = [], key: Curve25519.Signing.PrivateKey
    ) throws -> DHTMutableItem {
        let v = value(for: torrent)
        let sig = try key.signature(for: DHTMutableItem.signedBytes(salt: salt, sequence: sequence, value: v))
        return DHTMutableItem(
            publicKey: Array(key.publicKey.rawRepresentation), salt: salt, sequence: sequence, value: v, signature: Array(sig))
    }

    /// Checks the item's signature ourselves, whatever the DHT node said.
    public static func isValid(_ item: DHTMutableItem) -> Bool {
        guard item.isWellFormed, let pk = try? Curve25519.Signing.PublicKey(rawRepresentation: item.publicKey) else { return false }
        return pk.isValidSignature(item.signature, for: item.signedBytes)
    }
}
