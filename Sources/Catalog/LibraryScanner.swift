import Foundation

/// Reads a library folder named the way Plex and Jellyfin expect:
///
///     Movies/Title (Year)/Title (Year).mp4            (.mkv, .webm, .m4v)
///     Movies/Title (Year)/Title (Year) - 720p.mp4     another quality
///     Movies/Title (Year)/Title (Year).en.srt         subtitles
///     Movies/Title (Year)/poster.jpg, fanart.jpg      artwork
///     Movies/Title (Year)/title.json or *.nfo         metadata
///     Shows/Show (Year)/Season 01/Show - S01E02 - Episode Title.mp4
///     Shows/Show (Year)/poster.jpg, title.json or tvshow.nfo
///
/// Files that match nothing are returned in `unmatched`, never dropped
/// silently. Symbolic links are not followed out of the library.
public struct LibraryScanner: Sendable {
    public static let videoExtensions: Set<String> = ["mp4", "mkv", "webm", "m4v", "mov"]
    public static let subtitleExtensions: Set<String> = ["srt", "vtt"]
    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "png"]

    public struct Video: Sendable, Equatable {
        /// Relative to the library root.
        public var path: String
        public var size: Int64
        public var quality: String?
    }

    public struct Subtitle: Sendable, Equatable {
        public var path: String
        public var language: String
    }

    public struct Episode: Sendable, Equatable {
        public var season: Int
        public var number: Int
        public var title: String?
        public var videos: [Video]
        public var subtitles: [Subtitle]
    }

    public struct Metadata: Sendable, Equatable, Codable {
        public var title: String?
        public var originalTitle: String?
        public var year: Int?
        public var synopsis: String?
        public var genres: [String]?
        public var runtime: Int?
        public var rating: String?
        public var languages: [String]?
        public var license: String?

        public init() {}
    }

    public struct Item: Sendable, Equatable {
        public var kind: CatalogDocument.Kind
        /// A stable id: the title and year as a slug ("sintel-2010").
        public var id: String
        public var title: String
        public var year: Int?
        /// The title's folder, relative to the library root.
        public var folder: String
        public var videos: [Video]
        public var subtitles: [Subtitle]
        public var episodes: [Episode]
        public var poster: String?
        public var backdrop: String?
        public var metadata: Metadata
    }

    public struct Result: Sendable {
        public var items: [Item]
        /// Relative paths of files that fit no rule.
        public var unmatched: [String]
        /// Problems worth a warning (a damaged title.json, say).
        public var warnings: [String]
    }

    public let root: String

    public init(root: String) {
        self.root = URL(fileURLWithPath: root).standardizedFileURL.path
    }

    public func scan() throws -> Result {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw CatalogError(.library, "no such folder: \(root)")
        }
        var result = Result(items: [], unmatched: [], warnings: [])
        var claimed = Set<String>()
        let top = entries(root)
        for name in top {
            let lower = name.lowercased()
            let path = root + "/" + name
            guard isDirectory(path) else { continue }
            if lower == "movies" || lower == "films" {
                for folder in entries(path) where isDirectory(path + "/" + folder) {
                    if let item = scanMovie(folder: name + "/" + folder, result: &result) {
                        result.items.append(item)
                    }
                }
            } else if lower == "shows" || lower == "tv shows" || lower == "series" {
                for folder in entries(path) where isDirectory(path + "/" + folder) {
                    if let item = scanShow(folder: name + "/" + folder, result: &result) {
                        result.items.append(item)
                    }
                }
            }
        }
        for item in result.items {
            for v in item.videos { claimed.insert(v.path) }
            for s in item.subtitles { claimed.insert(s.path) }
            for e in item.episodes {
                for v in e.videos { claimed.insert(v.path) }
                for s in e.subtitles { claimed.insert(s.path) }
            }
            for p in [item.poster, item.backdrop].compactMap({ $0 }) { claimed.insert(p) }
            for m in ["title.json", "tvshow.nfo", "movie.nfo"] { claimed.insert(item.folder + "/" + m) }
            claimed.insert(item.folder + "/" + (item.folder as NSString).lastPathComponent + ".nfo")
        }
        // Everything else under the root is reported.
        result.unmatched = allFiles().filter { !claimed.contains($0) && !Self.isIgnorable($0) }.sorted()
        result.items.sort { ($0.kind.rawValue, $0.title, $0.year ?? 0) < ($1.kind.rawValue, $1.title, $1.year ?? 0) }
        // Two folders that make the same id: keep both, numbered.
        var seen: [String: Int] = [:]
        for i in result.items.indices {
            let id = result.items[i].id
            seen[id, default: 0] += 1
            if seen[id]! > 1 { result.items[i].id = String("\(id)-\(seen[id]!)".prefix(64)) }
        }
        return result
    }

    // MARK: Movies

    private func scanMovie(folder: String, result: inout Result) -> Item? {
        let folderName = (folder as NSString).lastPathComponent
        let (title, year) = Self.titleAndYear(folderName)
        var videos: [Video] = []
        var subtitles: [Subtitle] = []
        for name in entries(root + "/" + folder) {
            let rel = folder + "/" + name
            guard isRegularFile(root + "/" + rel) else { continue }
            let (stem, ext) = Self.split(name)
            if Self.videoExtensions.contains(ext) {
                guard let quality = Self.quality(stem: stem, base: folderName) else { continue }
                videos.append(Video(path: rel, size: fileSize(rel), quality: quality.isEmpty ? nil : quality))
            } else if Self.subtitleExtensions.contains(ext), stem.hasPrefix(folderName) {
                subtitles.append(Subtitle(path: rel, language: Self.language(stem: stem, base: folderName)))
            }
        }
        guard !videos.isEmpty else {
            result.warnings.append("\(folder): no video named \"\(folderName).mp4\" (or .mkv, .webm)")
            return nil
        }
        videos.sort { Self.qualityRank($0.quality) > Self.qualityRank($1.quality) }
        var item = Item(
            kind: .movie, id: Self.slug(title, year), title: title, year: year, folder: folder, videos: videos,
            subtitles: subtitles.sorted { $0.path < $1.path }, episodes: [], poster: nil, backdrop: nil, metadata: Metadata())
        applyArtworkAndMetadata(&item, nfoNames: ["movie.nfo", folderName + ".nfo"], result: &result)
        return item
    }

    // MARK: Shows

    private func scanShow(folder: String, result: inout Result) -> Item? {
        let folderName = (folder as NSString).lastPathComponent
        let (title, year) = Self.titleAndYear(folderName)
        var episodes: [String: Episode] = [:]
        var subtitleFiles: [(season: Int, episode: Int, Subtitle)] = []
        for seasonFolder in entries(root + "/" + folder) {
            let seasonRel = folder + "/" + seasonFolder
            guard isDirectory(root + "/" + seasonRel), let seasonNumber = Self.seasonNumber(seasonFolder) else { continue }
            for name in entries(root + "/" + seasonRel) {
                let rel = seasonRel + "/" + name
                guard isRegularFile(root + "/" + rel) else { continue }
                let (stem, ext) = Self.split(name)
                guard let parsed = Self.episode(stem, subtitle: Self.subtitleExtensions.contains(ext)) else { continue }
                guard parsed.season == seasonNumber || seasonNumber == -1 else { continue }
                if Self.videoExtensions.contains(ext) {
                    let key = "\(parsed.season)x\(parsed.episode)"
                    var e = episodes[key] ?? Episode(season: parsed.season, number: parsed.episode, title: nil, videos: [], subtitles: [])
                    if e.title == nil { e.title = parsed.title }
                    e.videos.append(Video(path: rel, size: fileSize(rel), quality: parsed.quality))
                    episodes[key] = e
                } else if Self.subtitleExtensions.contains(ext) {
                    subtitleFiles.append((parsed.season, parsed.episode, Subtitle(path: rel, language: parsed.language ?? "und")))
                }
            }
        }
        for (s, n, sub) in subtitleFiles {
            episodes["\(s)x\(n)"]?.subtitles.append(sub)
        }
        guard !episodes.isEmpty else {
            result.warnings.append("\(folder): no episodes found (expected \"Season 01/\(title) - S01E01 - Title.mp4\")")
            return nil
        }
        let sorted = episodes.values.map { e -> Episode in
            var e = e
            e.videos.sort { Self.qualityRank($0.quality) > Self.qualityRank($1.quality) }
            e.subtitles.sort { $0.path < $1.path }
            return e
        }.sorted { ($0.season, $0.number) < ($1.season, $1.number) }
        var item = Item(
            kind: .series, id: Self.slug(title, year), title: title, year: year, folder: folder, videos: [], subtitles: [],
            episodes: sorted, poster: nil, backdrop: nil, metadata: Metadata())
        applyArtworkAndMetadata(&item, nfoNames: ["tvshow.nfo"], result: &result)
        return item
    }

    // MARK: Artwork and metadata

    private func applyArtworkAndMetadata(_ item: inout Item, nfoNames: [String], result: inout Result) {
        let names = Set(entries(root + "/" + item.folder))
        for ext in ["jpg", "jpeg", "png"] {
            if item.poster == nil, names.contains("poster.\(ext)") { item.poster = item.folder + "/poster.\(ext)" }
            for b in ["fanart", "backdrop", "background"] where item.backdrop == nil && names.contains("\(b).\(ext)") {
                item.backdrop = item.folder + "/\(b).\(ext)"
            }
        }
        if names.contains("title.json") {
            let path = root + "/" + item.folder + "/title.json"
            if let data = FileManager.default.contents(atPath: path), data.count < 1 << 20,
                let m = try? JSONDecoder().decode(Metadata.self, from: data)
            {
                item.metadata = m
            } else {
                result.warnings.append("\(item.folder)/title.json: not readable as metadata; ignored")
            }
        } else if let nfo = nfoNames.first(where: { names.contains($0) }) {
            let path = root + "/" + item.folder + "/" + nfo
            if let data = FileManager.default.contents(atPath: path), data.count < 1 << 20 {
                item.metadata = KodiNFO.parse(String(decoding: data, as: UTF8.self))
            }
        }
        if let t = item.metadata.title, !t.isEmpty { item.title = t }
        if let y = item.metadata.year { item.year = y }
    }

    // MARK: Names

    /// "Sintel (2010)" -> ("Sintel", 2010); "Sintel" -> ("Sintel", nil).
    static func titleAndYear(_ name: String) -> (String, Int?) {
        let t = name.trimmingCharacters(in: .whitespaces)
        if t.hasSuffix(")"), let open = t.lastIndex(of: "(") {
            let inside = t[t.index(after: open)..<t.index(before: t.endIndex)]
            if inside.count == 4, let y = Int(inside) {
                return (t[..<open].trimmingCharacters(in: .whitespaces), y)
            }
        }
        return (t, nil)
    }

    /// The quality label of a movie file: "" for "Title (Year)", "720p" for
    /// "Title (Year) - 720p"; nil when the name is not the folder's.
    static func quality(stem: String, base: String) -> String? {
        guard stem.hasPrefix(base) else { return nil }
        let rest = stem.dropFirst(base.count).trimmingCharacters(in: .whitespaces)
        if rest.isEmpty { return "" }
        guard rest.hasPrefix("-") else { return nil }
        let q = rest.dropFirst().trimmingCharacters(in: .whitespaces)
        return q.isEmpty ? nil : String(q.prefix(20))
    }

    /// "Title (Year).en" -> "en"; "Title (Year)" -> "und".
    static func language(stem: String, base: String) -> String {
        let rest = stem.dropFirst(base.count)
        let parts = rest.split(separator: ".").map(String.init).filter { !$0.isEmpty && $0 != "forced" && $0 != "sdh" }
        guard let l = parts.last, (2...8).contains(l.count), l.allSatisfy({ $0.isLetter || $0 == "-" }) else { return "und" }
        return l.lowercased()
    }

    /// "Season 01" -> 1, "Specials" -> 0.
    static func seasonNumber(_ name: String) -> Int? {
        let l = name.lowercased()
        if l == "specials" { return 0 }
        guard l.hasPrefix("season") else { return nil }
        return Int(l.dropFirst("season".count).trimmingCharacters(in: .whitespaces))
    }

    struct ParsedEpisode {
        var season: Int
        var episode: Int
        var title: String?
        var quality: String?
        var language: String?
    }

    /// "Show - S01E02 - Episode Title - 720p" -> season 1, episode 2, its
    /// title and quality. Subtitles carry a language: "... - Title.en".
    static func episode(_ stem: String, subtitle: Bool = false) -> ParsedEpisode? {
        var stem = stem
        var language: String?
        if subtitle {
            var parts = stem.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            while parts.count > 1, let l = parts.last, ["forced", "sdh", "cc"].contains(l.lowercased()) { parts.removeLast() }
            if parts.count > 1, let l = parts.last, (2...8).contains(l.count), l.allSatisfy({ $0.isLetter || $0 == "-" }) {
                language = l.lowercased()
                parts.removeLast()
            }
            stem = parts.joined(separator: ".")
        }
        let parts = stem.components(separatedBy: " - ")
        guard let idx = parts.firstIndex(where: { seasonEpisode($0) != nil }), let (s, e) = seasonEpisode(parts[idx]) else {
            return nil
        }
        var rest = Array(parts[(idx + 1)...])
        var quality: String?
        if let q = rest.last, Self.looksLikeQuality(q) {
            quality = q
            rest.removeLast()
        }
        let title = rest.joined(separator: " - ").trimmingCharacters(in: .whitespaces)
        return ParsedEpisode(season: s, episode: e, title: title.isEmpty ? nil : title, quality: quality, language: language)
    }

    /// "S01E02" (either case) -> (1, 2).
    static func seasonEpisode(_ text: String) -> (Int, Int)? {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        let cut = t
        guard cut.hasPrefix("S"), let e = cut.firstIndex(of: "E") else { return nil }
        guard let s = Int(cut[cut.index(after: cut.startIndex)..<e]), let n = Int(cut[cut.index(after: e)...]) else { return nil }
        return (s, n)
    }

    static func looksLikeQuality(_ s: String) -> Bool {
        let l = s.lowercased()
        if l.hasSuffix("p"), Int(l.dropLast()) != nil { return true }
        return ["4k", "uhd", "hd", "sd"].contains(l)
    }

    /// Higher first. An untagged file is the title's main version (Plex's
    /// convention), so it comes before tagged alternatives.
    static func qualityRank(_ q: String?) -> Int {
        guard let q = q?.lowercased() else { return Int.max }
        if q == "4k" || q == "uhd" { return 2160 }
        if q.hasSuffix("p"), let n = Int(q.dropLast()) { return n }
        return 1
    }

    /// "The Example Show", 2024 -> "the-example-show-2024".
    public static func slug(_ title: String, _ year: Int?) -> String {
        let folded = title.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil).lowercased()
        var out = ""
        var dash = false
        for ch in folded.unicodeScalars {
            if ("a"..."z").contains(ch) || ("0"..."9").contains(ch) {
                out.unicodeScalars.append(ch)
                dash = false
            } else if !dash, !out.isEmpty {
                out += "-"
                dash = true
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        if out.isEmpty { out = "title" }
        if let year { out += "-\(year)" }
        return String(out.prefix(64))
    }

    static func split(_ name: String) -> (stem: String, ext: String) {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return (name, "") }
        return (String(name[..<dot]), name[name.index(after: dot)...].lowercased())
    }

    static func isIgnorable(_ rel: String) -> Bool {
        let name = (rel as NSString).lastPathComponent
        return name.hasPrefix(".") || name == "Thumbs.db" || name == "desktop.ini"
    }

    // MARK: Files

    private func entries(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    private func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    private func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    private func fileSize(_ rel: String) -> Int64 {
        var st = stat()
        return lstat(root + "/" + rel, &st) == 0 ? Int64(st.st_size) : 0
    }

    private func allFiles() -> [String] {
        var out: [String] = []
        func walk(_ rel: String) {
            let abs = rel.isEmpty ? root : root + "/" + rel
            for name in (try? FileManager.default.contentsOfDirectory(atPath: abs)) ?? [] {
                let r = rel.isEmpty ? name : rel + "/" + name
                if isDirectory(root + "/" + r) { walk(r) } else { out.append(r) }
            }
        }
        walk("")
        return out
    }
}

