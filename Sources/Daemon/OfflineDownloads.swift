public import Catalog
import Foundation
public import Server
public import Streaming
import Synchronization
import TorrentKit

/// Download for offline (issue 13): a film, an episode or a season fetched
/// whole in the background, with no player open, and kept: the cache limit
/// never removes it, and it plays with no network afterwards (its .torrent,
/// resume data and files are here; Play finds the torrent in the engine).
/// The list lives in the catalog database (`offline`), the torrents are the
/// engine's downloads like any other.
public final class OfflineDownloads: OfflineService {
    let runtime: EngineRuntime
    let hub: StreamHub
    let store: CatalogStore
    let library: Library
    let playback: Playback
    let events: Events
    /// A start still waiting for its torrent's metadata, by item.
    private let starts = Mutex<[String: Task<Void, Never>]>([:])

    public init(runtime: EngineRuntime, hub: StreamHub, store: CatalogStore, library: Library, playback: Playback, events: Events) {
        self.runtime = runtime
        self.hub = hub
        self.store = store
        self.library = library
        self.playback = playback
        self.events = events
        library.onRemoved { [store] id in try? await store.forgetOffline(infoHash: id.hex) }
    }

    private static func key(_ i: CatalogStore.OfflineItem) -> String { i.channelKey + "/" + i.titleId + "/" + i.episode }

    public func keep(ref: String, episode: String?, season: Int?, quality: String?) async throws -> String {
        try await apiCall {
            guard let entry = try await store.title(ref: ref) else {
                throw DaemonError("no title \"\(ref)\" in the catalog", badInput: true)
            }
            let doc = entry.document
            var episodes: [String?]
            if let seasons = doc.seasons {
                if let episode {
                    guard let (s, e) = CatalogSource.parseEpisode(episode),
                        seasons.contains(where: { $0.number == s && $0.episodes.contains { $0.number == e } })
                    else { throw DaemonError("\(doc.title) has no episode \(episode)", badInput: true) }
                    episodes = [String(format: "S%02dE%02d", s, e)]
                } else if let season {
                    guard let s = seasons.first(where: { $0.number == season }), !s.episodes.isEmpty else {
                        throw DaemonError("\(doc.title) has no season \(season)", badInput: true)
                    }
                    episodes = s.episodes.map { String(format: "S%02dE%02d", s.number, $0.number) }
                } else {
                    throw DaemonError("\(doc.title) is a series: name an episode or a season to download", badInput: true)
                }
            } else {
                if episode != nil || season != nil { throw DaemonError("\(doc.title) is a film: it has no episodes", badInput: true) }
                episodes = [nil]
            }
            let have = Set(try await store.offlineItems().map(Self.key))
            var added = 0
            for code in episodes {
                guard
                    let pick = try await CatalogSource.resolve(
                        ref, episode: code, quality: quality, home: runtime.home, store: store, trustHosts: library.trustsCatalogHosts, fetchURLs: runtime.fetchesURLs)
                else { continue }
                let item = CatalogStore.OfflineItem(
                    channelKey: entry.channelKey, titleId: doc.id, episode: code ?? "", quality: quality, label: pick.label,
                    infoHash: pick.resolved.id.hex, fileIndex: pick.fileIndex, addedAt: RFC3339.string(Date()))
                if have.contains(Self.key(item)) { continue }
                try await store.keepOffline(item)
                start(item, pick.resolved)
                added += 1
            }
            let what = season.map { "\(doc.title) season \($0)" } ?? (episode.map { "\(doc.title) \($0.uppercased())" } ?? doc.title)
            if added == 0 { return "\(what) is already kept for offline (see Downloads)." }
            events.info("Downloading for offline: \(what)")
            return "Downloading \(what) for offline\(added > 1 ? " (\(Format.count(added, "episode")))" : ""): see Downloads."
        }
    }

    /// Adds the torrent, waits for its metadata as long as it takes, then
    /// wants the item's file whole.
    private func start(_ item: CatalogStore.OfflineItem, _ source: ResolvedSource) {
        let k = Self.key(item)
        let task = Task { [weak self] in
            guard let self else { return }
            do {
                let t = try await runtime.add(source, streaming: true)
                library.keep(t.id)
                let meta = try await t.metadata()
                await runtime.rememberMetadata(t)
                let file = try FileChooser.choose(meta, selector: item.fileIndex.map(String.init))
                if item.fileIndex != file.index {
                    var known = item
                    known.fileIndex = file.index
                    // Unless the user took it back meanwhile.
                    if try await store.offlineItems().contains(where: { Self.key($0) == k }) { try await store.keepOffline(known) }
                }
                hub.register(t, savePath: runtime.downloadDir)
                try await hub.keepWhole(t.id, fileIndex: file.index)
                playback.watchPeers(t)
            } catch is CancellationError {
            } catch {
                events.problem("Cannot download \(item.label) for offline: \((error as? EngineError)?.message ?? "\(error)")")
            }
            _ = starts.withLock { $0.removeValue(forKey: k) }
        }
        starts.withLock { $0[k] = task }
    }

