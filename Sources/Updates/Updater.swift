import Crypto
import Foundation
public import TorrentKit

/// The client side of a release channel, as a thin shell over `ReleaseCheck`:
/// look the pointer up, store its sequence, fetch and check the manifest,
/// fetch the archive (capped by the manifest), check its hash, unpack it with
/// `BundleArchive`'s checks and check the version inside. Refusals are one
/// line each; the installed version is never touched until `apply`.
public struct Updater: Sendable {
    public let session: TorrentSession
    public let channel: ReleaseChannel
    public let store: UpdateStore
    public let installed: InstalledVersion
    /// Where a new version is unpacked and switched to; nil for a binary run
    /// from a build tree (it can check, not install).
    public let installation: Installation?
    public var platform = Platform.current
    public var lookupBudget: Duration = .seconds(30)
    public var downloadTimeout: Duration = .seconds(600)
    /// Peers to ask at once for the release torrents (besides the DHT's).
    public var peers: [HostPort] = []

    public init(
        session: TorrentSession, channel: ReleaseChannel, store: UpdateStore, installed: InstalledVersion, installation: Installation?
    ) {
        self.session = session
        self.channel = channel
        self.store = store
        self.installed = installed
        self.installation = installation
    }

    public enum Step: Sendable {
        case lookingUp(PointerFetch.LookupStep)
        case found(sequence: Int64)
        case manifest
        case downloading(done: Int64, total: Int64)
        case verifying
        case unpacking
    }

    public enum Outcome: Sendable, Equatable {
        case upToDate(InstalledVersion)
        /// Checked and signed, not yet downloaded (`check` without download).
        case available(version: String, build: Int64, notes: String)
        case ready(UpdateState.Ready)
    }

    /// Looks for a newer release. With `download`, fetches, checks and
    /// unpacks it, ready for `apply`. A refusal throws `ReleaseError` and is
    /// recorded (and a build whose content failed is never tried again).
    public func check(download: Bool, progress: @escaping @Sendable (Step) -> Void = { _ in }) async throws -> Outcome {
        var state = store.load(root: channel.root)
        do {
            let outcome = try await run(&state, download: download, progress: progress)
            state.lastCheck = RFC3339.string(Date())
            switch outcome {
            case .upToDate: state.lastResult = "up to date"
            case .available(let v, _, _): state.lastResult = "version \(v) is available"
            case .ready(let r): state.lastResult = "version \(r.version) is ready"
            }
            state.lastCheckFailed = false
            try store.save(state)
            return outcome
        } catch {
            state.lastCheck = RFC3339.string(Date())
            state.lastResult = (error as? ReleaseError)?.message ?? "\(error)"
            state.lastCheckFailed = true
            try? store.save(state)
            throw error
        }
    }

