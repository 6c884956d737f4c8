/// The stored form of a title, the `document` column of `title`: JSON as
/// `JSONEncoder` writes it with sorted keys, so that an older version reads
/// it after a rollback (docs/release-format.md §5), but written and read by
/// hand. With `JSONEncoder` and `JSONDecoder` that column was about half of
/// a catalog import and half of every search (docs/benchmarks.md).
///
/// The writer gives the same bytes as `JSONEncoder` with `.sortedKeys`, and
/// the reader the same value as `JSONDecoder` (both tested on titles with
/// every field set). The reader knows only that form: a document in any
/// other (a number with a fraction or an exponent, a key twice, anything
/// unusual) throws `Unreadable`, and the caller falls back to `JSONDecoder`.
enum StoredTitle {
    struct Unreadable: Error {}

    static func encode(_ t: CatalogDocument.Title) -> String {
        var w = Writer()
        w.title(t)
        return String(decoding: w.out, as: UTF8.self)
    }

    /// `s` as a JSON string, quotes included.
    static func jsonString(_ s: String) -> String {
        var w = Writer()
        w.string(s)
        return String(decoding: w.out, as: UTF8.self)
    }

    static func decode(_ text: String) throws -> CatalogDocument.Title {
        var text = text
        return try text.withUTF8 { bytes in
            var r = Reader(bytes: bytes)
            let t = try r.title()
            r.space()
            guard r.at == bytes.count else { throw Unreadable() }
            return t
        }
    }

    // MARK: Writing

    /// Keys in the order `.sortedKeys` gives (byte order; all ASCII), nil
    /// fields left out as the synthesized `encodeIfPresent` does.
    struct Writer {
        var out: [UInt8] = []

        init() { out.reserveCapacity(1024) }

        private var first = true

