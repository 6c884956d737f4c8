public import Foundation
public import TorrentKit

/// What this client trusts and has seen, kept outside the install tree
/// (MATINEE data folder, updates/state.json) so that a version being
/// installed or rolled back never rewrites it.
public struct ReleaseTrust: Codable, Sendable, Equatable {
    /// The highest DHT sequence accepted from the channel; stored before
    /// anything the pointer names is fetched.
    public var highestSequence: Int64 = -1
    /// The newest keys document reached through signed rotations.
    public var keys: ReleaseKeys
    /// Builds refused or rolled back here (build number -> why): never
    /// tried again.
    public var refusedBuilds: [String: String] = [:]

    public init(keys: ReleaseKeys) {
        self.keys = keys
    }
}

/// The version this binary is: from the bundle's VERSION and BUILD files,
/// or a development build (build 0) when it runs from a build tree.
public struct InstalledVersion: Sendable, Equatable {
    public var version: String
    public var build: Int64

    public init(version: String, build: Int64) {
        self.version = version
        self.build = build
    }
}

/// The client's checks, in the order docs/release-format.md §4 gives them.
/// Pure: the caller fetches, measures time and stores. Each refusal is one
/// `ReleaseError` line; nothing here installs or changes state.
public struct ReleaseCheck: Sendable {
    public var channel: [UInt8]
    public var installed: InstalledVersion
    public var platform: String
    public var now: Date
    /// Clocks disagree; a manifest a few minutes past its expiry is allowed.
    public var clockSkew: TimeInterval = 5 * 60

    public init(channel: [UInt8], installed: InstalledVersion, platform: String, now: Date) {
        self.channel = channel
        self.installed = installed
        self.platform = platform
        self.now = now
    }

    public enum PointerOutcome: Sendable, Equatable {
        /// The channel points at the same release as the last time.
        case unchanged
        /// A new pointer: raise the stored sequence to `sequence`, then fetch.
        case fetch(TorrentID, sequence: Int64)
    }

    /// 1. The DHT item: signed by the channel's key, a BEP 46 value, and a
    ///    sequence no lower than the highest seen.
    public func pointer(_ item: DHTMutableItem, trust: ReleaseTrust, lastTorrent: TorrentID?) throws -> PointerOutcome {
        guard item.publicKey == channel, TorrentPointer.isValid(item) else {
            throw ReleaseError(.pointer, "refused the release channel's DHT item: it is not signed by the channel's key")
        }
        guard let id = TorrentPointer.torrent(in: item.value) else {
            throw ReleaseError(.pointer, "refused the release channel's DHT item: it does not name a release torrent")
        }
        if item.sequence < trust.highestSequence {
            throw ReleaseError(
                .pointer,
                "refused an older release pointer (sequence \(item.sequence); \(trust.highestSequence) was already seen)")
        }
        if item.sequence == trust.highestSequence, let lastTorrent {
            guard lastTorrent == id else {
                throw ReleaseError(.pointer, "refused a release pointer that reuses sequence \(item.sequence) for another release")
            }
            return .unchanged
        }
        return .fetch(id, sequence: item.sequence)
    }

    /// What passed the manifest's checks: the manifest, this platform's
    /// artifact, and the keys to trust from now on (after any rotation).
    public struct Accepted: Sendable, Equatable {
        public var manifest: ReleaseManifest
        public var artifact: ReleaseManifest.Artifact
        public var keys: ReleaseKeys
    }

