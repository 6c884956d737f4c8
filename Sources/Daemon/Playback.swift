public import Catalog
import Foundation
public import Server
public import Streaming
import Synchronization
public import TorrentKit

/// Starting streams. `open` is the one way a file gets played: `matinee
/// play` (in-process, or through the running daemon's `/api/streams`) and
/// the web UI's `/api/play` all come here.
public final class Playback: PlaybackService {
    public let runtime: EngineRuntime
    public let hub: StreamHub
    public let store: CatalogStore
    let library: Library
    let events: Events
    /// Signs stream URLs (the HTTP server's).
    let capability: StreamCapability
    /// Torrents whose peer search runs (one watcher each).
    private let watched = Mutex<Set<TorrentID>>([])
    /// The server's base URL, once it listens.
    private let base = Mutex<String?>(nil)
    /// The web UI's starts still waiting (for peers, for metadata), by title
    /// and episode: what its page shows meanwhile, and what Cancel stops.
    private let starts = Mutex<[String: Start]>([:])

    private final class Start: Sendable {
        let began = ContinuousClock.now
        let torrent = Mutex<Torrent?>(nil)
        let task = Mutex<Task<(path: String, label: String), any Error>?>(nil)
    }

    private static func startKey(_ ref: String, _ episode: String?) -> String { ref + "\u{0}" + (episode ?? "") }

    public init(
        runtime: EngineRuntime, hub: StreamHub, store: CatalogStore, library: Library, capability: StreamCapability,
        events: Events = .ignored
    ) {
        self.runtime = runtime
        self.hub = hub
        self.store = store
        self.library = library
        self.capability = capability
        self.events = events
    }

    func setBase(_ url: String) { base.withLock { $0 = url } }

    /// The absolute capability URL of an opened stream (nil until the HTTP
    /// server listens).
    public func url(_ opened: Opened) -> String? {
        base.withLock { $0 }.map { $0 + capability.sign(opened.path) }
    }

    /// What to play: the source, the file (nil: the largest video) and, for
    /// a catalog title, a label ("Sintel (720p)").
    public struct Choice: Sendable {
        public var source: ResolvedSource
        public var file: String?
        public var label: String?
    }

    /// A stream ready to be read.
    public struct Opened: Sendable {
        public let torrent: Torrent
        public let metadata: TorrentMetadata
        public let file: TorrentMetadata.File
        public let stream: FileStream
        /// `/stream/<infohash>/<file>`, to be signed by the server.
        public var path: String { "/stream/\(torrent.id.hex)/\(file.index)" }
    }

    /// `text` as `play` takes it: a title id from the catalog (with episode
    /// and quality), or a magnet, info-hash, http(s) URL or, with
    /// `localFiles`, a .torrent file's path (a file of that name wins over a
    /// title). Over the HTTP API there are no local files: the client sends
    /// a .torrent's contents.
    public func choose(_ text: String, episode: String?, quality: String?, file: String?, localFiles: Bool = true) async throws -> Choice {
        try await Self.choose(
            text, episode: episode, quality: quality, file: file, localFiles: localFiles, home: runtime.home, store: store,
            trustHosts: library.trustsCatalogHosts, fetchURLs: runtime.fetchesURLs)
    }

    /// `choose`, before any engine runs: `store` is needed only for a title
    /// (nil: `text` is not one).
    public static func choose(
        _ text: String, episode: String?, quality: String?, file: String?, localFiles: Bool, home: Home, store: CatalogStore?,
        trustHosts: Bool, fetchURLs: Bool = true
    ) async throws -> Choice {
        let isFile = localFiles && FileManager.default.fileExists(atPath: text)
        if !isFile, let store,
            let pick = try await CatalogSource.resolve(
                text, episode: episode, quality: quality, home: home, store: store, trustHosts: trustHosts, fetchURLs: fetchURLs)
        {
            return Choice(source: pick.resolved, file: file ?? pick.fileIndex.map(String.init), label: pick.label)
        }
        if !isFile, let store, CatalogSource.looksLikeTitle(text), !FileManager.default.fileExists(atPath: text) {
            // Words, not an id: what the catalog has for them.
            var q = CatalogStore.Query(words: text)
            q.limit = 5
            let found = (try? await store.search(q)) ?? []
            if !found.isEmpty {
                let ids = found.map { g in "\(g.entries[0].ref) (\(g.title)\(g.year.map { ", \($0)" } ?? ""))" }
                throw DaemonError(
                    "\"\(text)\" is not a title id; the catalog has \(ids.joined(separator: ", ")): matinee play ID", badInput: true)
            }
        }
        if episode != nil || quality != nil {
            throw DaemonError(
                "--episode and --quality apply to titles from the catalog; \"\(text)\" is not one (see matinee search)", badInput: true)
        }
        let lower = text.lowercased()
        let remote =
            lower.hasPrefix("magnet:") || lower.hasPrefix("http://") || lower.hasPrefix("https://") || TorrentID(string: text) != nil
        if !localFiles && !remote {
            throw DaemonError("\"\(text)\" is not a title in the catalog, a magnet link, an info-hash or a URL", badInput: true)
        }
        return Choice(source: try await SourceResolver.resolve(text, fetchURLs: fetchURLs), file: file, label: nil)
    }