        private mutating func key(_ k: StaticString) {
            out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            first = false
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount))
            out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }

        private mutating func object(_ body: (inout Writer) -> Void) {
            let outer = first
            first = true
            body(&self)
            if first { out.append(UInt8(ascii: "{")) }
            out.append(UInt8(ascii: "}"))
            first = outer
        }

        private mutating func array<T>(_ items: [T], _ each: (inout Writer, T) -> Void) {
            out.append(UInt8(ascii: "["))
            for (n, item) in items.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                each(&self, item)
            }
            out.append(UInt8(ascii: "]"))
        }

        mutating func string(_ s: String) {
            out.append(UInt8(ascii: "\""))
            var s = s
            s.withUTF8 { bytes in
                // Runs of bytes that need no escape are copied whole.
                var run = 0
                for (i, b) in bytes.enumerated() {
                    let escape: [UInt8]
                    switch b {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): escape = [UInt8(ascii: "\\"), b]
                    case 0x08: escape = [UInt8(ascii: "\\"), UInt8(ascii: "b")]
                    case 0x09: escape = [UInt8(ascii: "\\"), UInt8(ascii: "t")]
                    case 0x0A: escape = [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                    case 0x0C: escape = [UInt8(ascii: "\\"), UInt8(ascii: "f")]
                    case 0x0D: escape = [UInt8(ascii: "\\"), UInt8(ascii: "r")]
                    case 0..<0x20:
                        let hex = Array("0123456789abcdef".utf8)
                        escape = Array("\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 15)]]
                    default: continue
                    }
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<i]))
                    out.append(contentsOf: escape)
                    run = i + 1
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run...]))
            }
            out.append(UInt8(ascii: "\""))
        }

        private mutating func number<N: BinaryInteger>(_ n: N) { out.append(contentsOf: String(n).utf8) }

        private mutating func field(_ k: StaticString, _ v: String?) {
            if let v {
                key(k)
                string(v)
            }
        }

        private mutating func field<N: BinaryInteger>(_ k: StaticString, _ v: N?) {
            if let v {
                key(k)
                number(v)
            }
        }

        private mutating func field(_ k: StaticString, _ v: [String]?) {
            if let v {
                key(k)
                array(v) { $0.string($1) }
            }
        }

        mutating func title(_ t: CatalogDocument.Title) {
            object { w in
                w.field("added", t.added)
                w.field("backdrop", t.backdrop)
                w.field("genres", t.genres)
                w.field("id", t.id)
                w.field("kind", t.kind.rawValue)
                w.field("languages", t.languages)
                w.field("license", t.license)
                w.field("originalTitle", t.originalTitle)
                w.field("poster", t.poster)
                w.field("rating", t.rating)
                w.field("runtime", t.runtime)
                if let seasons = t.seasons {
                    w.key("seasons")
                    w.array(seasons) { $0.season($1) }
                }
                if let sources = t.sources {
                    w.key("sources")
                    w.array(sources) { $0.source($1) }
                }
                w.field("synopsis", t.synopsis)
                w.field("title", t.title)
                w.field("year", t.year)
            }
        }

        private mutating func season(_ s: CatalogDocument.Season) {
            object { w in
                w.key("episodes")
                w.array(s.episodes) { $0.episode($1) }
                w.field("number", s.number)
            }
        }

        private mutating func episode(_ e: CatalogDocument.Episode) {
            object { w in
                w.field("number", e.number)
                w.key("sources")
                w.array(e.sources) { $0.source($1) }
                w.field("synopsis", e.synopsis)
                w.field("title", e.title)
            }
        }

        private mutating func source(_ s: CatalogDocument.Source) {
            object { w in
                w.field("file", s.file)
                w.field("infohash", s.infohash)
                w.field("languages", s.languages)
                w.field("quality", s.quality)
                w.field("size", s.size)
                if let subs = s.subtitles {
                    w.key("subtitles")
                    w.array(subs) { $0.subtitle($1) }
                }
                w.field("torrent", s.torrent)
                w.field("torrentURL", s.torrentURL)
                w.field("webSeeds", s.webSeeds)
            }
        }

        private mutating func subtitle(_ s: CatalogDocument.Subtitle) {
            object { w in
                w.field("label", s.label)
                w.field("language", s.language)
                w.field("path", s.path)
            }
        }
    }

    // MARK: Reading

    struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var at = 0

        mutating func space() {
            while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 { at += 1 }
        }

        private mutating func expect(_ b: UInt8) throws {
            space()
            guard at < bytes.count, bytes[at] == b else { throw Unreadable() }
            at += 1
        }

        /// Consumes `null` if it is next.
        private mutating func null() -> Bool {
            space()
            guard at + 4 <= bytes.count, bytes[at] == UInt8(ascii: "n"), bytes[at + 1] == UInt8(ascii: "u"),
                bytes[at + 2] == UInt8(ascii: "l"), bytes[at + 3] == UInt8(ascii: "l")
            else { return false }
            at += 4
            return true
        }

        /// Calls `body` with each key, the reader at its value. Keys must
        /// come in the order `.sortedKeys` writes them (which also refuses
        /// a key twice); any other order is left to the fallback.
        private mutating func object(_ body: (inout Reader, String) throws -> Void) throws {
            try expect(UInt8(ascii: "{"))
            space()
            if at < bytes.count, bytes[at] == UInt8(ascii: "}") {
                at += 1
                return
            }
            var last = ""
            while true {
                let k = try string()
                guard last.isEmpty || last < k else { throw Unreadable() }
                last = k
                try expect(UInt8(ascii: ":"))
                try body(&self, k)
                space()
                guard at < bytes.count else { throw Unreadable() }
                at += 1
                if bytes[at - 1] == UInt8(ascii: "}") { return }
                guard bytes[at - 1] == UInt8(ascii: ",") else { throw Unreadable() }
            }
        }

        private mutating func array<T>(_ each: (inout Reader) throws -> T) throws -> [T] {
            try expect(UInt8(ascii: "["))
            var items: [T] = []
            space()
            if at < bytes.count, bytes[at] == UInt8(ascii: "]") {
                at += 1
                return items
            }
            while true {
                items.append(try each(&self))
                space()
                guard at < bytes.count else { throw Unreadable() }
                at += 1
                if bytes[at - 1] == UInt8(ascii: "]") { return items }
                guard bytes[at - 1] == UInt8(ascii: ",") else { throw Unreadable() }
            }
        }

        private mutating func string() throws -> String {
            try expect(UInt8(ascii: "\""))
            let start = at
            // The common case: no escapes, one slice. The text is valid
            // UTF-8 (a Swift string), and a slice between two ASCII quotes
            // of it is too, so it needs no second check.
            while at < bytes.count, bytes[at] != UInt8(ascii: "\""), bytes[at] != UInt8(ascii: "\\"), bytes[at] >= 0x20 { at += 1 }
            guard at < bytes.count else { throw Unreadable() }
            if bytes[at] == UInt8(ascii: "\"") {
                at += 1
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at - 1]), as: UTF8.self)
            }
            var out = Array(bytes[start..<at])
            while true {
                guard at < bytes.count else { throw Unreadable() }
                let b = bytes[at]
                at += 1
                switch b {
                case UInt8(ascii: "\""):
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard at < bytes.count else { throw Unreadable() }
                    let e = bytes[at]
                    at += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800..<0xDC00).contains(scalar) {
                            // The low half right after, with nothing between.
                            guard at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else {
                                throw Unreadable()
                            }
                            at += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw Unreadable() }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw Unreadable() }
                        out.append(contentsOf: String(Character(u)).utf8)
                    default: throw Unreadable()
                    }
                case 0..<0x20: throw Unreadable()
                default: out.append(b)
                }
            }
        }

        private mutating func hex4() throws -> UInt32 {
            guard at + 4 <= bytes.count else { throw Unreadable() }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[at]
                at += 1
                let d: UInt8
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
                default: throw Unreadable()
                }
                v = v << 4 | UInt32(d)
            }
            return v
        }

        /// A plain integer literal (no fraction, no exponent, no leading zero), in range.
        private mutating func integer<N: FixedWidthInteger>(_: N.Type = N.self) throws -> N {
            space()
            let negative = at < bytes.count && bytes[at] == UInt8(ascii: "-")
            if negative { at += 1 }
            let start = at
            var v: N = 0
            while at < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) {
                let d = N(bytes[at] - UInt8(ascii: "0"))
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (s, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
                guard !o1, !o2 else { throw Unreadable() }
                v = s
                at += 1
            }
            guard at > start, at - start == 1 || bytes[start] != UInt8(ascii: "0") else { throw Unreadable() }
            if at < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[at]) { throw Unreadable() }
            return v
        }

        private mutating func optional<T>(_ read: (inout Reader) throws -> T) throws -> T? {
            null() ? nil : try read(&self)
        }

        private mutating func strings() throws -> [String] { try array { r in try r.string() } }

        mutating func title() throws -> CatalogDocument.Title {
            var id: String?
            var kind: CatalogDocument.Kind?
            var name: String?
            var t = CatalogDocument.Title(id: "", kind: .movie, title: "")
            try object { r, k in
                switch k {
                case "added": t.added = try r.optional { r in try r.string() }
                case "backdrop": t.backdrop = try r.optional { r in try r.string() }
                case "genres": t.genres = try r.optional { r in try r.strings() }
                case "id": id = try r.string()
                case "kind":
                    guard let v = CatalogDocument.Kind(rawValue: try r.string()) else { throw Unreadable() }
                    kind = v
                case "languages": t.languages = try r.optional { r in try r.strings() }
                case "license": t.license = try r.optional { r in try r.string() }
                case "originalTitle": t.originalTitle = try r.optional { r in try r.string() }
                case "poster": t.poster = try r.optional { r in try r.string() }
                case "rating": t.rating = try r.optional { r in try r.string() }
                case "runtime": t.runtime = try r.optional { r in try r.integer() }
                case "seasons": t.seasons = try r.optional { r in try r.array { r in try r.season() } }
                case "sources": t.sources = try r.optional { r in try r.array { r in try r.source() } }
                case "synopsis": t.synopsis = try r.optional { r in try r.string() }
                case "title": name = try r.string()
                case "year": t.year = try r.optional { r in try r.integer() }
                // A key this version does not know (a newer one wrote
                // it): left to JSONDecoder, which skips it.
                default: throw Unreadable()
                }
            }
            guard let id, let kind, let name else { throw Unreadable() }
            t.id = id
            t.kind = kind
            t.title = name
            return t
        }

        private mutating func season() throws -> CatalogDocument.Season {
            var number: Int?
            var episodes: [CatalogDocument.Episode]?
            try object { r, k in
                switch k {
                case "number": number = try r.integer()
                case "episodes": episodes = try r.array { r in try r.episode() }
                default: throw Unreadable()
                }
            }
            guard let number, let episodes else { throw Unreadable() }
            return CatalogDocument.Season(number: number, episodes: episodes)
        }

        private mutating func episode() throws -> CatalogDocument.Episode {
            var number: Int?
            var sources: [CatalogDocument.Source]?
            var title: String?
            var synopsis: String?
            try object { r, k in
                switch k {
                case "number": number = try r.integer()
                case "sources": sources = try r.array { r in try r.source() }
                case "synopsis": synopsis = try r.optional { r in try r.string() }
                case "title": title = try r.optional { r in try r.string() }
                default: throw Unreadable()
                }
            }
            guard let number, let sources else { throw Unreadable() }
            return CatalogDocument.Episode(number: number, title: title, synopsis: synopsis, sources: sources)
        }

        private mutating func source() throws -> CatalogDocument.Source {
            var infohash: String?
            var s = CatalogDocument.Source(infohash: "", file: nil, size: nil)
            try object { r, k in
                switch k {
                case "file": s.file = try r.optional { r in try r.integer() }
                case "infohash": infohash = try r.string()
                case "languages": s.languages = try r.optional { r in try r.strings() }
                case "quality": s.quality = try r.optional { r in try r.string() }
                case "size": s.size = try r.optional { r in try r.integer() }
                case "subtitles":
                    s.subtitles = try r.optional { r in try r.array { r in try r.subtitle() } }
                case "torrent": s.torrent = try r.optional { r in try r.string() }
                case "torrentURL": s.torrentURL = try r.optional { r in try r.string() }
                case "webSeeds": s.webSeeds = try r.optional { r in try r.strings() }
                default: throw Unreadable()
                }
            }
            guard let infohash else { throw Unreadable() }
            s.infohash = infohash
            return s
        }

        private mutating func subtitle() throws -> CatalogDocument.Subtitle {
            var language: String?
            var label: String?
            var path: String?
            try object { r, k in
                switch k {
                case "label": label = try r.optional { r in try r.string() }
                case "language": language = try r.string()
                case "path": path = try r.string()
                default: throw Unreadable()
                }
            }
            guard let language, let path else { throw Unreadable() }
            return CatalogDocument.Subtitle(language: language, label: label, path: path)
        }
    }
}
