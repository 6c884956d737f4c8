import Foundation
import Synchronization
public import TorrentKit

/// The engine as Matinee runs it: a session whose state (DHT routing table)
/// and per-torrent resume data live under Matinee's home, and which a crash
/// cannot make lose verified data.
///
/// Crash safety: while a torrent is open, a `.running` marker sits beside its
/// resume file. A clean stop writes fresh resume data and removes the marker.
/// If a run finds the marker, the last run died: the resume data may be older
/// than the files, so it is set aside and libtorrent checks the files on disk
/// instead, keeping every piece that was verified and written.
public final class EngineRuntime: Sendable {
    public let home: Home
    public let session: TorrentSession
    /// False with a "proxy only" proxy: the daemon fetches no URL itself
    /// (.torrent files named by a link or a catalog), as that would go
    /// around the proxy.
    public let fetchesURLs: Bool
    let events: Events
    private let folder: Mutex<String>
    private let open = Mutex<[TorrentID: (torrent: Torrent, savePath: String)]>([:])
    /// Held until the engine stops: one engine per home.
    private let lock: Mutex<HomeLock?>

    private init(home: Home, session: TorrentSession, downloadDir: String, lock: HomeLock, events: Events, fetchesURLs: Bool) {
        self.fetchesURLs = fetchesURLs
        self.home = home
        self.session = session
        self.folder = Mutex(downloadDir)
        self.lock = Mutex(lock)
        self.events = events
    }

    /// Where new downloads go (Settings can change it while running).
    public var downloadDir: String {
        get { folder.withLock { $0 } }
    }

    public func setDownloadDir(_ path: String) throws {
        try Disk.checkWritable(path, what: "the download folder")
        folder.withLock { $0 = path }
    }

    /// The torrents open in this run, with where each is saved.
    public var torrents: [(torrent: Torrent, savePath: String)] { open.withLock { Array($0.values) } }