    /// 2-5. The manifest: size cap and form, signatures and threshold
    /// (after following signed key rotations; a key counts once), app and
    /// channel, expiry, then build (higher than installed, not revoked, not
    /// refused here, installable from this build) and this platform.
    public func manifest(
        _ bytes: [UInt8], signatures: SignatureSet, rotations: [(document: [UInt8], signatures: SignatureSet)],
        pointerSequence: Int64, trust: ReleaseTrust
    ) throws -> Accepted {
        let m = try ReleaseManifest.decode(bytes)
        let keys = try trust.keys.following(rotations)
        guard m.keysVersion == keys.version else {
            throw ReleaseError(
                .signature,
                "refused release \(m.version): it names keys version \(m.keysVersion), this channel's keys are at \(keys.version)")
        }
        let signers = signatures.validSigners(.manifest, of: bytes, trusted: keys.keySet)
        guard signers.count >= keys.threshold else {
            throw ReleaseError(
                .signature,
                signers.isEmpty
                    ? "refused release \(m.version): its manifest is not signed by this channel's release keys"
                    : "refused release \(m.version): signed by \(signers.count) of the release keys, \(keys.threshold) needed")
        }
        guard m.app == ReleaseManifest.appName, m.channel.lowercased() == Hex.encode(channel) else {
            throw ReleaseError(.policy, "refused release \(m.version): its manifest is for another app or channel")
        }
        guard m.sequence == pointerSequence else {
            throw ReleaseError(
                .policy,
                "refused release \(m.version): its manifest was signed for sequence \(m.sequence), the pointer has \(pointerSequence)")
        }
        if let expires = m.expiresDate, expires.addingTimeInterval(clockSkew) < now {
            throw ReleaseError(.policy, "refused release \(m.version): its manifest expired on \(m.expires) (a stale or replayed release)")
        }
        if let issued = m.issuedDate, issued.addingTimeInterval(-clockSkew) > now {
            throw ReleaseError(
                .policy, "refused release \(m.version): its manifest is dated \(m.issued), in the future (is this clock right?)")
        }
        if m.build == installed.build {
            throw ReleaseError(.upToDate, "\(installed.version) (build \(installed.build)) is the latest release")
        }
        if let why = trust.refusedBuilds[String(m.build)] {
            throw ReleaseError(.policy, "refused release \(m.version) (build \(m.build)): it was refused here before (\(why))")
        }
        guard m.build > installed.build else {
            throw ReleaseError(
                .policy,
                "refused release \(m.version) (build \(m.build)): older than the installed \(installed.version) (build \(installed.build)), a rollback"
            )
        }
        guard !m.revokedBuilds.contains(m.build) else {
            throw ReleaseError(.policy, "refused release \(m.version): its own manifest revokes build \(m.build)")
        }
        guard installed.build == 0 || installed.build >= m.minimumBuild else {
            throw ReleaseError(
                .policy, "release \(m.version) needs build \(m.minimumBuild) or later installed first; install it by hand (see the README)")
        }
        guard let a = m.artifact(for: platform) else {
            throw ReleaseError(.policy, "release \(m.version) has no build for \(platform)")
        }
        return Accepted(manifest: m, artifact: a, keys: keys)
    }

    /// 6. The artifact torrent's metadata, before a byte is downloaded: one
    ///    folder holding the archive, at the announced size, and at most its
    ///    signature beside it. A larger archive is never fetched.
    public static func artifactFiles(_ files: [(path: String, size: Int64)], artifact: ReleaseManifest.Artifact) throws {
        guard let archive = files.first(where: { ($0.path as NSString).lastPathComponent == artifact.file }) else {
            throw ReleaseError(.archive, "the release torrent does not hold \(artifact.file)")
        }
        guard archive.size == artifact.size else {
            throw ReleaseError(
                .archive,
                "refused \(artifact.file): the torrent holds \(archive.size) bytes, the signed manifest announces \(artifact.size); nothing was downloaded"
            )
        }
        let others = files.filter { $0.path != archive.path }
        guard others.count <= 1, others.allSatisfy({ $0.size <= 1024 }) else {
            throw ReleaseError(.archive, "refused \(artifact.file): its torrent holds other files than the archive and its signature")
        }
    }

    /// 7. The archive's SHA-256, before it is opened.
    public static func archiveDigest(_ sha256: [UInt8], size: Int64, artifact: ReleaseManifest.Artifact) throws {
        guard size == artifact.size else {
            throw ReleaseError(.archive, "refused \(artifact.file): it is \(size) bytes, the manifest announces \(artifact.size)")
        }
        guard Hex.encode(sha256) == artifact.sha256.lowercased() else {
            throw ReleaseError(.archive, "refused \(artifact.file): its SHA-256 is not the one the signed manifest gives")
        }
    }
}
