public import Foundation
public import TorrentKit

/// What the updater keeps between runs, in the data folder (never in the
/// install tree): trust (highest sequence, keys, refused builds), the release
/// torrent last followed, what is downloaded and ready, the last check.
public struct UpdateState: Codable, Sendable, Equatable {
    public var trust: ReleaseTrust
    /// The release torrent the pointer at `trust.highestSequence` named.
    public var lastTorrent: String?
    /// A release downloaded, verified and unpacked, waiting to be applied.
    public var ready: Ready?
    public var lastCheck: String?
    /// The last check's outcome, one line ("up to date", a refusal).
    public var lastResult: String?
    /// The last check ended in a refusal or a failure (`lastResult` says which).
    public var lastCheckFailed: Bool?
    /// The release pointer at `trust.highestSequence`, as signed: a running
    /// Matinee puts it back on the DHT, so the channel stays reachable while
    /// its maintainer is offline (docs/release-format.md §6).
    public var pointer: SignedPointer?
    /// The artifact torrent of each build downloaded here (build: infohash),
    /// so the release a Matinee runs is seeded from artifacts/<build>.
    public var artifacts: [String: String]?

    /// A BEP 44 item's signed parts (the key is the channel's).
    public struct SignedPointer: Codable, Sendable, Equatable {
        public var sequence: Int64
        /// The bencoded value and the signature, in hex.
        public var value: String
        public var signature: String

        public init(_ item: DHTMutableItem) {
            sequence = item.sequence
            value = Hex.encode(item.value)
            signature = Hex.encode(item.signature)
        }

        public func item(channel: [UInt8]) -> DHTMutableItem? {
            guard let v = Hex.decode(value), let s = Hex.decode(signature) else { return nil }
            let item = DHTMutableItem(publicKey: channel, sequence: sequence, value: v, signature: s)
            return TorrentPointer.isValid(item) ? item : nil
        }
    }

    public struct Ready: Codable, Sendable, Equatable {
        public var version: String
        public var build: Int64
        public var notes: String
        /// Where the unpacked bundle waits (moved into versions/ on apply).
        public var folder: String
        public var manifestTorrent: String
        public var artifactTorrent: String

        public init(version: String, build: Int64, notes: String, folder: String, manifestTorrent: String, artifactTorrent: String) {
            self.version = version
            self.build = build
            self.notes = notes
            self.folder = folder
            self.manifestTorrent = manifestTorrent
            self.artifactTorrent = artifactTorrent
        }
    }

    public init(trust: ReleaseTrust) {
        self.trust = trust
    }
}

/// updates/ in the data folder: state.json, and the release torrents kept
/// for seeding (manifests/<sequence>/, artifacts/<build>/, staged/<build>/).
public struct UpdateStore: Sendable {
    public let folder: String

    public init(dataFolder: String) {
        folder = dataFolder + "/updates"
    }

    public var stateFile: String { folder + "/state.json" }
    public func manifestFolder(_ sequence: Int64) -> String { folder + "/manifests/\(sequence)" }
    public func artifactFolder(_ build: Int64) -> String { folder + "/artifacts/\(build)" }
    public func stagingFolder(_ build: Int64) -> String { folder + "/staged/\(build)" }
    /// The .torrent files of the release torrents fetched: a later check,
    /// or seeding, needs no peer for their metadata.
    public func torrentFile(_ id: TorrentID) -> String { folder + "/torrents/\(id.hex).torrent" }

    public func knownTorrent(_ id: TorrentID) -> [UInt8]? {
        FileManager.default.contents(atPath: torrentFile(id)).map { Array($0) }
    }

    public func keep(_ torrent: [UInt8], for id: TorrentID) {
        try? FileManager.default.createDirectory(atPath: folder + "/torrents", withIntermediateDirectories: true)
        try? Installation.writeAtomically(torrent, to: torrentFile(id))
    }

    /// The saved state, or a fresh one trusting `root` (the channel's keys
    /// as this binary knows them). A state for another channel is reset.
    public func load(root: ReleaseKeys) -> UpdateState {
        guard let d = FileManager.default.contents(atPath: stateFile), let s = try? JSONDecoder().decode(UpdateState.self, from: d),
            s.trust.keys.channel == root.channel, s.trust.keys.version >= root.version
        else { return UpdateState(trust: ReleaseTrust(keys: root)) }
        return s
    }

    /// The saved state whatever channel it is for; nil when there is none.
    public func loadExisting() -> UpdateState? {
        FileManager.default.contents(atPath: stateFile).flatMap { try? JSONDecoder().decode(UpdateState.self, from: $0) }
    }

    public func save(_ state: UpdateState) throws {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw ReleaseError(.install, "cannot create \(folder): \(error.localizedDescription)")
        }
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        try Installation.writeAtomically(Array(try e.encode(state)), to: stateFile)
    }
}

/// The release channel this binary follows: Matinee's own (compiled in), or
/// the one MATINEE_RELEASE_CHANNEL names (tests, forks), whose root of trust
/// is then its own key alone.
public struct ReleaseChannel: Sendable, Equatable {
    public let publicKey: [UInt8]
    public let root: ReleaseKeys

    /// Matinee's own release channel, compiled in: nil until the project's
    /// maintainers have made its key with `matinee release new` (the README
    /// prints its public half for newcomers then). Until then a build follows
    /// only the channel MATINEE_RELEASE_CHANNEL names.
    public static let matinee: ReleaseChannel? = nil

    public init(publicKey: [UInt8], root: ReleaseKeys? = nil) {
        self.publicKey = publicKey
        self.root = root ?? ReleaseKeys.root(channel: publicKey)
    }

    /// MATINEE_RELEASE_CHANNEL (a magnet with xs=urn:btpk:, or 64 hex
    /// digits), else Matinee's own. A value that is neither throws.
    public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ReleaseChannel {
        guard let raw = environment["MATINEE_RELEASE_CHANNEL"]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else {
            guard let matinee else {
                throw ReleaseError(
                    .notInstalled,
                    "this build follows no release channel yet: name one with MATINEE_RELEASE_CHANNEL=magnet:?xs=urn:btpk:<key> (docs/release-format.md)"
                )
            }
            return matinee
        }
        guard let key = parse(raw) else {
            throw ReleaseError(.malformed, "MATINEE_RELEASE_CHANNEL is not a release channel address (magnet:?xs=urn:btpk:<64 hex digits>)")
        }
        return ReleaseChannel(publicKey: key)
    }

    public static func parse(_ raw: String) -> [UInt8]? {
        if let k = Hex.decode(raw), k.count == 32 { return k }
        guard let r = raw.range(of: "urn:btpk:") else { return nil }
        let hex = String(raw[r.upperBound...].prefix(64))
        guard let k = Hex.decode(hex), k.count == 32 else { return nil }
        return k
    }

    public var address: String { "magnet:?xs=urn:btpk:\(Hex.encode(publicKey))" }
}

/// This machine's platform name in manifests.
public enum Platform {
    public static var current: String {
        #if arch(x86_64)
            "linux-x86_64"
        #elseif arch(arm64)
            "linux-aarch64"
        #else
            "linux-unknown"
        #endif
    }
}
