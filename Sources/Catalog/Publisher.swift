public import Foundation
public import TorrentKit

/// Turns a library folder into a signed channel version: a torrent per video
/// file, the catalog document, its signature, and the catalog torrent that
/// carries them with the artwork and subtitles. Seeding and the DHT put are
/// the caller's (they need the running engine).
///
/// Work folder layout (under MATINEE_HOME/published/<key hex>/):
///   torrents/<infohash>.torrent   every source torrent made so far
///   sources.json                  path, size, mtime, web seeds -> infohash,
///                                 so unchanged files are not hashed again
///   state.json                    the last sequence and each title's first
///                                 appearance
///   catalog/<sequence>/matinee-catalog/...   the catalog torrent's folder
public struct Publisher: Sendable {
    public let key: ChannelKey
    public let library: String
    public let workDir: String
    public var webSeeds: [String] = []
    /// Trackers put into every torrent (viewers use them only if they allow
    /// channels to name hosts, see `AppSettings.catalogHosts`).
    public var trackers: [String] = []
    public var description: String?
    /// How long a version is valid; readers show it as stale afterwards.
    public var validity: TimeInterval = 30 * 86400

    public init(key: ChannelKey, library: String, workDir: String) {
        self.key = key
        self.library = URL(fileURLWithPath: library).standardizedFileURL.path
        self.workDir = workDir
    }

    /// A torrent to seed: its bytes and the folder its data is in.
    public struct Seedable: Sendable {
        public var id: TorrentID
        public var torrent: [UInt8]
        public var savePath: String
        public var name: String
    }

    public struct Result: Sendable {
        public var document: CatalogDocument
        public var catalog: Seedable
        public var sources: [Seedable]
        public var pointer: DHTMutableItem
        public var scan: LibraryScanner.Result
        /// Files hashed this time (the rest came from the cache).
        public var hashed: Int
        public var warnings: [String]
    }

    public enum Step: Sendable {
        case hashing(file: String, index: Int, count: Int, pieces: Int, of: Int)
        case reused(file: String)
        case catalog
    }

    private struct SourceCache: Codable {
        struct Entry: Codable {
            var size: Int64
            var mtime: Double
            var webSeeds: [String]
            var trackers: [String]?
            var infohash: String
        }

        var files: [String: Entry] = [:]
    }

    private struct State: Codable {
        var sequence: Int64 = 0
        var firstSeen: [String: String] = [:]
    }

