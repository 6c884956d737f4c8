public import Crypto
import Foundation
public import TorrentKit

/// Why a release was refused, or an operation on releases failed: one line
/// for the log, the UI and the CLI (docs/release-format.md §6 lists them).
public struct ReleaseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The DHT pointer: signature, key, sequence.
        case pointer
        /// The manifest or keys document: size, form, signatures, threshold.
        case signature
        case malformed
        /// App, channel, expiry, build, revocation, platform.
        case policy
        /// Size or SHA-256 of the archive.
        case archive
        /// A path, link, device or setuid bit inside the archive.
        case unsafeArchive
        case unreachable
        case install
        /// Not a refusal: no room to download or unpack it here; nothing is
        /// recorded against the release, and a later check tries again.
        case diskFull
        case keyFile
        case notInstalled
        /// Not a refusal: the channel names the build that is installed.
        case upToDate
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// The signing domains (docs/release-format.md §3). Every Matinee signature
/// covers a distinct prefix and then the exact bytes of a document, so a
/// signature made for one purpose never verifies for another:
///
///   catalog       "matinee-catalog-v1\n" + catalog.json   (Catalog module)
///   manifest      "matinee-release-manifest-v1\n" + manifest.json
///   keys          "matinee-release-keys-v1\n" + keys/<n>.json
///   DHT pointer   BEP 44: "4:salt..." or "3:seqi...e1:v..." (bencoding)
///   archive       the raw .tar.gz bytes, for `openssl pkeyutl -rawin`;
///                 they start with gzip's 1f 8b, which none of the others can.
public enum ReleaseDomain: Sendable {
    case manifest
    case keys

    public var prefix: [UInt8] {
        switch self {
        case .manifest: Array("matinee-release-manifest-v1\n".utf8)
        case .keys: Array("matinee-release-keys-v1\n".utf8)
        }
    }

    public func sign(_ document: [UInt8], with key: Curve25519.Signing.PrivateKey) throws -> [UInt8] {
        Array(try key.signature(for: prefix + document))
    }

    public func isValid(_ signature: [UInt8], of document: [UInt8], publicKey: [UInt8]) -> Bool {
        guard signature.count == 64, let pk = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return pk.isValidSignature(signature, for: prefix + document)
    }
}

/// The newcomer's signature: Ed25519 over the archive's raw bytes, so that
/// `openssl pkeyutl -verify -rawin` checks it with nothing but Debian's tools.
public enum ArchiveSignature {
    /// gzip's magic: no other signed Matinee document can begin with it.
    static let gzipMagic: [UInt8] = [0x1f, 0x8b]

    public static func sign(_ archive: [UInt8], with key: Curve25519.Signing.PrivateKey) throws -> [UInt8] {
        guard archive.starts(with: gzipMagic) else {
            throw ReleaseError(.archive, "only a .tar.gz archive is signed raw (it must start with gzip's magic bytes)")
        }
        return Array(try key.signature(for: archive))
    }

    public static func isValid(_ signature: [UInt8], of archive: [UInt8], publicKey: [UInt8]) -> Bool {
        guard archive.starts(with: gzipMagic), signature.count == 64,
            let pk = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey)
        else { return false }
        return pk.isValidSignature(signature, for: archive)
    }

    /// The key as the PEM block openssl reads (SubjectPublicKeyInfo, RFC 8410).
    public static func pem(publicKey: [UInt8]) -> String {
        let spki: [UInt8] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00] + publicKey
        return "-----BEGIN PUBLIC KEY-----\n\(Data(spki).base64EncodedString())\n-----END PUBLIC KEY-----\n"
    }
}

/// A detached signature file (manifest.sig, keys/<n>.sig): who signed, and
/// what. JSON so that several maintainers can each add theirs.
public struct SignatureSet: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        /// 64 hex digits.
        public var key: String
        /// 128 hex digits.
        public var signature: String

        public init(key: String, signature: String) {
            self.key = key
            self.signature = signature
        }
    }

    public var signatures: [Entry]
    public static let maxBytes = 64 << 10

    public init(signatures: [Entry] = []) {
        self.signatures = signatures
    }

    public static func decode(_ bytes: [UInt8]) throws -> SignatureSet {
        guard bytes.count <= maxBytes, let s = try? JSONDecoder().decode(SignatureSet.self, from: Data(bytes)) else {
            throw ReleaseError(.signature, "the release's signature file is not a Matinee signature list")
        }
        return s
    }

    public func encoded() throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try e.encode(self)) + [0x0a]
    }

    public mutating func add(_ domain: ReleaseDomain, of document: [UInt8], by key: Curve25519.Signing.PrivateKey) throws {
        let pk = Hex.encode(Array(key.publicKey.rawRepresentation))
        signatures.removeAll { $0.key == pk }
        signatures.append(Entry(key: pk, signature: Hex.encode(try domain.sign(document, with: key))))
    }

    /// The distinct keys among `trusted` whose signature over `document` in
    /// `domain` verifies. A key listed twice, or a signature by a key not
    /// trusted, adds nothing.
    public func validSigners(_ domain: ReleaseDomain, of document: [UInt8], trusted: Set<String>) -> Set<String> {
        var out = Set<String>()
        for e in signatures {
            let k = e.key.lowercased()
            guard trusted.contains(k), !out.contains(k), let pk = Hex.decode(k), let sig = Hex.decode(e.signature),
                domain.isValid(sig, of: document, publicKey: pk)
            else { continue }
            out.insert(k)
        }
        return out
    }
}