    /// Removes a torrent from the engine and forgets it: no resume data, no
    /// saved .torrent, and (with `deleteFiles`) no data.
    public func remove(_ t: Torrent, deleteFiles: Bool) {
        _ = open.withLock { $0.removeValue(forKey: t.id) }
        session.remove(t, deleteFiles: deleteFiles)
        for path in [home.resumeFile(t.id), home.dirtyMarker(t.id), home.torrentFile(t.id)] {
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// Starts the one engine of `home` for `what` (the command, for the
    /// message a second engine gets).
    public static func start(
        home: Home, config: EngineConfig, downloadDir: String, for what: String, events: Events = .ignored
    ) async throws -> EngineRuntime {
        try home.prepare()
        if config.proxyOnly && config.proxy == nil {
            throw DaemonError("\"proxy only\" is on but no proxy is set: give --proxy socks5://HOST:PORT, or set one in Settings", badInput: true)
        }
        let lock = try HomeLock.acquire(home, for: what)
        try Disk.checkWritable(downloadDir, what: "the download folder")
        let state = Disk.read(home.sessionStateFile, limit: 8 << 20)
        do {
            let session = try await TorrentSession.start(config.sessionConfiguration(savedState: state))
            if ProcessInfo.processInfo.environment["MATINEE_ENGINE_LOG"] != nil { logEngineEvents(session, events) }
            reportTrouble(session, events)
            let runtime = EngineRuntime(
                home: home, session: session, downloadDir: downloadDir, lock: lock, events: events,
                fetchesURLs: !config.isProxyOnly)
            runtime.announceOnceTheDHTIsUp()
            return runtime
        } catch let e as EngineError where e.kind == .listenFailed {
            throw DaemonError("\(e.message) (is another program using that port?)")
        } catch let e as EngineError {
            throw DaemonError("cannot start the engine: \(e.message)")
        }
    }

    /// Adds a torrent, resuming from what an earlier run left.
    public func add(
        _ r: ResolvedSource, streaming: Bool, seedMode: Bool = false, peers: [HostPort] = [],
        savePath: String? = nil
    ) async throws -> Torrent {
        let crashed = FileManager.default.fileExists(atPath: home.dirtyMarker(r.id))
        var source = r.source
        var resume: [UInt8]?
        if !seedMode {
            if !crashed { resume = Disk.read(home.resumeFile(r.id), limit: 64 << 20) }
            if case .magnet = source, let saved = Disk.read(home.torrentFile(r.id), limit: 32 << 20),
                (try? TorrentMetadata(torrentFile: saved))?.id == r.id
            {
                source = .torrentFile(saved)
            }
        }
        _ = FileManager.default.createFile(atPath: home.dirtyMarker(r.id), contents: Data())
        var o = AddTorrentOptions(source: source, savePath: savePath ?? downloadDir)
        o.streaming = streaming
        o.seedMode = seedMode
        o.ignoreNamedHosts = r.ignoreNamedHosts
        o.resumeData = resume
        o.peers = peers
        let t: Torrent
        do {
            t = try await session.add(o)
        } catch let e as EngineError {
            try? FileManager.default.removeItem(atPath: home.dirtyMarker(r.id))
            throw DaemonError(e.message)
        }
        open.withLock { $0[t.id] = (t, savePath ?? downloadDir) }
        // A .torrent's metadata is known now: fetch it, so lists name the
        // download at once (`knownMetadata` is filled on first use).
        if case .torrentFile = source { _ = try? await t.metadata() }
        return t
    }

    /// libtorrent announces a new torrent to the DHT at once, and then only
    /// every 15 minutes: if the routing table was still empty (a fresh start,
    /// a private DHT), the torrents added by then are announced again once it
    /// has nodes: a second after the first node, and again ten seconds later,
    /// when the table has filled (an announce reaches only the nodes a
    /// traversal can find). One watcher per engine, not one per torrent.
    private func announceOnceTheDHTIsUp() {
        let session = session
        Task { [weak self] in
            for _ in 0..<60 {
                if await session.dhtNodeCount() > 0 {
                    for wait in [1, 10] {
                        try? await Task.sleep(for: .seconds(wait))
                        // Every torrent of the engine, also those added to
                        // the session directly (Matinee's own releases).
                        for t in self?.session.torrents ?? [] { t.announce() }
                    }
                    return
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Keeps the .torrent of a magnet link once its metadata is known.
    public func rememberMetadata(_ t: Torrent) async {
        let path = home.torrentFile(t.id)
        guard !FileManager.default.fileExists(atPath: path), let bytes = await t.torrentFile() else { return }
        try? Disk.writeAtomically(bytes, to: path)
    }

    /// Saves resume data and session state, then stops the engine.
    public func shutdown() async {
        let torrents = open.withLock { $0.values.map(\.torrent) }
        await withTaskGroup(of: Void.self) { group in
            for t in torrents {
                group.addTask {
                    guard let data = try? await withTimeout(.seconds(10), { try await t.resumeData() }) else { return }
                    do {
                        try Disk.writeAtomically(data, to: self.home.resumeFile(t.id))
                        try? FileManager.default.removeItem(atPath: self.home.dirtyMarker(t.id))
                    } catch {
                        self.events.problem("could not save resume data: \(error)")
                    }
                }
            }
        }
        if let state = try? await session.savedState() {
            try? Disk.writeAtomically(state, to: home.sessionStateFile)
        }
        await session.shutdown()
        lock.withLock { $0 = nil }
    }
}

/// A full disk, other disk errors and banned peers, one line each, always
/// (issue 12: a full disk used to stop a download without a word).
private func reportTrouble(_ session: TorrentSession, _ events: Events) {
    let alerts = session.alerts()
    Task.detached {
        var told: Set<String> = []
        func name(_ id: TorrentID) -> String { session.torrent(id)?.knownMetadata?.name ?? id.hex.prefix(8).description }
        for await a in alerts {
            switch a {
            case let .diskFull(id, trouble):
                events.problem(
                    "\(name(id)): \(trouble.summary). Downloading stopped; what was verified is kept, and it goes on by itself once there is room."
                )
            case let .proxyFailed(detail) where told.insert("proxy " + detail).inserted:
                // Once per kind of failure: libtorrent retries, and says so each time.
                events.problem(session.proxyTrouble ?? "the proxy failed: \(detail)")
            case let .peerBanned(id, peer):
                events.problem("\(name(id)): banned the peer \(peer): it sent data that failed the hash check.")
            case let .writesRetried(id, free):
                events.info(
                    "\(name(id)): \(DiskSpace.mib(free)) free on the disk holding \(session.torrent(id)?.savePath ?? "it"): downloading again."
                )
            case let .fileError(id, message) where session.torrent(id)?.diskTrouble == nil:
                // Other errors once per torrent and message (libtorrent reports each failed job).
                if told.insert(id.hex + message).inserted { events.problem("\(name(id)): disk error: \(message)") }
            default: break
            }
        }
    }
}

/// MATINEE_ENGINE_LOG=1: peer and tracker events on stderr, for debugging a swarm.
private func logEngineEvents(_ session: TorrentSession, _ events: Events) {
    let alerts = session.alerts()
    Task.detached {
        for await a in alerts {
            switch a {
            case let .peerConnected(id, m): events.problem("engine: \(id.hex.prefix(8)) \(m)")
            case let .peerDisconnected(id, _, _, m): events.problem("engine: \(id.hex.prefix(8)) \(m)")
            case let .trackerError(id, m): events.problem("engine: \(id.hex.prefix(8)) \(m)")
            case let .metadataReceived(id): events.problem("engine: \(id.hex.prefix(8)) metadata received")
            case let .finished(id): events.problem("engine: \(id.hex.prefix(8)) finished")
            default: break
            }
        }
    }
}

public struct TimedOut: Error {}

/// Runs `body`, throwing `TimedOut` if it takes longer than `limit`. The
/// body is not awaited past the limit (a task group would wait for it, and
/// some waits, such as for an alert that never comes, ignore cancellation);
/// it is cancelled and left to finish on its own.
public func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let once = Mutex<CheckedContinuation<T, any Error>?>(nil)
    let work = Mutex<[Task<Void, Never>]>([])
    return try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
        once.withLock { $0 = c }
        let finish: @Sendable (Result<T, any Error>) -> Void = { result in
            guard
                let c = once.withLock({ s -> CheckedContinuation<T, any Error>? in
                    defer { s = nil }
                    return s
                })
            else { return }
            work.withLock { $0.forEach { $0.cancel() } }
            c.resume(with: result)
        }
        let tasks = [
            Task { finish(await Result(catching: body)) },
            Task {
                try? await Task.sleep(for: limit)
                finish(.failure(TimedOut()))
            },
        ]
        work.withLock { $0 = tasks }
    }
}

extension Result where Failure == any Error {
    public init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

extension EngineRuntime {
    /// Runs a one-shot command's work with the home's engine (`channel add`
    /// while no daemon runs, `seed`, `publish`), then always saves state and
    /// stops the engine; rethrows what the work threw.
    public static func run<T: Sendable>(
        home: Home, config: EngineConfig, downloadDir: String? = nil, for what: String, events: Events,
        _ work: (EngineRuntime) async throws -> T
    ) async throws -> T {
        let runtime = try await start(home: home, config: config, downloadDir: downloadDir ?? home.downloads, for: what, events: events)
        let outcome = await Result { try await work(runtime) }
        events.progressDone()
        await runtime.shutdown()
        return try outcome.get()
    }
}