    public func build(progress: @escaping @Sendable (Step) -> Void = { _ in }) async throws -> Result {
        let scan = try LibraryScanner(root: library).scan()
        guard !scan.items.isEmpty else {
            throw CatalogError(.library, "nothing to publish in \(library): no Movies/ or Shows/ titles found (see matinee publish --help)")
        }
        try makeDirectory(workDir + "/torrents")
        var cache =
            (try? JSONDecoder().decode(SourceCache.self, from: Data(contentsOf: URL(fileURLWithPath: workDir + "/sources.json"))))
            ?? SourceCache()
        var state =
            (try? JSONDecoder().decode(State.self, from: Data(contentsOf: URL(fileURLWithPath: workDir + "/state.json"))))
            ?? State()
        var warnings = scan.warnings

        // 1. A torrent per video file, reused when the file did not change.
        let videos = scan.items.flatMap { $0.videos + $0.episodes.flatMap(\.videos) }
        var sources: [String: Seedable] = [:]
        var hashed = 0
        for (i, v) in videos.enumerated() {
            let abs = library + "/" + v.path
            var st = stat()
            guard lstat(abs, &st) == 0 else { continue }
            let mtime = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
            if let c = cache.files[v.path], c.size == Int64(st.st_size), c.mtime == mtime, c.webSeeds == webSeeds,
                c.trackers ?? [] == trackers,
                let id = TorrentID(string: c.infohash),
                let bytes = try? Array(Data(contentsOf: URL(fileURLWithPath: workDir + "/torrents/\(c.infohash).torrent"))),
                (try? TorrentMetadata(torrentFile: bytes))?.id == id
            {
                progress(.reused(file: v.path))
                sources[v.path] = Seedable(id: id, torrent: bytes, savePath: (abs as NSString).deletingLastPathComponent, name: v.path)
                continue
            }
            let count = videos.count
            let bytes = try await TorrentMaker.make(
                path: abs, trackers: trackers, webSeeds: webSeeds.map { Self.webSeed($0, for: v.path) }
            ) { done, total in
                progress(.hashing(file: v.path, index: i, count: count, pieces: done, of: total))
            }
            let meta = try TorrentMetadata(torrentFile: bytes)
            try write(bytes, to: workDir + "/torrents/\(meta.id.hex).torrent")
            cache.files[v.path] = .init(
                size: Int64(st.st_size), mtime: mtime, webSeeds: webSeeds, trackers: trackers, infohash: meta.id.hex)
            sources[v.path] = Seedable(id: meta.id, torrent: bytes, savePath: (abs as NSString).deletingLastPathComponent, name: v.path)
            hashed += 1
        }
        try write(Array(try JSONEncoder().encode(cache)), to: workDir + "/sources.json")
        progress(.catalog)

        // 2. The catalog folder: artwork, subtitles, source .torrents, catalog.json.
        let sequence = max(state.sequence + 1, Int64(Date().timeIntervalSince1970))
        let stagingRoot = workDir + "/catalog/\(sequence)"
        let staging = stagingRoot + "/matinee-catalog"
        try? FileManager.default.removeItem(atPath: stagingRoot)
        try makeDirectory(staging)
        let now = Date()
        var titles: [CatalogDocument.Title] = []
        for item in scan.items {
            var t = CatalogDocument.Title(id: item.id, kind: item.kind, title: String(item.title.prefix(300)))
            let m = item.metadata
            t.year = item.year.flatMap { (1870...2200).contains($0) ? $0 : nil }
            t.originalTitle = m.originalTitle.map { String($0.prefix(300)) }
            t.synopsis = m.synopsis.map { String($0.prefix(10_000)) }
            t.genres = m.genres.map { Array($0.prefix(20).map { String($0.prefix(50)) }.filter { !$0.isEmpty }) }
            t.runtime = m.runtime
            t.rating = m.rating.map { String($0.prefix(20)) }
            t.languages = m.languages
            t.license = m.license.map { String($0.prefix(200)) }
            let firstSeen = state.firstSeen[item.id] ?? RFC3339.string(now)
            state.firstSeen[item.id] = firstSeen
            t.added = firstSeen
            t.poster = try copyArt(item.poster, as: "art/\(item.id)/poster", into: staging, warnings: &warnings)
            t.backdrop = try copyArt(item.backdrop, as: "art/\(item.id)/backdrop", into: staging, warnings: &warnings)
            let subtitles = try item.subtitles.enumerated().compactMap { n, s in
                try copySubtitle(s, as: "subtitles/\(item.id)/\(n)-\(s.language)", into: staging, warnings: &warnings)
            }
            switch item.kind {
            case .movie:
                t.sources = try item.videos.compactMap { v in
                    try source(v, subtitles: subtitles, sources: sources, staging: staging)
                }
            case .series:
                var seasons: [Int: [CatalogDocument.Episode]] = [:]
                for e in item.episodes {
                    let subs = try e.subtitles.enumerated().compactMap { n, s in
                        try copySubtitle(
                            s, as: "subtitles/\(item.id)/s\(e.season)e\(e.number)-\(n)-\(s.language)", into: staging, warnings: &warnings)
                    }
                    let srcs = try e.videos.compactMap { try source($0, subtitles: subs, sources: sources, staging: staging) }
                    guard !srcs.isEmpty else { continue }
                    seasons[e.season, default: []].append(
                        CatalogDocument.Episode(
                            number: e.number, title: e.title.map { String($0.prefix(300)) }, sources: Array(srcs.prefix(20))))
                }
                t.seasons = seasons.keys.sorted().map { CatalogDocument.Season(number: $0, episodes: seasons[$0]!) }
            }
            titles.append(t)
        }
        let doc = CatalogDocument(
            channel: .init(key: Hex.encode(key.publicKey), name: key.name, description: description), sequence: sequence,
            issued: now, expires: now.addingTimeInterval(validity), titles: titles)
        try doc.validate(key: key.publicKey, sequence: sequence)
        let json = try doc.encoded()
        try write(json, to: staging + "/catalog.json")
        try write(try CatalogSignature.sign(json, with: key.privateKey), to: staging + "/catalog.sig")

        // 3. The catalog torrent, and the pointer to it.
        let catalogBytes = try await TorrentMaker.make(path: staging)
        let catalogMeta = try TorrentMetadata(torrentFile: catalogBytes)
        let pointer = try ChannelPointer.item(pointingAt: catalogMeta.id, sequence: sequence, key: key.privateKey)
        state.sequence = sequence
        try write(Array(try JSONEncoder().encode(state)), to: workDir + "/state.json")
        // Older versions' folders are no longer needed.
        for old in (try? FileManager.default.contentsOfDirectory(atPath: workDir + "/catalog")) ?? [] where old != "\(sequence)" {
            try? FileManager.default.removeItem(atPath: workDir + "/catalog/" + old)
        }
        let used = Set(titles.flatMap { $0.allSources.map(\.infohash) })
        return Result(
            document: doc,
            catalog: Seedable(id: catalogMeta.id, torrent: catalogBytes, savePath: stagingRoot, name: "catalog"),
            sources: sources.values.filter { used.contains($0.id.hex) }.sorted { $0.name < $1.name },
            pointer: pointer, scan: scan, hashed: hashed, warnings: warnings)
    }

