public import Foundation
public import TorrentKit

/// manifest.json (docs/release-format.md §1): what one release is. Signed as
/// its exact bytes (`ReleaseDomain.manifest`) by a threshold of the release
/// keys; carried in the release torrent that the channel's DHT pointer names.
public struct ReleaseManifest: Codable, Sendable, Equatable {
    public static let appName = "matinee"
    public static let format = 1
    /// The manifest's size cap: a larger manifest.json is refused unread.
    public static let maxBytes = 64 << 10

    public var format: Int
    public var app: String
    /// The release channel's key, 64 hex digits.
    public var channel: String
    /// The DHT pointer's sequence this manifest was published with.
    public var sequence: Int64
    /// "X.Y.Z", for people.
    public var version: String
    /// Monotonic: a client installs only a build higher than its own.
    public var build: Int64
    public var issued: String
    /// After this (plus a few minutes of clock skew) the manifest is stale:
    /// a replayed old manifest cannot keep clients frozen on a release.
    public var expires: String
    /// Installs older than this build must not update to this release
    /// directly (they are told which version to install by hand).
    public var minimumBuild: Int64
    /// Builds that must never be installed, or kept running.
    public var revokedBuilds: [Int64]
    /// The keys document version whose keys signed this manifest.
    public var keysVersion: Int
    public var artifacts: [Artifact]
    /// notes.txt in the release torrent, by size and SHA-256.
    public var notes: FileRef?

    public struct Artifact: Codable, Sendable, Equatable {
        /// "linux-x86_64", "linux-aarch64".
        public var platform: String
        /// The archive's file name inside the artifact torrent.
        public var file: String
        public var size: Int64
        /// SHA-256 of the archive, 64 hex digits.
        public var sha256: String
        /// The artifact torrent: a folder holding the archive and its .sig.
        public var infohash: String

        public init(platform: String, file: String, size: Int64, sha256: String, infohash: String) {
            self.platform = platform
            self.file = file
            self.size = size
            self.sha256 = sha256
            self.infohash = infohash
        }
    }

    public struct FileRef: Codable, Sendable, Equatable {
        public var size: Int64
        public var sha256: String

        public init(size: Int64, sha256: String) {
            self.size = size
            self.sha256 = sha256
        }
    }

    public init(
        channel: [UInt8], sequence: Int64, version: String, build: Int64, issued: Date, expires: Date, minimumBuild: Int64 = 0,
        revokedBuilds: [Int64] = [], keysVersion: Int = 1, artifacts: [Artifact], notes: FileRef? = nil
    ) {
        self.format = Self.format
        self.app = Self.appName
        self.channel = Hex.encode(channel)
        self.sequence = sequence
        self.version = version
        self.build = build
        self.issued = RFC3339.string(issued)
        self.expires = RFC3339.string(expires)
        self.minimumBuild = minimumBuild
        self.revokedBuilds = revokedBuilds
        self.keysVersion = keysVersion
        self.artifacts = artifacts
        self.notes = notes
    }

    public static func decode(_ bytes: [UInt8]) throws -> ReleaseManifest {
        guard bytes.count <= maxBytes else {
            throw ReleaseError(.malformed, "the release manifest is \(bytes.count) bytes; at most \(maxBytes) are allowed")
        }
        guard let m = try? JSONDecoder().decode(ReleaseManifest.self, from: Data(bytes)) else {
            throw ReleaseError(.malformed, "the release manifest is not valid JSON of the expected form")
        }
        try m.validateForm()
        return m
    }

    public func encoded() throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try e.encode(self)) + [0x0a]
    }

    public var issuedDate: Date? { RFC3339.date(issued) }
    public var expiresDate: Date? { RFC3339.date(expires) }

    public func artifact(for platform: String) -> Artifact? { artifacts.first { $0.platform == platform } }

    /// Form only; what the values mean for this client is `ReleaseCheck`'s.
    func validateForm() throws {
        guard format == Self.format else {
            throw ReleaseError(.malformed, "the release manifest is format \(format); this Matinee reads format 1")
        }
        guard ReleaseVersion(version) != nil else {
            throw ReleaseError(.malformed, "the release manifest's version \"\(version.prefix(40))\" is not X.Y.Z")
        }
        guard build >= 1, sequence >= 0, minimumBuild >= 0, keysVersion >= 1, revokedBuilds.count <= 10_000 else {
            throw ReleaseError(.malformed, "the release manifest's build, sequence or keys version is out of range")
        }
        guard issuedDate != nil, expiresDate != nil else { throw ReleaseError(.malformed, "the release manifest's dates are not RFC 3339") }
        guard Hex.decode(channel)?.count == 32 else { throw ReleaseError(.malformed, "the release manifest's channel is not a key") }
        guard !artifacts.isEmpty, artifacts.count <= 16 else { throw ReleaseError(.malformed, "the release manifest lists no artifact") }
        for a in artifacts {
            guard a.size > 0, Hex.decode(a.sha256)?.count == 32, TorrentID(string: a.infohash) != nil,
                ReleaseManifest.isPlainName(a.file), ReleaseManifest.isPlainName(a.platform)
            else { throw ReleaseError(.malformed, "the release manifest's artifact for \(a.platform.prefix(40)) is malformed") }
        }
        if let n = notes, n.size < 0 || n.size > 256 << 10 || Hex.decode(n.sha256)?.count != 32 {
            throw ReleaseError(.malformed, "the release manifest's notes entry is malformed")
        }
    }

    /// One file name: no folder, no "..", printable ASCII only.
    static func isPlainName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 200 && s != "." && s != ".."
            && s.utf8.allSatisfy {
                (0x30...0x39).contains($0) || (0x41...0x5a).contains($0) || (0x61...0x7a).contains($0) || $0 == 0x2d || $0 == 0x2e
                    || $0 == 0x5f
            }
    }
}

/// "X.Y.Z" with numbers; what `scripts/package` and `release publish` take.
public struct ReleaseVersion: Sendable, Equatable, Comparable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public let patch: Int

    public init?(_ s: String) {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.count <= 6 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let a = Int(parts[0]), let b = Int(parts[1]), let c = Int(parts[2]), b < 1000, c < 1000
        else { return nil }
        (major, minor, patch) = (a, b, c)
    }

    /// The build number a version gets unless one is given: monotonic in
    /// the version (X * 1,000,000 + Y * 1,000 + Z).
    public var defaultBuild: Int64 { Int64(major) * 1_000_000 + Int64(minor) * 1_000 + Int64(patch) }

    public var description: String { "\(major).\(minor).\(patch)" }

    public static func < (a: ReleaseVersion, b: ReleaseVersion) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }
}
