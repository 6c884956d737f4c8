/// A BEP 44 mutable item: a bencoded value of at most 1000 bytes stored in the
/// DHT under an Ed25519 public key (and an optional salt), signed by the
/// holder of the private key. Anyone may store an item someone else signed;
/// nodes keep the one with the highest sequence number.
public struct DHTMutableItem: Sendable, Equatable {
    public var publicKey: [UInt8]
    public var salt: [UInt8]
    public var sequence: Int64
    /// The bencoded value.
    public var value: [UInt8]
    public var signature: [UInt8]

    public static let maxValueSize = 1000
    public static let maxSaltSize = 64

    public init(publicKey: [UInt8], salt: [UInt8] = [], sequence: Int64, value: [UInt8], signature: [UInt8]) {
        self.publicKey = publicKey
        self.salt = salt
        self.sequence = sequence
        self.value = value
        self.signature = signature
    }

    /// The bytes the signature covers (BEP 44): `4:salt<n>:<salt>` when there
    /// is a salt, then `3:seqi<seq>e1:v<value>`.
    public static func signedBytes(salt: [UInt8], sequence: Int64, value: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        if !salt.isEmpty {
            out += Array("4:salt\(salt.count):".utf8) + salt
        }
        out += Array("3:seqi\(sequence)e1:v".utf8) + value
        return out
    }

    public var signedBytes: [UInt8] { Self.signedBytes(salt: salt, sequence: sequence, value: value) }

    /// Checks sizes only; the signature is checked by whoever knows Ed25519
    /// (libtorrent checks items it receives; Catalog checks them again).
    public var isWellFormed: Bool {
        publicKey.count == 32 && signature.count == 64 && salt.count <= Self.maxSaltSize
            && !value.isEmpty && value.count <= Self.maxValueSize && sequence >= 0
    }
}
