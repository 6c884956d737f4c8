import Catalog
import Foundation
import Server
import Streaming
import Synchronization
import TorrentKit

/// MATINEE_HOME/settings.json: what the Settings page saved.
enum SettingsFile {
    static func load(_ home: Home) -> AppSettings? {
        guard let bytes = Disk.read(home.settingsFile, limit: 64 << 10) else { return nil }
        return try? JSONDecoder().decode(AppSettings.self, from: Data(bytes))
    }

    static func save(_ settings: AppSettings, _ home: Home) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        try Disk.writeAtomically(Array(try e.encode(settings)), to: home.settingsFile)
    }
}

extension EngineOptions {
    /// These options, with each one left at its default taken from the saved
    /// settings: what is typed on the command line wins.
    func merged(with s: AppSettings?) -> EngineOptions {
        guard let s else { return self }
        var o = self
        if o.listen == nil && s.peerPort != 0 { o.listen = "0.0.0.0:\(s.peerPort)" }
        if o.uploadLimit == 0 { o.uploadLimit = s.uploadLimitKiB }
        if !o.noSeed { o.noSeed = !s.seeding }
        if o.seedRatio == 2.0 { o.seedRatio = s.seedRatio }
        if o.seedTime == 120.0 { o.seedTime = s.seedMinutes }
        if !o.requireEncryption { o.requireEncryption = s.requireEncryption }
        return o
    }

    /// The settings these options stand for.
    func settings(downloadDir: String, httpPort: Int, cacheLimitGiB: Double) -> AppSettings {
        AppSettings(
            downloadDir: downloadDir, cacheLimitGiB: cacheLimitGiB, uploadLimitKiB: uploadLimit, seeding: !noSeed,
            seedRatio: seedRatio, seedMinutes: seedTime, requireEncryption: requireEncryption,
            peerPort: listen.flatMap(HostPort.init)?.port ?? 0, httpPort: httpPort)
    }
}

/// The Settings and Downloads pages, done by the daemon: settings saved and
/// applied at once where the engine allows, downloads listed and removed,
/// sharing stopped at the seeding limits, and the cache kept under its size.
final class DaemonLibrary: LibraryService {
    let runtime: EngineRuntime
    let hub: StreamHub
    private let engine: Mutex<EngineOptions>
    private let current: Mutex<AppSettings>
    /// Downloads whose sharing was stopped by the seeding limits.
    private let stopped = Mutex<Set<TorrentID>>([])

    init(runtime: EngineRuntime, hub: StreamHub, engine: EngineOptions, settings: AppSettings) {
        self.runtime = runtime
        self.hub = hub
        self.engine = Mutex(engine)
        self.current = Mutex(settings)
    }

    var policy: SeedingPolicy { engine.withLock { $0.seedingPolicy } }

    func settings() async -> AppSettings { current.withLock { $0 } }

    func updateSettings(_ wanted: AppSettings) async throws -> String {
        let before = current.withLock { $0 }
        let dir = URL(fileURLWithPath: wanted.downloadDir).standardizedFileURL.path
        if dir != before.downloadDir {
            do {
                try Disk.makeDirectory(dir, what: "the download folder")
                try runtime.setDownloadDir(dir)
            } catch let e as CLIError {
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
        let options = engine.withLock { o -> EngineOptions in
            o.uploadLimit = saved.uploadLimitKiB
            o.noSeed = !saved.seeding
            o.seedRatio = saved.seedRatio
            o.seedTime = saved.seedMinutes
            o.requireEncryption = saved.requireEncryption
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
        return "Settings saved." + (later.isEmpty ? "" : " \(later.joined(separator: " and ").capitalizedFirst) will change when Matinee restarts.")
    }

    /// Downloads: the torrents of this run that are not channel catalogs.
    private var downloadTorrents: [(torrent: Torrent, savePath: String)] {
        let channels = runtime.home.channelsDir + "/"
        return runtime.torrents.filter { !$0.savePath.hasPrefix(channels) && $0.torrent.knownMetadata?.name != ChannelResolver.folderName }
    }

    private var playing: Set<TorrentID> {
        Set(hub.streams.filter { !$0.readerOffsets.isEmpty }.map(\.torrent.id))
    }

    func downloads() async -> [DownloadInfo] {
        let watching = playing
        var out: [DownloadInfo] = []
        for (t, savePath) in downloadTorrents {
            let st = await t.status()
            let state: String
            switch true {
            case st.state == .checkingFiles || st.state == .checkingResumeData: state = "checking"
            case st.isPaused && (st.isFinished || st.isSeeding): state = "finished"
            case st.isSeeding || st.isFinished: state = "seeding"
            default: state = "downloading"
            }
            out.append(DownloadInfo(
                infoHash: t.id.hex, name: t.knownMetadata?.name ?? t.id.hex, size: st.totalWanted, done: st.totalWantedDone,
                state: state, uploaded: st.allTimeUpload, downloaded: st.allTimeDownload, peers: st.peers,
                playing: watching.contains(t.id), folder: savePath))
        }
        return out.sorted { $0.name.localizedStandardCompare($1.name) == .orderedAscending }
    }

    func removeDownload(infoHash: String, deleteData: Bool) async throws -> String {
        guard let (t, _) = downloadTorrents.first(where: { $0.torrent.id.hex == infoHash }) else {
            throw ChannelServiceError("no download \(infoHash)", badInput: true)
        }
        let name = t.knownMetadata?.name ?? infoHash
        hub.unregister(t.id)
        runtime.remove(t, deleteFiles: deleteData)
        Console.info("Removed \(name)\(deleteData ? " and its data" : "")")
        return deleteData ? "Removed \(name) and deleted its data." : "Removed \(name); its files are kept."
    }

    /// One round of upkeep (every few seconds): stops sharing what reached
    /// the seeding limits, then trims the cache.
    func upkeep() async {
        let policy = self.policy
        for (t, _) in downloadTorrents where !stopped.withLock({ $0.contains(t.id) }) {
            if case let .stop(reason) = policy.decide(t.latestStatus) {
                stopped.withLock { _ = $0.insert(t.id) }
                t.pause()
                Console.info("Stopped sharing \(t.knownMetadata?.name ?? t.id.hex): \(reason)")
            }
        }
        let limit = current.withLock { $0.cacheLimitGiB }
        guard limit > 0 else { return }
        await trimCache(to: Int64(limit * 1_073_741_824))
    }

    /// Removes finished downloads, least recently played first, until what
    /// is stored fits `bytes`; never one being played or still downloading.
    func trimCache(to bytes: Int64) async {
        let watching = playing
        var entries: [(t: Torrent, size: Int64, finished: Bool, used: Date)] = []
        for (t, _) in downloadTorrents {
            let st = await t.status()
            let attributes = try? FileManager.default.attributesOfItem(atPath: runtime.home.torrentFile(t.id))
            let used = attributes?[.modificationDate] as? Date ?? .distantPast
            entries.append((t, st.totalWantedDone, st.isFinished || st.isSeeding, used))
        }
        var total = entries.reduce(Int64(0)) { $0 + $1.size }
        for e in entries.sorted(by: { $0.used < $1.used }) where total > bytes {
            guard e.finished, !watching.contains(e.t.id) else { continue }
            let name = e.t.knownMetadata?.name ?? e.t.id.hex
            hub.unregister(e.t.id)
            runtime.remove(e.t, deleteFiles: true)
            total -= e.size
            Console.info("Cache over its limit: removed \(name) (\(Format.bytes(e.size)))")
        }
    }
}

extension String {
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
