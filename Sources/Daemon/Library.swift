import Catalog
import Foundation
public import Server
public import Streaming
import Synchronization
import TorrentKit

/// The Settings and Downloads pages, done by the daemon: settings saved and
/// applied at once where the engine allows, downloads listed and removed,
/// sharing stopped at the seeding limits, and the cache kept under its size.
public final class Library: LibraryService {
    public let runtime: EngineRuntime
    public let hub: StreamHub
    let events: Events
    private let engine: Mutex<EngineConfig>
    private let current: Mutex<AppSettings>
    /// Downloads whose sharing was stopped by the seeding limits.
    private let stopped = Mutex<Set<TorrentID>>([])
    /// Downloads kept for offline (`OfflineDownloads`): the cache limit
    /// leaves them, and removing one tells `removed`.
    private let kept = Mutex<(ids: Set<TorrentID>, removed: (@Sendable (TorrentID) async -> Void)?)>(([], nil))

    func keep(_ id: TorrentID) { kept.withLock { _ = $0.ids.insert(id) } }
    func unkeep(_ id: TorrentID) { kept.withLock { _ = $0.ids.remove(id) } }
    func onRemoved(_ body: @escaping @Sendable (TorrentID) async -> Void) { kept.withLock { $0.removed = body } }
    var keptForOffline: Set<TorrentID> { kept.withLock { $0.ids } }

    public init(runtime: EngineRuntime, hub: StreamHub, engine: EngineConfig, settings: AppSettings, events: Events = .ignored) {
        self.runtime = runtime
        self.hub = hub
        self.events = events
        self.engine = Mutex(engine)
        self.current = Mutex(settings)
    }

    var policy: SeedingPolicy { engine.withLock { $0.seedingPolicy } }

    /// The user let channels name hosts to contact (Settings).
    var trustsCatalogHosts: Bool { current.withLock { $0.catalogHosts } }

    public func settings() async -> AppSettings { current.withLock { $0 } }
    var currentSettings: AppSettings { current.withLock { $0 } }
    /// A player reads one of the streams now.
    var isPlaying: Bool { !playing.isEmpty }

    public func updateSettings(_ wanted: AppSettings) async throws -> String {
        let before = current.withLock { $0 }
        let dir = URL(fileURLWithPath: wanted.downloadDir).standardizedFileURL.path
        if dir != before.downloadDir {
            do {
                try Disk.makeDirectory(dir, what: "the download folder")
                try runtime.setDownloadDir(dir)
            } catch let e as DaemonError {
                throw ChannelServiceError(e.message, badInput: true)
            }
        }
        var saved = wanted
        saved.downloadDir = dir
        do {
            try SettingsFile.save(saved, runtime.home)
        } catch {
            throw ChannelServiceError("cannot save the settings: \(Disk.reason(error))", badInput: false)
        }
        let options = engine.withLock { o -> EngineConfig in
            o = o.applying(saved)
            return o
        }
        current.withLock { $0 = saved }
        do {
            try await runtime.session.applyLive(options.sessionConfiguration(savedState: nil))
        } catch {
            throw ChannelServiceError("saved, but the engine refused the new limits: \(error)", badInput: false)
        }
        // New limits may let stopped downloads share again.
        let resumed = stopped.withLock { s -> Set<TorrentID> in
            defer { s = [] }
            return s
        }
        for t in runtime.torrents where resumed.contains(t.torrent.id) && saved.seeding { t.torrent.resume() }
        var later: [String] = []
        if saved.peerPort != before.peerPort { later.append("the peer port") }
        if saved.httpPort != before.httpPort { later.append("the web UI port") }
        if saved.proxy != before.proxy || saved.proxyOnly != before.proxyOnly { later.append("the proxy") }
        if saved.anonymousMode != before.anonymousMode { later.append("anonymous mode") }
        return "Settings saved."
            + (later.isEmpty ? "" : " \(later.joined(separator: " and ").capitalizedFirst) will change when Matinee restarts.")
    }

    public func network() async -> NetworkInfo {
        let config = engine.withLock { $0 }
        var summary: String
        if let proxy = config.proxy {
            summary = "Peers, web seeds, the DHT and trackers are reached through the proxy \(proxy); peers cannot connect to you, and LSD and UPnP are off."
            if config.proxyOnly { summary += " Proxy only: nothing goes out without it." }
        } else {
            summary = "Peers are reached directly, and can connect to you."
        }
        if config.anonymousMode { summary += " Anonymous mode: peers and trackers are not told this client's name or version." }
        return NetworkInfo(
            proxy: config.proxy?.description, proxyOnly: config.isProxyOnly, anonymousMode: config.anonymousMode,
            incoming: config.proxy == nil, problem: runtime.session.proxyTrouble, summary: summary)
    }

    /// Downloads: the torrents of this run that are not channel catalogs.
    private var downloadTorrents: [(torrent: Torrent, savePath: String)] {
        let channels = runtime.home.channelsDir + "/"
        return runtime.torrents.filter { !$0.savePath.hasPrefix(channels) && $0.torrent.knownMetadata?.name != ChannelResolver.folderName }
    }

    private var playing: Set<TorrentID> {
        Set(hub.streams.filter { !$0.readerOffsets.isEmpty }.map(\.torrent.id))
    }

