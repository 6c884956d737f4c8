import Foundation
import TorrentKit

/// Who may sign releases (docs/release-format.md §2): a set of Ed25519 keys
/// and how many of them must sign a manifest. Version 1 of a channel's keys
/// is its root of trust: compiled into the binary for Matinee's own channel,
/// or, for a channel named by MATINEE_RELEASE_CHANNEL, the channel's key alone
/// with threshold 1. Each later version is a rotation, valid only when signed
/// by a threshold of the keys before it *and* a threshold of its own keys.
public struct ReleaseKeys: Codable, Sendable, Equatable {
    public var app: String
    /// The release channel's key, 64 hex digits.
    public var channel: String
    public var version: Int
    public var threshold: Int
    /// 64 hex digits each, lower case.
    public var keys: [String]

    public static let maxBytes = 64 << 10
    public static let maxKeys = 32

    public init(app: String = ReleaseManifest.appName, channel: String, version: Int, threshold: Int, keys: [String]) {
        self.app = app
        self.channel = channel
        self.version = version
        self.threshold = threshold
        self.keys = keys
    }

    /// The root of a channel that names no other: its own key, threshold 1.
    public static func root(channel: [UInt8]) -> ReleaseKeys {
        ReleaseKeys(channel: Hex.encode(channel), version: 1, threshold: 1, keys: [Hex.encode(channel)])
    }

    public var keySet: Set<String> { Set(keys.map { $0.lowercased() }) }

    public static func decode(_ bytes: [UInt8]) throws -> ReleaseKeys {
        guard bytes.count <= maxBytes, let k = try? JSONDecoder().decode(ReleaseKeys.self, from: Data(bytes)) else {
            throw ReleaseError(.malformed, "a release keys document is not valid JSON of the expected form")
        }
        try k.validate()
        return k
    }

    public func encoded() throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try e.encode(self)) + [0x0a]
    }

    public func validate() throws {
        guard app == ReleaseManifest.appName else { throw ReleaseError(.policy, "a release keys document is for \"\(app)\", not Matinee") }
        guard version >= 1, !keys.isEmpty, keys.count <= Self.maxKeys,
            keys.allSatisfy({ Hex.decode($0)?.count == 32 }), Hex.decode(channel)?.count == 32
        else { throw ReleaseError(.malformed, "a release keys document lists malformed keys") }
        // Duplicates would let one key meet a threshold of two.
        guard keySet.count == keys.count else { throw ReleaseError(.signature, "release keys document \(version) lists a key twice") }
        guard threshold >= 1, threshold <= keys.count else {
            throw ReleaseError(.signature, "release keys document \(version) asks for \(threshold) of \(keys.count) keys")
        }
    }

    /// Follows signed rotations from `self` (trusted) through `chain` (keys
    /// documents with their signature files, any order); returns the newest
    /// keys reached. A rotation must be the next version, for the same
    /// channel, and signed by a threshold of the old keys and of the new.
    public func following(_ chain: [(document: [UInt8], signatures: SignatureSet)]) throws -> ReleaseKeys {
        var current = self
        let parsed = try chain.map { (keys: try ReleaseKeys.decode($0.document), bytes: $0.document, sigs: $0.signatures) }
            .sorted { $0.keys.version < $1.keys.version }
        for next in parsed where next.keys.version > current.version {
            guard next.keys.version == current.version + 1 else {
                throw ReleaseError(.signature, "release keys version \(current.version + 1) is missing (found \(next.keys.version))")
            }
            guard next.keys.channel.lowercased() == current.channel.lowercased() else {
                throw ReleaseError(.signature, "release keys document \(next.keys.version) is for another channel")
            }
            let byOld = next.sigs.validSigners(.keys, of: next.bytes, trusted: current.keySet).count
            let byNew = next.sigs.validSigners(.keys, of: next.bytes, trusted: next.keys.keySet).count
            guard byOld >= current.threshold else {
                throw ReleaseError(
                    .signature,
                    "refused a key rotation to version \(next.keys.version): signed by \(byOld) of the current keys, \(current.threshold) needed"
                )
            }
            guard byNew >= next.keys.threshold else {
                throw ReleaseError(
                    .signature,
                    "refused a key rotation to version \(next.keys.version): signed by \(byNew) of its own keys, \(next.keys.threshold) needed"
                )
            }
            current = next.keys
        }
        return current
    }
}