    // MARK: Pieces of the catalog

    private func source(
        _ v: LibraryScanner.Video, subtitles: [CatalogDocument.Subtitle], sources: [String: Seedable], staging: String
    ) throws -> CatalogDocument.Source? {
        guard let s = sources[v.path] else { return nil }
        let torrentPath = "torrents/\(s.id.hex).torrent"
        try write(s.torrent, to: staging + "/" + torrentPath)
        var src = CatalogDocument.Source(infohash: s.id.hex, file: 0, size: v.size, quality: v.quality)
        src.subtitles = subtitles.isEmpty ? nil : Array(subtitles.prefix(50))
        src.torrent = torrentPath
        return src
    }

    private func copyArt(_ rel: String?, as name: String, into staging: String, warnings: inout [String]) throws -> String? {
        guard let rel else { return nil }
        let ext = (rel as NSString).pathExtension.lowercased() == "png" ? "png" : "jpg"
        return try copy(rel, to: "\(name).\(ext)", into: staging, limit: 5 << 20, warnings: &warnings)
    }

    private func copySubtitle(
        _ s: LibraryScanner.Subtitle, as name: String, into staging: String, warnings: inout [String]
    ) throws -> CatalogDocument.Subtitle? {
        let ext = (s.path as NSString).pathExtension.lowercased() == "vtt" ? "vtt" : "srt"
        guard let p = try copy(s.path, to: "\(name).\(ext)", into: staging, limit: 2 << 20, warnings: &warnings) else { return nil }
        return CatalogDocument.Subtitle(language: s.language, path: p)
    }

    private func copy(_ rel: String, to name: String, into staging: String, limit: Int, warnings: inout [String]) throws -> String? {
        let src = library + "/" + rel
        var st = stat()
        guard lstat(src, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        guard st.st_size <= limit else {
            warnings.append("\(rel): larger than \(limit >> 20) MiB; left out of the catalog")
            return nil
        }
        let dest = staging + "/" + name
        try makeDirectory((dest as NSString).deletingLastPathComponent)
        do {
            try FileManager.default.copyItem(atPath: src, toPath: dest)
        } catch {
            throw CatalogError(.storage, "cannot copy \(rel) into the catalog: \(error.localizedDescription)")
        }
        return name
    }

    /// A web seed for one file: a URL ending in "/" is a folder that mirrors
    /// the library, so the file's path is appended (BEP 19 single-file form).
    static func webSeed(_ base: String, for rel: String) -> String {
        guard base.hasSuffix("/") else { return base }
        let encoded = rel.split(separator: "/").map {
            String($0).addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#")))
                ?? String($0)
        }
        return base + encoded.joined(separator: "/")
    }

    private func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw CatalogError(.storage, "cannot create \(path): \(error.localizedDescription)")
        }
    }

    private func write(_ bytes: [UInt8], to path: String) throws {
        try makeDirectory((path as NSString).deletingLastPathComponent)
        let tmp = path + ".tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(bytes)), rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: tmp)
            throw CatalogError(.storage, "cannot write \(path): \(reason)")
        }
    }
}
