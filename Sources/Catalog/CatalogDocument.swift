public import Foundation
import TorrentKit

/// catalog.json, schema 1 (docs/channel-format.md §4). Decoding checks types;
/// `validate` checks everything else a reader must refuse.
public struct CatalogDocument: Codable, Sendable, Equatable {
    public static let schemaVersion = 1
    public static let maxBytes = 32 << 20

    public var schema: Int
    public var channel: ChannelInfo
    public var sequence: Int64
    public var issued: String
    public var expires: String
    public var titles: [Title]

    public init(
        schema: Int = CatalogDocument.schemaVersion, channel: ChannelInfo, sequence: Int64, issued: Date, expires: Date, titles: [Title]
    ) {
        self.schema = schema
        self.channel = channel
        self.sequence = sequence
        self.issued = RFC3339.string(issued)
        self.expires = RFC3339.string(expires)
        self.titles = titles
    }

    public struct ChannelInfo: Codable, Sendable, Equatable {
        /// 64 hex digits; empty for the bundled local channel.
        public var key: String
        public var name: String
        public var description: String?

        public init(key: String, name: String, description: String? = nil) {
            self.key = key
            self.name = name
            self.description = description
        }
    }

    public enum Kind: String, Codable, Sendable, Equatable {
        case movie, series
    }

    public struct Title: Codable, Sendable, Equatable {
        public var id: String
        public var kind: Kind
        public var title: String
        public var originalTitle: String?
        public var year: Int?
        public var synopsis: String?
        public var genres: [String]?
        /// Minutes.
        public var runtime: Int?
        public var rating: String?
        public var languages: [String]?
        public var license: String?
        public var poster: String?
        public var backdrop: String?
        public var added: String?
        /// Movies.
        public var sources: [Source]?
        /// Series.
        public var seasons: [Season]?

        public init(id: String, kind: Kind, title: String) {
            self.id = id
            self.kind = kind
            self.title = title
        }

        /// Every source of the title, episodes' included.
        public var allSources: [Source] {
            (sources ?? []) + (seasons ?? []).flatMap { $0.episodes.flatMap(\.sources) }
        }
    }

    public struct Season: Codable, Sendable, Equatable {
        public var number: Int
        public var episodes: [Episode]

        public init(number: Int, episodes: [Episode]) {
            self.number = number
            self.episodes = episodes
        }
    }

    public struct Episode: Codable, Sendable, Equatable {
        public var number: Int
        public var title: String?
        public var synopsis: String?
        public var sources: [Source]

        public init(number: Int, title: String? = nil, synopsis: String? = nil, sources: [Source]) {
            self.number = number
            self.title = title
            self.synopsis = synopsis
            self.sources = sources
        }
    }

    public struct Source: Codable, Sendable, Equatable {
        public var infohash: String
        /// The video's index in the torrent; nil: its largest video file.
        public var file: Int?
        /// Bytes; nil when not known (a listing of someone else's torrent).
        public var size: Int64?
        public var quality: String?
        public var languages: [String]?
        public var subtitles: [Subtitle]?
        public var torrent: String?
        /// HTTP mirrors of the torrent's files (BEP 19), for a viewer that
        /// finds no peers.
        public var webSeeds: [String]?
        /// Where the .torrent itself can be downloaded over HTTP(S).
        public var torrentURL: String?

        public init(infohash: String, file: Int?, size: Int64?, quality: String? = nil) {
            self.infohash = infohash
            self.file = file
            self.size = size
            self.quality = quality
        }
    }

    public struct Subtitle: Codable, Sendable, Equatable {
        public var language: String
        public var label: String?
        public var path: String

        public init(language: String, label: String? = nil, path: String) {
            self.language = language
            self.label = label
            self.path = path
        }
    }

    // MARK: Reading and writing

    /// Parses catalog.json. Throws `.malformed` or `.tooLarge` with one line.
    public static func decode(_ bytes: [UInt8]) throws -> CatalogDocument {
        guard bytes.count <= maxBytes else {
            throw CatalogError(.tooLarge, "the catalog is \(bytes.count) bytes; at most \(maxBytes) are allowed")
        }
        do {
            return try JSONDecoder().decode(CatalogDocument.self, from: Data(bytes))
        } catch let e as DecodingError {
            throw CatalogError(.malformed, "the catalog is not valid: \(Self.describe(e))")
        } catch {
            throw CatalogError(.malformed, "the catalog is not valid JSON")
        }
    }