    private func run(_ state: inout UpdateState, download: Bool, progress: @escaping @Sendable (Step) -> Void) async throws -> Outcome {
        let check = ReleaseCheck(channel: channel.publicKey, installed: installed, platform: platform, now: Date())
        let fetch = PointerFetch(session: session)
        let item: DHTMutableItem
        do {
            item = try await fetch.lookUp(
                publicKey: channel.publicKey, what: "the release channel", budget: lookupBudget, progress: { progress(.lookingUp($0)) })
        } catch let PointerFetch.Failure.unreachable(m) {
            throw ReleaseError(.unreachable, m)
        }
        let outcome = try check.pointer(item, trust: state.trust, lastTorrent: state.lastTorrent.flatMap(TorrentID.init(string:)))
        // Signed by the channel and no older than what was seen: worth putting
        // back on the DHT for others (the clients who fetch it check it all).
        state.pointer = UpdateState.SignedPointer(item)
        let releaseID: TorrentID
        switch outcome {
        case .unchanged:
            // Downloaded before and still what the channel names.
            if let r = state.ready, r.build > installed.build, FileManager.default.fileExists(atPath: r.folder + "/bin/matinee") {
                return download ? .ready(r) : .available(version: r.version, build: r.build, notes: r.notes)
            }
            releaseID = TorrentID(string: state.lastTorrent!)!
        case .fetch(let id, let sequence):
            // The high-water mark is stored before anything it names is fetched.
            state.trust.highestSequence = sequence
            state.lastTorrent = id.hex
            try store.save(state)
            releaseID = id
        }
        progress(.found(sequence: item.sequence))

        // The release torrent: small, one folder, nothing but text files.
        progress(.manifest)
        let releaseFolder = store.manifestFolder(item.sequence)
        do {
            let (t, _) = try await fetch.download(
                releaseID, into: releaseFolder, what: "the release torrent", timeout: downloadTimeout, peers: peers,
                known: store.knownTorrent(releaseID),
                accept: { meta in
                    guard meta.name == ReleaseBuilder.releaseFolderName, meta.totalSize <= 1 << 20, meta.files.count <= 100 else {
                        throw ReleaseError(
                            .malformed, "refused the release torrent: it is not a small \(ReleaseBuilder.releaseFolderName) folder")
                    }
                })
            if let bytes = await t.torrentFile() { store.keep(bytes, for: releaseID) }
        } catch let e as PointerFetch.Failure {
            throw ReleaseError(.unreachable, Self.message(e))
        }
        let dir = releaseFolder + "/" + ReleaseBuilder.releaseFolderName
        guard let manifestBytes = Self.read(dir + "/manifest.json", limit: ReleaseManifest.maxBytes) else {
            throw ReleaseError(.malformed, "the release torrent has no manifest.json of at most \(ReleaseManifest.maxBytes) bytes")
        }
        guard let sigBytes = Self.read(dir + "/manifest.sig", limit: SignatureSet.maxBytes) else {
            throw ReleaseError(.signature, "the release torrent has no manifest.sig")
        }
        let accepted: ReleaseCheck.Accepted
        do {
            accepted = try check.manifest(
                manifestBytes, signatures: try SignatureSet.decode(sigBytes), rotations: Self.rotations(in: dir + "/keys"),
                pointerSequence: item.sequence, trust: state.trust)
        } catch let e as ReleaseError where e.kind == .upToDate {
            return .upToDate(installed)
        }
        state.trust.keys = accepted.keys
        try store.save(state)
        let m = accepted.manifest
        var notes = ""
        if let n = m.notes, let bytes = Self.read(dir + "/notes.txt", limit: 256 << 10), Int64(bytes.count) == n.size,
            Hex.encode(Array(SHA256.hash(data: bytes))) == n.sha256.lowercased()
        {
            // Shown on terminals and in the UI: no control characters (a
            // terminal escape in the notes could rewrite what the user sees).
            notes = String(
                String.UnicodeScalarView(
                    String(decoding: bytes, as: UTF8.self).unicodeScalars.filter {
                        $0 == "\n" || $0 == "\t" || !($0.value < 0x20 || (0x7f...0x9f).contains($0.value))
                    }))
        }
        guard download else { return .available(version: m.version, build: m.build, notes: notes) }

        // The archive: its torrent must hold exactly the announced size.
        let a = accepted.artifact
        guard let artifactID = TorrentID(string: a.infohash) else { throw ReleaseError(.malformed, "the manifest's infohash is malformed") }
        let artifactFolder = store.artifactFolder(m.build)
        try Self.checkRoom(for: a.size, in: artifactFolder, version: m.version)
        let (torrent, meta): (Torrent, TorrentMetadata)
        do {
            (torrent, meta) = try await fetch.download(
                artifactID, into: artifactFolder, what: "the release archive", timeout: downloadTimeout, peers: peers,
                known: store.knownTorrent(artifactID),
                accept: { meta in
                    try ReleaseCheck.artifactFiles(meta.visibleFiles.map { ($0.path, $0.size) }, artifact: a)
                }, progress: { progress(.downloading(done: $0, total: $1)) })
        } catch let e as ReleaseError {
            try? FileManager.default.removeItem(atPath: artifactFolder)
            throw refuse(e, build: m.build, &state)
        } catch let e as PointerFetch.Failure {
            throw ReleaseError(.unreachable, Self.message(e))
        }
        if let bytes = await torrent.torrentFile() { store.keep(bytes, for: artifactID) }
        state.artifacts = (state.artifacts ?? [:]).merging([String(m.build): artifactID.hex]) { $1 }
        progress(.verifying)
        guard
            let archivePath = meta.visibleFiles.first(where: { ($0.path as NSString).lastPathComponent == a.file }).map({
                artifactFolder + "/" + $0.path
            })
        else { throw ReleaseError(.archive, "the release archive is missing after its download") }
        let (digest, size) = try Self.sha256(of: archivePath)
        do {
            try ReleaseCheck.archiveDigest(digest, size: size, artifact: a)
        } catch let e as ReleaseError {
            throw refuse(e, build: m.build, &state)
        }

        // Unpacked next to versions/ (the same file system: the install is
        // then one rename), or in the data folder for a build-tree binary.
        progress(.unpacking)
        let staging = installation.map { $0.versionsDir + "/.incoming-\(m.build)" } ?? store.stagingFolder(m.build)
        try? FileManager.default.removeItem(atPath: staging)
        if let installation {
            try? FileManager.default.createDirectory(atPath: installation.versionsDir, withIntermediateDirectories: true)
        } else {
            try? FileManager.default.createDirectory(
                atPath: (staging as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        }
        let top: String
        do {
            top = try BundleArchive.extract(archivePath, into: staging)
            guard let inner = InstalledVersion.read(bundle: staging + "/" + top), inner.version == m.version, inner.build == m.build else {
                try? FileManager.default.removeItem(atPath: staging)
                throw ReleaseError(
                    .archive, "refused release \(m.version): the bundle inside says another version than its signed manifest")
            }
            guard FileManager.default.isExecutableFile(atPath: staging + "/" + top + "/bin/matinee") else {
                try? FileManager.default.removeItem(atPath: staging)
                throw ReleaseError(.archive, "refused release \(m.version): the bundle has no bin/matinee")
            }
        } catch let e as ReleaseError where e.kind == .diskFull || e.kind == .install {
            // This machine's trouble, not the release's: nothing recorded
            // against it, the archive kept for the next check.
            try? FileManager.default.removeItem(atPath: staging)
            guard e.kind == .diskFull else { throw e }
            let free = DiskSpace.available(at: staging).map { " (\(DiskSpace.mib($0)) free)" } ?? ""
            throw ReleaseError(
                .diskFull,
                "the disk holding \((staging as NSString).deletingLastPathComponent) is full\(free): Matinee \(m.version) is downloaded but cannot be unpacked; free some space and check again"
            )
        } catch let e as ReleaseError {
            throw refuse(e, build: m.build, &state)
        }
        let ready = UpdateState.Ready(
            version: m.version, build: m.build, notes: notes, folder: staging + "/" + top, manifestTorrent: releaseID.hex,
            artifactTorrent: artifactID.hex)
        state.ready = ready
        return .ready(ready)
    }

    /// Refuses to start a download the disk cannot hold (what is already
    /// there counts), rather than letting it stall when the disk fills.
    static func checkRoom(for size: Int64, in folder: String, version: String) throws {
        var have: Int64 = 0
        if let files = FileManager.default.enumerator(atPath: folder) {
            for case let f as String in files { have += DiskSpace.allocated(folder + "/" + f) }
        }
        let needed = size - have + (1 << 20)
        guard let free = DiskSpace.available(at: folder), free < needed else { return }
        throw ReleaseError(
            .diskFull,
            "not enough room to download Matinee \(version): it needs \(DiskSpace.mib(needed)) and the disk holding \(folder) has \(DiskSpace.mib(free)) free"
        )
    }

    /// Records a build whose content failed a check: it is never tried again.
    private func refuse(_ e: ReleaseError, build: Int64, _ state: inout UpdateState) -> ReleaseError {
        state.trust.refusedBuilds[String(build)] = e.message
        state.ready = nil
        try? store.save(state)
        return e
    }

    /// Installs the ready release side by side and switches to it, on trial:
    /// the launcher rolls it back if it does not start.
    public func apply(_ ready: UpdateState.Ready) throws -> InstalledVersion {
        guard let installation else {
            throw ReleaseError(
                .notInstalled, "this matinee runs from a build tree, not an installed bundle: install one with its install.sh to update")
        }
        let state = store.load(root: channel.root)
        if let why = state.trust.refusedBuilds[String(ready.build)] {
            throw ReleaseError(.policy, "build \(ready.build) was refused here before (\(why))")
        }
        try installation.add(bundle: ready.folder, build: ready.build)
        try? FileManager.default.removeItem(atPath: (ready.folder as NSString).deletingLastPathComponent)
        try installation.switchTo(ready.build, trial: true)
        // The new version's launcher from now on (what ~/.local/bin/matinee runs).
        installation.updateLauncher(from: installation.folder(ready.build))
        var s = state
        s.ready = nil
        try store.save(s)
        installation.prune()
        return InstalledVersion(version: ready.version, build: ready.build)
    }

    /// Back to the previous version; the build left is never tried again.
    /// Works without knowing the channel (the launcher runs it in whatever
    /// environment the user started Matinee in): the state on disk is used.
    public static func rollBack(
        _ installation: Installation, store: UpdateStore, channel: ReleaseChannel?, reason: String
    ) throws -> (
        from: Int64, to: Int64
    ) {
        let moved = try installation.rollBack()
        guard var state = channel.map({ store.load(root: $0.root) }) ?? store.loadExisting() else { return moved }
        state.trust.refusedBuilds[String(moved.from)] = reason
        if state.ready?.build == moved.from { state.ready = nil }
        try store.save(state)
        return moved
    }

    static func rotations(in folder: String) -> [(document: [UInt8], signatures: SignatureSet)] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        return names.prefix(64).compactMap { name in
            let base = folder + "/" + String(name.dropLast(5))
            guard let doc = read(base + ".json", limit: ReleaseKeys.maxBytes), let sig = read(base + ".sig", limit: SignatureSet.maxBytes),
                let set = try? SignatureSet.decode(sig)
            else { return nil }
            return (doc, set)
        }
    }

    static func read(_ path: String, limit: Int) -> [UInt8]? {
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_size <= limit else { return nil }
        return FileManager.default.contents(atPath: path).map { Array($0) }
    }

    static func sha256(of path: String) throws -> ([UInt8], Int64) {
        guard let h = FileHandle(forReadingAtPath: path) else { throw ReleaseError(.archive, "cannot read \(path)") }
        defer { try? h.close() }
        var hasher = SHA256()
        var size: Int64 = 0
        while true {
            let d = h.readData(ofLength: 1 << 20)
            if d.isEmpty { break }
            hasher.update(data: d)
            size += Int64(d.count)
        }
        return (Array(hasher.finalize()), size)
    }

    static func message(_ f: PointerFetch.Failure) -> String {
        switch f {
        case .unreachable(let m), .refused(let m): m
        }
    }
}