    /// Adds the source to the engine (once), waits for its metadata (up to
    /// `timeout`, reporting the search as progress), and opens the chosen
    /// file for streaming.
    /// `probe`: size the window by the bitrate ffprobe finds (the web UI's
    /// `/api/media` probes on its own).
    /// `onAdded`: the torrent, once in the engine (the web UI's progress).
    public func open(
        _ choice: Choice, peers: [HostPort] = [], timeout: Duration? = nil, probe: Bool = true,
        onAdded: (@Sendable (Torrent) -> Void)? = nil
    ) async throws -> Opened {
        let known = runtime.session.torrent(choice.source.id) != nil
        let torrent = try await runtime.add(choice.source, streaming: true, peers: peers)
        onAdded?(torrent)
        let meta: TorrentMetadata
        do {
            meta = try await waitForMetadata(torrent, label: choice.label, timeout: timeout)
        } catch {
            // A start that found nothing leaves nothing behind: no download
            // in the list, no resume data to bring it back (issue 13).
            if !known, torrent.knownMetadata == nil { runtime.remove(torrent, deleteFiles: true) }
            throw error
        }
        await runtime.rememberMetadata(torrent)
        // Just played: the cache limit removes the least recently played first.
        try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: runtime.home.torrentFile(torrent.id))
        let file: TorrentMetadata.File
        do {
            file = try FileChooser.choose(meta, selector: choice.file)
        } catch let e as EngineError {
            throw DaemonError(e.message, badInput: true)
        }
        hub.register(torrent, savePath: runtime.downloadDir)
        let reopened = hub.streams.contains { $0.torrent.id == torrent.id && $0.file.index == file.index }
        let stream = try await hub.stream(torrent.id, fileIndex: file.index)
        // A new stream wakes its torrent (StreamedTorrent); one played again
        // may have been paused by the sharing limits since.
        if reopened { await torrent.wake() }
        watchPeers(torrent)
        let opened = Opened(torrent: torrent, metadata: meta, file: file, stream: stream)
        // Size the window in seconds of playback once the bitrate is known.
        if probe, MediaType.isVideo(file.name) || MediaType.forFile(file.name).hasPrefix("audio/"), let url = url(opened) {
            Task { if let rate = await MediaProbe.probe(url)?.bytesPerSecond { stream.setBitrate(bytesPerSecond: rate) } }
        }
        return opened
    }

    /// The metadata of a torrent: at once for a .torrent, from peers for a
    /// magnet link.
    public func waitForMetadata(_ torrent: Torrent, label: String?, timeout: Duration?) async throws -> TorrentMetadata {
        if let m = torrent.knownMetadata { return m }
        let clock = ContinuousClock()
        let start = clock.now
        let outcome = Mutex<Result<TorrentMetadata, any Error>?>(nil)
        let waiter = Task {
            let r = await Result(catching: { try await torrent.metadata() })
            outcome.withLock { $0 = r }
        }
        defer {
            waiter.cancel()
            events.progressDone()
        }
        let name = label ?? torrent.id.hex
        var announced = false
        var offlineChecked = false
        while true {
            if let r = outcome.withLock({ $0 }) {
                do {
                    return try r.get()
                } catch let e as EngineError {
                    throw DaemonError(e.message)
                }
            }
            let elapsed = clock.now - start
            if !announced && elapsed > .seconds(1) {
                events.info("Looking for peers for \(name)…")
                announced = true
            }
            if let timeout, elapsed > timeout {
                throw DaemonError("no peers found for \(name) within \(timeout.components.seconds) s: nobody seems to share it")
            }
            let st = torrent.latestStatus
            if !offlineChecked, elapsed > OfflineCheck.after, st.peers == 0, st.knownPeers == 0 {
                offlineChecked = true
                if let line = await offline(torrent, name: name, since: start) { throw DaemonError(line) }
            }
            events.progress("Looking for peers… \(st.peers) connected, \(st.knownPeers) known")
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Telling "offline" from "nobody shares it": no node of the DHT's
    /// routing table is on the internet, a lookup of the torrent on the DHT
    /// there is finds nobody, and still no peer is known. A line for the
    /// user then; nil otherwise.
    private func offline(_ torrent: Torrent, name: String, since start: ContinuousClock.Instant) async -> String? {
        let session = runtime.session
        guard await session.internetDHTNodes() == 0 else { return nil }
        let found = await session.dhtPeerCount(torrent.id, timeout: OfflineCheck.lookup, quiet: .seconds(2)) ?? 0
        let st = torrent.latestStatus
        guard
            OfflineCheck.isOffline(
                internetNodes: await session.internetDHTNodes(), lookupPeers: found, knownPeers: st.knownPeers + st.peers)
        else { return nil }
        let seconds = (ContinuousClock.now - start).components.seconds
        return
            "you appear to be offline: in \(seconds) s no peer and no DHT node on the internet answered, so nobody could be asked for \(name)"
    }

    /// While a played torrent has no peers and wants data, look again on a
    /// schedule (PeerSearch) rather than at the trackers' half hour.
    func watchPeers(_ torrent: Torrent) {
        guard watched.withLock({ $0.insert(torrent.id).inserted }) else { return }
        let runtime = runtime
        Task { [weak self] in
            let clock = ContinuousClock()
            let start = clock.now
            func seconds() -> Double {
                let d = clock.now - start
                return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
            }
            var search = PeerSearch(startedAt: seconds())
            while !Task.isCancelled, runtime.torrents.contains(where: { $0.torrent.id == torrent.id }) {
                try? await Task.sleep(for: .seconds(1))
                let st = torrent.latestStatus
                if search.shouldSearch(now: seconds(), peers: st.peers, wantsData: !(st.isFinished || st.isSeeding)) {
                    await torrent.wake()
                }
            }
            _ = self?.watched.withLock { $0.remove(torrent.id) }
        }
    }

    // MARK: PlaybackService (the web UI)

    public func play(ref: String, episode: String?, quality: String?) async throws -> (path: String, label: String) {
        // Registered at once: the page asks for progress (and may cancel)
        // while the catalog's .torrent URL is fetched, too.
        let key = Self.startKey(ref, episode)
        let start = Start()
        let task = Task { () throws -> (path: String, label: String) in
            guard
                let pick = try await CatalogSource.resolve(
                    ref, episode: episode, quality: quality, home: runtime.home, store: store, trustHosts: library.trustsCatalogHosts,
                    fetchURLs: runtime.fetchesURLs)
            else { throw DaemonError("no title \"\(ref)\" in the catalog", badInput: true) }
            let choice = Choice(source: pick.resolved, file: pick.fileIndex.map(String.init), label: pick.label)
            do {
                let opened = try await self.open(
                    choice, timeout: .seconds(60), probe: false, onAdded: { t in start.torrent.withLock { $0 = t } })
                return (opened.path, pick.label)
            } catch is CancellationError {
                throw DaemonError("stopped looking for \(pick.label): cancelled", badInput: true)
            }
        }
        start.task.withLock { $0 = task }
        starts.withLock { $0[key] = start }
        defer { starts.withLock { if $0[key] === start { $0[key] = nil } } }
        do {
            return try await withTaskCancellationHandler {
                try await task.value
            } onCancel: {
                task.cancel()
            }
        } catch let e as DaemonError {
            throw ChannelServiceError(e.message, badInput: e.badInput)
        } catch is CancellationError {
            throw ChannelServiceError("stopped: cancelled", badInput: true)
        }
    }

    /// A start of the web UI still waiting: for how long, and what the
    /// engine found so far. nil when none waits for this title and episode.
    public func startProgress(ref: String, episode: String?) async -> StartProgress? {
        guard let start = starts.withLock({ $0[Self.startKey(ref, episode)] }) else { return nil }
        let seconds = Double((ContinuousClock.now - start.began).components.seconds)
        let nodes = await runtime.session.dhtNodeCount(timeout: .seconds(2))
        guard let t = start.torrent.withLock({ $0 }) else { return StartProgress(seconds: seconds, dhtNodes: nodes) }
        let st = t.latestStatus
        return StartProgress(
            seconds: seconds, dhtNodes: nodes, peers: st.peers, knownPeers: st.knownPeers, bytes: st.totalDone,
            hasMetadata: st.hasMetadata)
    }

    /// Stops a start of the web UI that still waits; false if none does.
    public func cancelStart(ref: String, episode: String?) -> Bool {
        guard let start = starts.withLock({ $0[Self.startKey(ref, episode)] }) else { return false }
        start.task.withLock { $0 }?.cancel()
        return true
    }

    public func swarm(ref: String, episode: String?, quality: String?) async throws -> SwarmInfo {
        let pick: CatalogSource.Pick
        do {
            guard
                let p = try await CatalogSource.resolve(
                    ref, episode: episode, quality: quality, home: runtime.home, store: store, trustHosts: library.trustsCatalogHosts,
                    fetchURLs: runtime.fetchesURLs)
            else { throw DaemonError("no title \"\(ref)\" in the catalog", badInput: true) }
            pick = p
        } catch let e as DaemonError {
            throw ChannelServiceError(e.message, badInput: true)
        }
        let id = pick.resolved.id
        if let t = runtime.session.torrent(id) {
            let st = await t.status()
            return SwarmInfo(source: "engine", peers: max(st.peers, st.knownPeers), seeds: st.seeds, progress: st.progress)
        }
        guard let n = await runtime.session.dhtPeerCount(id, timeout: .seconds(20)) else { return SwarmInfo(source: "unknown", peers: 0) }
        return SwarmInfo(source: "dht", peers: n)
    }

    /// What an API request names: a .torrent's bytes, or a source as text
    /// (no local paths over the API).
    private func choice(_ r: StreamRequest) async throws -> Choice {
        if let base64 = r.torrent {
            guard let bytes = Data(base64Encoded: base64) else { throw DaemonError("the torrent is not base64", badInput: true) }
            return Choice(
                source: try SourceResolver.fromTorrentBytes(Array(bytes), name: r.name ?? "the .torrent"), file: r.file, label: nil)
        }
        guard let text = r.source else { throw DaemonError("expected a source or a torrent", badInput: true) }
        return try await choose(text, episode: r.episode, quality: r.quality, file: r.file, localFiles: false)
    }

    public func listFiles(_ r: StreamRequest) async throws -> [TorrentFileJSON] {
        try await apiCall {
            let choice = try await choice(r)
            let meta: TorrentMetadata
            if let known = choice.source.metadata {
                meta = known
            } else if let t = runtime.session.torrent(choice.source.id), let known = t.knownMetadata {
                meta = known
            } else {
                // Added as a stream with no file chosen: only the metadata comes.
                let t = try await runtime.add(choice.source, streaming: true, peers: (r.peers ?? []).compactMap(HostPort.init))
                meta = try await waitForMetadata(t, label: choice.label, timeout: .seconds(max(1, min(r.timeout ?? 60, 3600))))
                await runtime.rememberMetadata(t)
            }
            return meta.visibleFiles.map { TorrentFileJSON(index: $0.index, path: $0.path, size: $0.size) }
        }
    }

    public func startStream(_ r: StreamRequest) async throws -> StreamStart {
        try await apiCall {
            let choice = try await choice(r)
            let peers = (r.peers ?? []).compactMap(HostPort.init)
            let opened = try await open(choice, peers: peers, timeout: .seconds(max(1, min(r.timeout ?? 60, 3600))))
            return StreamStart(
                path: opened.path, infoHash: opened.torrent.id.hex, file: opened.file.index, name: opened.file.path,
                size: opened.file.size, label: choice.label)
        }
    }

    public func externalPlayers() -> [String] { Player.external.filter { (try? Player.locate($0)) != nil } }

    public func openExternal(player: String, url: String, title: String, start: Double) async throws -> String {
        guard Player.external.contains(player), let path = try? Player.locate(player) else {
            throw ChannelServiceError(
                "\(player) is not a player Matinee can start here (it knows mpv and vlc, if installed)", badInput: true)
        }
        do {
            try Player.launch(path, url: url, title: title, start: start)
        } catch let e as DaemonError {
            throw ChannelServiceError(e.message, badInput: false)
        }
        events.info("Opened \(title) in \(player)")
        return "Playing in \(player == "vlc" ? "VLC" : player) (the link it got works for a few hours)."
    }
}