    public func encoded() throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return Array(try e.encode(self))
    }

    private static func describe(_ e: DecodingError) -> String {
        func path(_ c: [any CodingKey]) -> String {
            c.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch e {
        case let .keyNotFound(k, c): return "\(path(c.codingPath + [k])) is missing"
        case let .typeMismatch(_, c), let .valueNotFound(_, c): return "\(path(c.codingPath)) has the wrong type"
        case let .dataCorrupted(c): return c.codingPath.isEmpty ? "not JSON" : "\(path(c.codingPath)) is not valid"
        @unknown default: return "unreadable"
        }
    }

    // MARK: Validation

    /// Checks every rule of docs/channel-format.md §4. `key`: the channel key
    /// it was found under (nil for the local channel); `sequence`: the DHT
    /// item's seq, if it came from the DHT.
    public func validate(key: [UInt8]?, sequence expected: Int64?) throws {
        func bad(_ m: String) -> CatalogError { CatalogError(.malformed, "the catalog is not valid: \(m)") }
        guard schema == Self.schemaVersion else { throw bad("schema \(schema) is not supported (this Matinee reads schema 1)") }
        if let key {
            guard channel.key.lowercased() == Hex.hex(key) else {
                throw CatalogError(.wrongKey, "the catalog names another channel key than the one it was found under")
            }
        }
        try Self.text(channel.name, "channel.name", min: 1, max: 100)
        try Self.text(channel.description, "channel.description", max: 2000)
        guard sequence >= 1, sequence < 1 << 53 else { throw bad("sequence \(sequence) is out of range") }
        if let expected, expected != sequence {
            throw bad("its sequence \(sequence) differs from the DHT pointer's \(expected)")
        }
        guard let i = RFC3339.date(issued), let x = RFC3339.date(expires) else { throw bad("issued/expires are not RFC 3339 times") }
        guard i < x else { throw bad("it expires before it was issued") }
        guard titles.count <= 20_000 else { throw bad("more than 20000 titles") }
        var ids = Set<String>()
        for (n, t) in titles.enumerated() {
            let at = "titles[\(n)]"
            guard t.id.utf8.count >= 1, t.id.utf8.count <= 64,
                t.id.utf8.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == 45 })
            else { throw bad("\(at).id must be 1-64 characters of a-z, 0-9 and -") }
            guard ids.insert(t.id).inserted else { throw bad("the id \(t.id) appears twice") }
            try Self.text(t.title, "\(at).title", min: 1, max: 300)
            try Self.text(t.originalTitle, "\(at).originalTitle", max: 300)
            try Self.text(t.synopsis, "\(at).synopsis", max: 10_000)
            try Self.text(t.rating, "\(at).rating", max: 20)
            try Self.text(t.license, "\(at).license", max: 200)
            if let y = t.year, !(1870...2200).contains(y) { throw bad("\(at).year \(y) is out of range") }
            if let r = t.runtime, !(0...100_000).contains(r) { throw bad("\(at).runtime is out of range") }
            if let g = t.genres {
                guard g.count <= 20 else { throw bad("\(at) has more than 20 genres") }
                for x in g { try Self.text(x, "\(at).genres", min: 1, max: 50) }
            }
            for l in t.languages ?? [] { try Self.text(l, "\(at).languages", min: 1, max: 35) }
            if let a = t.added, RFC3339.date(a) == nil { throw bad("\(at).added is not an RFC 3339 time") }
            try CatalogPath.check(t.poster, at + ".poster")
            try CatalogPath.check(t.backdrop, at + ".backdrop")
            switch t.kind {
            case .movie:
                guard t.seasons == nil else { throw bad("\(at) is a movie with seasons") }
                try Self.sources(t.sources ?? [], at + ".sources")
            case .series:
                guard t.sources == nil, let seasons = t.seasons, !seasons.isEmpty else {
                    throw bad("\(at) is a series without seasons")
                }
                for (sn, s) in seasons.enumerated() {
                    let sat = "\(at).seasons[\(sn)]"
                    guard (0...999).contains(s.number) else { throw bad("\(sat).number is out of range") }
                    guard (1...500).contains(s.episodes.count) else { throw bad("\(sat) must have 1-500 episodes") }
                    for (en, e) in s.episodes.enumerated() {
                        let eat = "\(sat).episodes[\(en)]"
                        guard (1...9999).contains(e.number) else { throw bad("\(eat).number is out of range") }
                        try Self.text(e.title, eat + ".title", max: 300)
                        try Self.text(e.synopsis, eat + ".synopsis", max: 10_000)
                        try Self.sources(e.sources, eat + ".sources")
                    }
                }
            }
        }
    }

    /// After `expires`: still shown, marked stale.
    public func isExpired(at now: Date = Date()) -> Bool {
        guard let x = RFC3339.date(expires) else { return true }
        return now >= x
    }

    /// Every path the catalog refers to (posters, subtitles, .torrents).
    public var referencedPaths: [String] {
        var out: [String] = []
        for t in titles {
            if let p = t.poster { out.append(p) }
            if let p = t.backdrop { out.append(p) }
            for s in t.allSources {
                if let p = s.torrent { out.append(p) }
                out += (s.subtitles ?? []).map(\.path)
            }
        }
        return out
    }

    private static func sources(_ list: [Source], _ at: String) throws {
        func bad(_ m: String) -> CatalogError { CatalogError(.malformed, "the catalog is not valid: \(m)") }
        guard (1...20).contains(list.count) else { throw bad("\(at) must list 1-20 sources") }
        for (n, s) in list.enumerated() {
            let sat = "\(at)[\(n)]"
            guard s.infohash.utf8.count == 40, Hex.decode(s.infohash) != nil else { throw bad("\(sat).infohash must be 40 hex digits") }
            if let f = s.file, !(0..<1_000_000).contains(f) { throw bad("\(sat).file is out of range") }
            if let z = s.size, z < 0 { throw bad("\(sat).size is negative") }
            for u in (s.webSeeds ?? []) + [s.torrentURL].compactMap({ $0 }) {
                guard u.utf8.count <= 2000, let url = URL(string: u), ["http", "https"].contains(url.scheme?.lowercased() ?? "") else {
                    throw bad("\(sat) has a web seed or torrent URL that is not http(s)")
                }
            }
            guard (s.webSeeds ?? []).count <= 10 else { throw bad("\(sat) has more than 10 web seeds") }
            try text(s.quality, sat + ".quality", max: 20)
            for l in s.languages ?? [] { try text(l, sat + ".languages", min: 1, max: 35) }
            guard (s.subtitles ?? []).count <= 50 else { throw bad("\(sat) has more than 50 subtitles") }
            for sub in s.subtitles ?? [] {
                try text(sub.language, sat + ".subtitles.language", min: 1, max: 35)
                try text(sub.label, sat + ".subtitles.label", max: 100)
                try CatalogPath.check(sub.path, sat + ".subtitles.path")
            }
            try CatalogPath.check(s.torrent, sat + ".torrent")
        }
    }

    /// Length in characters, no control characters (text is shown as text,
    /// but a terminal would still obey an escape sequence), and no invisible
    /// format characters: a right-to-left override in a title reverses the
    /// text the UI shows after it, and zero-width ones make look-alikes.
    /// `at` is worked out only for an error: building every field's path
    /// for every title, and counting characters (grapheme breaking) where
    /// the bytes tell, were most of the 2 s that validating 100,000 titles
    /// took (docs/benchmarks.md).
    private static func text(_ s: String?, _ at: @autoclosure () -> String, min: Int = 0, max: Int) throws {
        guard let s else { return }
        // Characters never outnumber UTF-8 bytes, and a string of one byte
        // or more has a character.
        let bytes = s.utf8.count
        if !(min <= 1 && bytes >= min && bytes <= max) {
            let n = s.count
            guard n >= min, n <= max else {
                throw CatalogError(.malformed, "the catalog is not valid: \(at()) must be \(min)-\(max) characters")
            }
        }
        // Printable ASCII, tabs and new lines: no control or format
        // character can be in it.
        if s.utf8.allSatisfy({ (0x20..<0x7f).contains($0) || $0 == 0x0A || $0 == 0x09 }) { return }
        if s.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || (0x7f...0x9f).contains($0.value) }) {
            throw CatalogError(.malformed, "the catalog is not valid: \(at()) contains control characters")
        }
        if let f = s.unicodeScalars.first(where: isHiddenFormat) {
            let code = "U+" + String(f.value, radix: 16, uppercase: true).leftPadded(to: 4)
            throw CatalogError(.malformed, "the catalog is not valid: \(at()) contains an invisible format character (\(code))")
        }
    }

    /// Unicode format characters (bidirectional overrides, embeddings and
    /// isolates, zero-width spaces, word joiners, byte-order marks...), but
    /// the zero-width joiner and non-joiner, which Persian, Indic scripts and
    /// emoji need.
    static func isHiddenFormat(_ u: Unicode.Scalar) -> Bool {
        u.properties.generalCategory == .format && u.value != 0x200C && u.value != 0x200D
    }
}

/// A path inside the catalog torrent's folder (docs/channel-format.md §3).
public enum CatalogPath {
    public static func check(_ p: String?, _ at: @autoclosure () -> String) throws {
        guard let p else { return }
        guard isSafe(p) else {
            throw CatalogError(
                .unsafePath, "the catalog is not valid: \(at()) is not a safe path inside the catalog (\(p.debugDescription))")
        }
    }

    public static func isSafe(_ p: String) -> Bool {
        guard !p.isEmpty, p.utf8.count <= 255, !p.hasPrefix("/"), !p.contains("\\") else { return false }
        if p.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) { return false }
        return p.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { $0 != "" && $0 != "." && $0 != ".." }
    }
}

extension Hex {
    static func hex(_ b: [UInt8]) -> String { encode(b) }
}

extension String {
    fileprivate func leftPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
