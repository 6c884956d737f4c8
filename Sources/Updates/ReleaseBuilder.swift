public import Crypto
public import Foundation
public import TorrentKit

/// `matinee release publish`: turns a bundle made by `scripts/package` into
/// a release: the artifact torrent (the archive and its raw signature, for
/// newcomers' openssl), the signed manifest in the release torrent, and the
/// DHT pointer to it. Seeding and the put are the caller's.
///
/// Work folder (MATINEE data folder, releases/<key name>/):
///   state.json                        the last sequence published
///   artifacts/<build>/<bundle name>/   the archive and <archive>.sig
///   manifests/<sequence>/matinee-release/   manifest.json, manifest.sig, notes.txt
public struct ReleaseBuilder: Sendable {
    public static let releaseFolderName = "matinee-release"

    public let key: Curve25519.Signing.PrivateKey
    public let workDir: String
    public var validity: TimeInterval = 30 * 86400
    public var notes = ""
    public var minimumBuild: Int64 = 0
    public var revokedBuilds: [Int64] = []
    /// For a test that needs a manifest dated elsewhere (expired, say).
    public var now = Date()

    public init(key: Curve25519.Signing.PrivateKey, workDir: String) {
        self.key = key
        self.workDir = workDir
    }

    public struct Seedable: Sendable {
        public var id: TorrentID
        public var torrent: [UInt8]
        public var savePath: String
    }

    public struct Result: Sendable {
        public var manifest: ReleaseManifest
        public var release: Seedable
        public var artifact: Seedable
        public var pointer: DHTMutableItem
    }

    private struct State: Codable {
        var sequence: Int64 = 0
    }

    /// Builds release `version` (build `build`) from `bundle`; the bundle's
    /// own VERSION and BUILD must say the same.
    public func build(bundle: String, version: String, build: Int64) async throws -> Result {
        guard ReleaseVersion(version) != nil else { throw ReleaseError(.malformed, "a version is X.Y.Z (got \"\(version.prefix(40))\")") }
        let archive = try readArchive(bundle)
        let inner = try Self.bundleVersion(of: bundle, scratch: workDir + "/.check-\(getpid())")
        guard inner.version == version, inner.build == build else {
            throw ReleaseError(
                .malformed,
                "\(bundle) is version \(inner.version) (build \(inner.build)), not \(version) (build \(build)): make it with scripts/package \(version)"
            )
        }
        let platform = inner.platform
        let file = (bundle as NSString).lastPathComponent
        let folderName = (file as NSString).deletingPathExtension.replacingOccurrences(of: ".tar", with: "")

        // 1. The artifact torrent: a folder with the archive and its signature.
        let artifactRoot = workDir + "/artifacts/\(build)"
        try? FileManager.default.removeItem(atPath: artifactRoot)
        let artifactDir = artifactRoot + "/" + folderName
        try make(artifactDir)
        try write(archive, to: artifactDir + "/" + file)
        try write(try ArchiveSignature.sign(archive, with: key), to: artifactDir + "/" + file + ".sig")
        let artifactTorrent = try await TorrentMaker.make(path: artifactDir)
        let artifactMeta = try TorrentMetadata(torrentFile: artifactTorrent)

        // 2. The manifest, its signature and the notes, in the release torrent.
        var state =
            (try? JSONDecoder().decode(State.self, from: Data(contentsOf: URL(fileURLWithPath: workDir + "/state.json")))) ?? State()
        let sequence = max(state.sequence + 1, Int64(Date().timeIntervalSince1970))
        let notesBytes = Array(notes.utf8)
        let manifest = ReleaseManifest(
            channel: Array(key.publicKey.rawRepresentation), sequence: sequence, version: version, build: build, issued: now,
            expires: now.addingTimeInterval(validity), minimumBuild: minimumBuild, revokedBuilds: revokedBuilds,
            artifacts: [
                .init(
                    platform: platform, file: file, size: Int64(archive.count), sha256: Hex.encode(Array(SHA256.hash(data: archive))),
                    infohash: artifactMeta.id.hex)
            ],
            notes: .init(size: Int64(notesBytes.count), sha256: Hex.encode(Array(SHA256.hash(data: notesBytes)))))
        let manifestBytes = try manifest.encoded()
        var signatures = SignatureSet()
        try signatures.add(.manifest, of: manifestBytes, by: key)
        let releaseRoot = workDir + "/manifests/\(sequence)"
        let releaseDir = releaseRoot + "/" + Self.releaseFolderName
        try make(releaseDir)
        try write(manifestBytes, to: releaseDir + "/manifest.json")
        try write(try signatures.encoded(), to: releaseDir + "/manifest.sig")
        try write(notesBytes, to: releaseDir + "/notes.txt")
        let releaseTorrent = try await TorrentMaker.make(path: releaseDir)
        let releaseMeta = try TorrentMetadata(torrentFile: releaseTorrent)

        // 3. The pointer.
        let pointer = try TorrentPointer.item(pointingAt: releaseMeta.id, sequence: sequence, key: key)
        state.sequence = sequence
        try write(Array(try JSONEncoder().encode(state)), to: workDir + "/state.json")
        for old in (try? FileManager.default.contentsOfDirectory(atPath: workDir + "/manifests")) ?? [] where old != "\(sequence)" {
            try? FileManager.default.removeItem(atPath: workDir + "/manifests/" + old)
        }
        return Result(
            manifest: manifest, release: Seedable(id: releaseMeta.id, torrent: releaseTorrent, savePath: releaseRoot),
            artifact: Seedable(id: artifactMeta.id, torrent: artifactTorrent, savePath: artifactRoot), pointer: pointer)
    }

    /// The VERSION, BUILD and PLATFORM a bundle carries, read by unpacking it
    /// with the same checks a client makes.
    public static func bundleVersion(of bundle: String, scratch: String) throws -> (version: String, build: Int64, platform: String) {
        try? FileManager.default.removeItem(atPath: scratch)
        try? FileManager.default.createDirectory(atPath: (scratch as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let top = try BundleArchive.extract(bundle, into: scratch)
        guard let v = InstalledVersion.read(bundle: scratch + "/" + top) else {
            throw ReleaseError(
                .malformed, "\(bundle) is not a Matinee bundle (no VERSION and BUILD in \(top)/; make it with scripts/package)")
        }
        let platform =
            (try? String(contentsOfFile: scratch + "/" + top + "/PLATFORM", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard ReleaseManifest.isPlainName(platform) else { throw ReleaseError(.malformed, "\(bundle) names no PLATFORM") }
        return (v.version, v.build, platform)
    }

    private func readArchive(_ path: String) throws -> [UInt8] {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { throw ReleaseError(.malformed, "no bundle at \(path)") }
        guard st.st_size < 2 << 30, let d = FileManager.default.contents(atPath: path) else {
            throw ReleaseError(.malformed, "cannot read the bundle \(path)")
        }
        guard path.hasSuffix(".tar.gz"), d.starts(with: [0x1f, 0x8b]) else {
            throw ReleaseError(.malformed, "\(path) is not a .tar.gz bundle (make one with scripts/package)")
        }
        return Array(d)
    }

    private func make(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ReleaseError(.install, "cannot create \(path): \(error.localizedDescription)")
        }
    }

    private func write(_ bytes: [UInt8], to path: String) throws {
        try make((path as NSString).deletingLastPathComponent)
        try Installation.writeAtomically(bytes, to: path)
    }
}