    /// At the daemon's start, after `Library.restoreDownloads`: every kept
    /// file wanted whole again, and the starts that had no metadata yet
    /// started again.
    func restore() async {
        guard let items = try? await store.offlineItems() else { return }
        for item in items {
            guard let id = TorrentID(string: item.infoHash) else { continue }
            if let t = runtime.session.torrent(id), let f = item.fileIndex, t.knownMetadata != nil {
                library.keep(id)
                hub.register(t, savePath: runtime.downloadDir)
                try? await hub.keepWhole(id, fileIndex: f)
                playback.watchPeers(t)
                continue
            }
            guard let entry = try? await store.entry(channelKey: item.channelKey, titleId: item.titleId),
                let pick = try? await CatalogSource.resolve(
                    entry.ref, episode: item.episode.isEmpty ? nil : item.episode, quality: item.quality, home: runtime.home,
                    store: store, trustHosts: library.trustsCatalogHosts, fetchURLs: runtime.fetchesURLs)
            else { continue }
            start(item, pick.resolved)
        }
    }

    public func items() async -> [OfflineItemJSON] {
        guard let items = try? await store.offlineItems() else { return [] }
        var out: [OfflineItemJSON] = []
        for item in items {
            guard let entry = try? await store.entry(channelKey: item.channelKey, titleId: item.titleId) else { continue }
            var j = OfflineItemJSON(
                ref: entry.ref, episode: item.episode.isEmpty ? nil : item.episode, label: item.label, infoHash: item.infoHash, size: 0,
                done: 0, state: "looking")
            if let id = TorrentID(string: item.infoHash), let t = runtime.session.torrent(id), let meta = t.knownMetadata,
                let f = (item.fileIndex.flatMap { i in meta.files.first { $0.index == i } })
                    ?? (try? FileChooser.choose(meta, selector: nil))
            {
                j.size = f.size
                j.done = Self.bytesHere(of: f, meta, t.pieces)
                j.state = j.done >= f.size ? "ready" : "downloading"
                if let problem = t.trouble, j.state != "ready" {
                    j.state = "stopped"
                    j.problem = problem
                }
            }
            out.append(j)
        }
        return out
    }

    /// Bytes of a file whose pieces are verified here.
    static func bytesHere(of f: TorrentMetadata.File, _ meta: TorrentMetadata, _ have: PieceSet) -> Int64 {
        guard f.size > 0 else { return 0 }
        let map = PieceMap(pieceLength: meta.pieceLength, pieceCount: meta.pieceCount, fileOffset: f.offset, fileSize: f.size)
        guard let pieces = map.pieces else { return 0 }
        var done: Int64 = 0
        let length = Int64(meta.pieceLength)
        for p in pieces where have.contains(p) {
            let start = max(Int64(p) * length, f.offset)
            let end = min(Int64(p + 1) * length, f.offset + f.size)
            done += max(0, end - start)
        }
        return done
    }

    public func remove(ref: String, episode: String?) async throws -> String {
        try await apiCall {
            guard let entry = try await store.title(ref: ref) else {
                throw DaemonError("no title \"\(ref)\" in the catalog", badInput: true)
            }
            let all = try await store.offlineItems()
            let code = episode.flatMap(CatalogSource.parseEpisode).map { String(format: "S%02dE%02d", $0.0, $0.1) }
            let gone = all.filter { i in
                i.channelKey == entry.channelKey && i.titleId == entry.document.id && (code == nil || i.episode == code)
            }
            guard !gone.isEmpty else { throw DaemonError("\(entry.document.title) is not kept for offline", badInput: true) }
            for item in gone {
                _ = starts.withLock { $0.removeValue(forKey: Self.key(item)) }?.cancel()
                try await store.forgetOffline(channelKey: item.channelKey, titleId: item.titleId, episode: item.episode)
            }
            let left = try await store.offlineItems()
            for hash in Set(gone.map(\.infoHash)) {
                guard let id = TorrentID(string: hash), let t = runtime.session.torrent(id) else { continue }
                if left.contains(where: { $0.infoHash == hash }) {
                    // A season in one torrent: the other episodes stay.
                    for item in gone where item.infoHash == hash {
                        if let f = item.fileIndex { try? await hub.keepWhole(id, fileIndex: f, false) }
                    }
                } else {
                    library.unkeep(id)
                    hub.unregister(id)
                    runtime.remove(t, deleteFiles: true)
                }
            }
            let what = gone.count == 1 ? gone[0].label : "\(entry.document.title) (\(Format.count(gone.count, "episode")))"
            events.info("Removed the offline copy of \(what)")
            return "Removed the offline copy of \(what)."
        }
    }
}