/// The few fields of a Kodi .nfo that a catalog uses. Not a full XML parser:
/// it reads `<tag>text</tag>` pairs and unescapes the five XML entities.
enum KodiNFO {
    static func parse(_ xml: String) -> LibraryScanner.Metadata {
        var m = LibraryScanner.Metadata()
        m.title = first("title", xml)
        m.originalTitle = first("originaltitle", xml)
        m.synopsis = first("plot", xml) ?? first("outline", xml)
        m.year = first("year", xml).flatMap { Int($0) }
        m.runtime = first("runtime", xml).flatMap { Int($0) }
        m.rating = first("mpaa", xml)
        let genres = all("genre", xml)
        m.genres = genres.isEmpty ? nil : genres
        return m
    }

    static func first(_ tag: String, _ xml: String) -> String? { all(tag, xml).first }

    static func all(_ tag: String, _ xml: String) -> [String] {
        var out: [String] = []
        var rest = xml[...]
        while let open = rest.range(of: "<\(tag)>"), let close = rest.range(of: "</\(tag)>", range: open.upperBound..<rest.endIndex) {
            let text = unescape(String(rest[open.upperBound..<close.lowerBound])).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty { out.append(text) }
            rest = rest[close.upperBound...]
        }
        return out
    }

    static func unescape(_ s: String) -> String {
        s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