    public func downloads() async -> [DownloadInfo] {
        let watching = playing
        var out: [DownloadInfo] = []
        for (t, savePath) in downloadTorrents {
            let st = await t.status()
            let state: String
            let trouble = t.diskTrouble
            switch true {
            case trouble != nil: state = "disk-full"
            case st.state == .checkingFiles || st.state == .checkingResumeData: state = "checking"
            case st.isPaused && (st.isFinished || st.isSeeding): state = "finished"
            case st.isSeeding || st.isFinished: state = "seeding"
            default: state = "downloading"
            }
            out.append(
                DownloadInfo(
                    infoHash: t.id.hex, name: t.knownMetadata?.name ?? t.id.hex, size: st.totalWanted, done: st.totalWantedDone,
                    state: state, uploaded: st.allTimeUpload, downloaded: st.allTimeDownload, peers: st.peers,
                    playing: watching.contains(t.id), folder: savePath, problem: t.trouble))
        }
        return out.sorted { $0.name.localizedStandardCompare($1.name) == .orderedAscending }
    }

    public func removeDownload(infoHash: String, deleteData: Bool) async throws -> String {
        guard let (t, _) = downloadTorrents.first(where: { $0.torrent.id.hex == infoHash }) else {
            throw ChannelServiceError("no download \(infoHash)", badInput: true)
        }
        let name = t.knownMetadata?.name ?? infoHash
        hub.unregister(t.id)
        runtime.remove(t, deleteFiles: deleteData)
        let removed = kept.withLock { k -> (@Sendable (TorrentID) async -> Void)? in
            k.ids.remove(t.id)
            return k.removed
        }
        await removed?(t.id)
        events.info("Removed \(name)\(deleteData ? " and its data" : "")")
        return deleteData ? "Removed \(name) and deleted its data." : "Removed \(name); its files are kept."
    }

    public func addSeed(torrent bytes: [UInt8], savePath: String) async throws -> String {
        try await apiCall {
            let resolved = try SourceResolver.fromTorrentBytes(bytes, name: "the torrent")
            guard let meta = resolved.metadata else { throw DaemonError("the torrent has no metadata", badInput: true) }
            let root = savePath + "/" + meta.name
            guard FileManager.default.fileExists(atPath: root) else {
                throw DaemonError("\(meta.name) is not in \(savePath): nothing to share", badInput: true)
            }
            // Kept like a download: shared again when the daemon restarts.
            try Disk.writeAtomically(bytes, to: runtime.home.torrentFile(meta.id))
            let t = try await runtime.add(resolved, streaming: false, seedMode: true, savePath: savePath)
            hub.register(t, savePath: savePath)
            events.info("Sharing \(meta.name) (\(Format.bytes(meta.totalSize)))")
            return "Seeding \(meta.name) (\(Format.bytes(meta.totalSize)))"
        }
    }

    /// One round of upkeep (every few seconds): stops sharing what reached
    /// the seeding limits, then trims the cache.
    func upkeep() async {
        let policy = self.policy
        for (t, _) in downloadTorrents where !stopped.withLock({ $0.contains(t.id) }) {
            if case let .stop(reason) = policy.decide(t.latestStatus) {
                stopped.withLock { _ = $0.insert(t.id) }
                t.pause()
                events.info("Stopped sharing: \(reason) (\(t.knownMetadata?.name ?? t.id.hex))")
            }
        }
        let limit = current.withLock { $0.cacheLimitGiB }
        guard limit > 0 else { return }
        await trimCache(to: Int64(limit * 1_073_741_824))
    }

    /// Removes finished downloads, least recently played first, until what
    /// is stored fits `bytes` (`CacheTrim`).
    func trimCache(to bytes: Int64) async {
        let watching = playing
        let keptIDs = keptForOffline
        var entries: [CacheTrim.Entry] = []
        var byID: [TorrentID: Torrent] = [:]
        for (t, _) in downloadTorrents {
            let st = await t.status()
            let attributes = try? FileManager.default.attributesOfItem(atPath: runtime.home.torrentFile(t.id))
            let used = attributes?[.modificationDate] as? Date ?? .distantPast
            entries.append(
                CacheTrim.Entry(
                    id: t.id, size: st.totalWantedDone, finished: st.isFinished || st.isSeeding, playing: watching.contains(t.id),
                    lastPlayed: used, kept: keptIDs.contains(t.id)))
            byID[t.id] = t
        }
        for case let .evict(id) in CacheTrim.plan(entries, limit: bytes) {
            guard let t = byID[id] else { continue }
            let name = t.knownMetadata?.name ?? id.hex
            let size = entries.first { $0.id == id }?.size ?? 0
            hub.unregister(id)
            runtime.remove(t, deleteFiles: true)
            events.info("Cache over its limit: removed \(name) (\(Format.bytes(size)))")
        }
    }
}

extension String {
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}

extension Library {
    /// Everything downloaded before (a saved .torrent and resume data),
    /// seeded from where it was saved and streamable at /stream. Channel
    /// catalogs are `Channels.seedCatalogs`'.
    func restoreDownloads() async throws -> [Torrent] {
        let home = runtime.home
        var out: [Torrent] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: home.resumeDir)) ?? [] where name.hasSuffix(".resume") {
            guard let id = TorrentID(string: String(name.dropLast(".resume".count))),
                let bytes = Disk.read(home.torrentFile(id), limit: SourceResolver.maxTorrentSize),
                let meta = try? TorrentMetadata(torrentFile: bytes),
                let resume = Disk.read(home.resumeFile(id), limit: 64 << 20),
                case let .bytes(path)? = (try? Bencode.decode(resume))?["save_path"]
            else { continue }
            let savePath = String(decoding: path, as: UTF8.self)
            if meta.name == ChannelResolver.folderName { continue }
            let t = try await runtime.add(
                ResolvedSource(source: .torrentFile(bytes), id: id, metadata: meta), streaming: false, savePath: savePath)
            hub.register(t, savePath: savePath)
            out.append(t)
        }
        return out
    }
}
