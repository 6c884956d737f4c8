public import Catalog
import Foundation
import TorrentKit

/// `matinee play <title id>`: a title from the local catalog, one of its
/// sources picked by quality (and episode, for a series).
public enum CatalogSource {
    public struct Pick: Sendable {
        public var resolved: ResolvedSource
        /// nil: the largest video.
        public var fileIndex: Int?
        public var label: String
    }

    /// A magnet link for a source: its web seeds (ws=) and, with a file
    /// index, BEP 53's select-only (so=).
    public static func magnet(_ s: CatalogDocument.Source, name: String) -> String {
        let enc: (String) -> String = { $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "" }
        var m = "magnet:?xt=urn:btih:\(s.infohash.lowercased())&dn=\(enc(name))"
        for w in s.webSeeds ?? [] { m += "&ws=\(enc(w))" }
        if let t = s.torrentURL { m += "&xs=\(enc(t))" }
        if let f = s.file { m += "&so=\(f)" }
        return m
    }

    /// True when `text` could be a title id (not a magnet, a path, a hash).
    public static func looksLikeTitle(_ text: String) -> Bool {
        // A ref is "<title id>" or, for a title several channels list,
        // "<channel key prefix>/<title id>".
        !text.isEmpty && !text.contains(":") && text.utf8.count <= 80 && TorrentID(string: text) == nil
    }

    /// nil when `text` names no title (the caller then reports what it is
    /// not). `trustHosts`: the user let channels name hosts (Settings).
    /// `fetchURLs` false: a catalog's .torrent URL is not fetched (it would
    /// bypass a "proxy only" proxy); the magnet link is used.
    public static func resolve(
        _ text: String, episode: String?, quality: String?, home: Home, store: CatalogStore, trustHosts: Bool, fetchURLs: Bool = true
    ) async throws -> Pick? {
        guard looksLikeTitle(text) else { return nil }
        guard let entry = try await store.title(ref: text) else { return nil }
        let doc = entry.document
        var sources: [CatalogDocument.Source]
        var label = doc.title
        if let seasons = doc.seasons {
            let all = seasons.flatMap { s in s.episodes.map { (s.number, $0) } }
            let wanted: (Int, Int)?
            if let episode {
                guard let p = parseEpisode(episode) else {
                    throw DaemonError("--episode takes the form S01E02 (got \"\(episode)\")", badInput: true)
                }
                wanted = p
            } else {
                wanted = nil
            }
            guard
                let (season, ep) = wanted.flatMap({ w in all.first { $0.0 == w.0 && $0.1.number == w.1 } })
                    ?? (wanted == nil ? all.first : nil)
            else { throw DaemonError("\(doc.title) has no episode \(episode ?? "")", badInput: true) }
            sources = ep.sources
            label += String(format: " S%02dE%02d", season, ep.number) + (ep.title.map { " - \($0)" } ?? "")
        } else {
            if episode != nil { throw DaemonError("\(doc.title) is a film: --episode is for series", badInput: true) }
            sources = doc.sources ?? []
        }
        if let quality {
            sources = sources.filter { ($0.quality ?? "").lowercased() == quality.lowercased() }
            guard !sources.isEmpty else {
                let have = (doc.sources ?? []).compactMap(\.quality).joined(separator: ", ")
                throw DaemonError("\(doc.title) has no \(quality) source" + (have.isEmpty ? "" : " (it has: \(have))"), badInput: true)
            }
        }
        guard let s = sources.first, let id = TorrentID(string: s.infohash) else {
            throw DaemonError("\(doc.title) lists no source", badInput: true)
        }
        if let q = s.quality { label += " (\(q))" }
        // Hosts named in a catalog (its torrentURL and webSeeds, and the
        // trackers and web seeds inside the torrents it ships) are contacted
        // only for the channel that comes with Matinee, or when the user
        // allowed it in Settings (docs/threat_model.md: a stranger's catalog must
        // not make this machine contact a host of its choosing). Peers come
        // from the DHT, PEX and LSD.
        let trusted = try await store.channel(entry.channelKey)?.isLocal == true || trustHosts
        // The .torrent shipped in the catalog: no metadata fetch before playing.
        if let rel = s.torrent, let channel = try await store.channel(entry.channelKey), CatalogPath.isSafe(rel) {
            let path = home.channelsDir + "/\(entry.channelKey)/\(channel.highestSequence)/\(ChannelResolver.folderName)/" + rel
            if let bytes = Disk.read(path, limit: SourceResolver.maxTorrentSize), let meta = try? TorrentMetadata(torrentFile: bytes),
                meta.id == id
            {
                var resolved = ResolvedSource(source: .torrentFile(bytes), id: id, metadata: meta)
                resolved.ignoreNamedHosts = !trusted
                return Pick(resolved: resolved, fileIndex: s.file, label: label)
            }
        }
        var source = s
        if !trusted {
            source.torrentURL = nil
            source.webSeeds = nil
        }
        // A .torrent over HTTP(S), when the catalog names one: no waiting for peers.
        if fetchURLs, let url = source.torrentURL, let r = try? await SourceResolver.resolve(url), r.id == id {
            return Pick(resolved: r, fileIndex: s.file, label: label)
        }
        var resolved = ResolvedSource(source: .magnet(magnet(source, name: doc.title)), id: id, metadata: nil)
        resolved.ignoreNamedHosts = !trusted
        return Pick(resolved: resolved, fileIndex: s.file, label: label)
    }

    /// "S01E02", "s1e2", "1x02" -> (1, 2).
    public static func parseEpisode(_ text: String) -> (Int, Int)? {
        let t = text.uppercased()
        if t.hasPrefix("S"), let e = t.firstIndex(of: "E"), let s = Int(t[t.index(after: t.startIndex)..<e]),
            let n = Int(t[t.index(after: e)...])
        {
            return (s, n)
        }
        let parts = t.split(separator: "X")
        if parts.count == 2, let s = Int(parts[0]), let n = Int(parts[1]) { return (s, n) }
        return nil
    }
}
