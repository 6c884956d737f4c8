import Foundation
import GRDB
import TestSupport
import Testing
import TorrentKit

@testable import Catalog

/// Every character class JSON treats apart: quotes, backslash, slash, the
/// control characters, non-ASCII, a character outside the BMP and the two
/// line separators JavaScript minds.
private let awkward: String = {
    var s = "quote \" backslash \\ slash / "
    for u in 0..<0x20 { s.unicodeScalars.append(Unicode.Scalar(u)!) }
    return s + " \u{7f} é ñ 日本 😀 \u{2028}\u{2029} end"
}()

/// A title with every field set, at every level, and odd text in each.
private func fullTitle(_ n: Int = 0) -> CatalogDocument.Title {
    var sub = CatalogDocument.Subtitle(language: "fr", label: "Français \(awkward)", path: "subs/\(n).srt")
    sub.label = "Français \(n) \(awkward)"
    var src = CatalogDocument.Source(
        infohash: String(repeating: "ab", count: 20), file: n, size: Int64(1) << 40, quality: "1080p \(awkward)")
    src.languages = ["en", awkward]
    src.subtitles = [sub, CatalogDocument.Subtitle(language: "en", label: "", path: "/x")]
    src.torrent = "torrents/\(n).torrent"
    src.webSeeds = ["https://example.org/a/", "http://[::1]:8080/b?c=d&e=\"f\""]
    src.torrentURL = "https://example.org/\(n).torrent"
    var t = CatalogDocument.Title(id: "title-\(n)", kind: n % 2 == 0 ? .movie : .series, title: "Title \(n) \(awkward)")
    t.originalTitle = "Originaltitel \(awkward)"
    t.year = -n
    t.synopsis = String(repeating: awkward, count: 3)
    t.genres = ["Drama", "Science Fiction", ""]
    t.runtime = Int.max
    t.rating = "PG-13"
    t.languages = []
    t.license = "CC BY 4.0"
    t.poster = "art/\(n)/poster.jpg"
    t.backdrop = "art/\(n)/backdrop.jpg"
    t.added = "2026-12-03T10:00:00Z"
    var other = src
    other.size = Int64.min
    other.file = 0
    t.sources = [src, other]
    t.seasons = [
        CatalogDocument.Season(
            number: 1,
            episodes: [
                CatalogDocument.Episode(number: 1, title: "Pilot \(awkward)", synopsis: awkward, sources: [src]),
                CatalogDocument.Episode(number: 2, title: "", synopsis: "", sources: []),
            ]),
        CatalogDocument.Season(number: 0, episodes: []),
    ]
    return t
}

/// The names of fields that are nil anywhere in `value` (optionals, found by reflection).
private func nilFields(_ value: Any, at path: String = "") -> [String] {
    var out: [String] = []
    for child in Mirror(reflecting: value).children {
        let name = path + "." + (child.label ?? "?")
        let m = Mirror(reflecting: child.value)
        if m.displayStyle == .optional {
            if let inner = m.children.first { out += nilFields(inner.value, at: name) } else { out.append(name) }
        } else if m.displayStyle == .collection {
            for (i, item) in m.children.enumerated() { out += nilFields(item.value, at: "\(name)[\(i)]") }
        } else if m.displayStyle == .struct {
            out += nilFields(child.value, at: name)
        }
    }
    return out
}

private func jsonEncoder(_ t: CatalogDocument.Title) throws -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys]
    return String(decoding: try e.encode(t), as: UTF8.self)
}

@Suite("Stored documents")
struct StoredTitleTests {
    @Test("the test title sets every field at every level, so a field the hand-written coder misses fails the next tests")
    func everyFieldIsSet() {
        #expect(nilFields(fullTitle()) == [])
    }

    @Test("written as JSONEncoder with sorted keys writes it, byte for byte, with every field set and with none")
    func sameBytesAsJSONEncoder() throws {
        for t in [fullTitle(0), fullTitle(1), CatalogDocument.Title(id: "a", kind: .movie, title: "")] {
            #expect(StoredTitle.encode(t) == (try jsonEncoder(t)))
        }
        var empty = CatalogDocument.Title(id: "e", kind: .series, title: "E")
        empty.seasons = [CatalogDocument.Season(number: 1, episodes: [])]
        empty.sources = []
        empty.genres = []
        #expect(StoredTitle.encode(empty) == (try jsonEncoder(empty)))
    }

    @Test("read back as JSONDecoder reads it: what this version and older ones wrote")
    func sameValueAsJSONDecoder() throws {
        for t in [fullTitle(0), fullTitle(1), CatalogDocument.Title(id: "a", kind: .movie, title: "")] {
            let stored = StoredTitle.encode(t)
            #expect(try StoredTitle.decode(stored) == t)
            #expect(try JSONDecoder().decode(CatalogDocument.Title.self, from: Data(stored.utf8)) == t)
            // What JSONEncoder wrote in other sorted forms (pretty, slashes as they are).
            for options: JSONEncoder.OutputFormatting in [[.prettyPrinted, .sortedKeys], [.withoutEscapingSlashes, .sortedKeys]] {
                let e = JSONEncoder()
                e.outputFormatting = options
                #expect(try StoredTitle.decode(String(decoding: try e.encode(t), as: UTF8.self)) == t)
            }
            // Keys in any other order are left to JSONDecoder.
            let unsorted = String(decoding: try JSONEncoder().encode(t), as: UTF8.self)
            #expect(CatalogStore.decodeDocument(unsorted) == t)
        }
    }

    @Test("escapes JSONEncoder does not write are read too: \\u with surrogate pairs, upper-case hex, \\/")
    func escapes() throws {
        let t = try StoredTitle.decode(#"{"id":"a","kind":"movie","title":"\u00e9\u00C9\ud83d\ude00\/\"\\\b\f\n\r\t\u0000"}"#)
        #expect(t.title == "éÉ😀/\"\\\u{8}\u{c}\n\r\t\u{0}")
    }

    @Test("any other form is left to JSONDecoder, which gives the same title; what neither reads is nil")
    func fallback() throws {
        let forms: [(String, String?)] = [
            (#"{"id":"a","kind":"movie","title":"A","year":2010.0}"#, "a number with a fraction"),
            (#"{"id":"a","kind":"movie","title":"A","year":2e3}"#, "an exponent"),
            (#"{"id":"a","kind":"movie","title":"A","newField":{"x":[1,2]}}"#, "a key a newer version added"),
            (#"{"id":"a","kind":"movie","title":"A","title":"B"}"#, "a key twice"),
            (#"{"kind":"movie","id":"a","title":"A"}"#, "keys out of order"),
            (#"{"id":"a","kind":"movie","title":"\ud83d \ude00"}"#, "a surrogate pair with a space between"),
        ]
        for (text, why) in forms {
            #expect(throws: StoredTitle.Unreadable.self, "\(why ?? "")") { try StoredTitle.decode(text) }
            let expected = try? JSONDecoder().decode(CatalogDocument.Title.self, from: Data(text.utf8))
            #expect(CatalogStore.decodeDocument(text) == expected, "\(why ?? "")")
        }
        for bad in [
            #"{"id":3,"kind":"movie","title":"A"}"#, #"{"id":"a","kind":"film","title":"A"}"#, #"{"id":"a","kind":"movie"}"#,
            #"{"id":"a","kind":"movie","title":"A"} x"#, #"{"id":"a","kind":"movie","title":"A""#,
            #"{"id":"a","kind":"movie","title":"\ud800"}"#,
            #"{"id":"a","kind":"movie","title":"A","year":99999999999999999999}"#, "", "null", "[]",
        ] {
            #expect(throws: StoredTitle.Unreadable.self, "\(bad)") { try StoredTitle.decode(bad) }
            #expect(CatalogStore.decodeDocument(bad) == nil, "\(bad)")
        }
        let good = StoredTitle.encode(CatalogDocument.Title(id: "a", kind: .movie, title: "A"))
        #expect([good, "{\"id\": 3}", good].map { CatalogStore.decodeDocument($0)?.title } == ["A", nil, "A"])
    }

    @Test("random titles: the same bytes as JSONEncoder and the same title back as JSONDecoder gives")
    func randomTitles() throws {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array(awkward.unicodeScalars) + Array("abcdefghij KLM 0123".unicodeScalars)
        func text() -> String {
            var s = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...12, using: &rng) { s.append(alphabet.randomElement(using: &rng)!) }
            return String(s)
        }
        func maybe<T>(_ make: () -> T) -> T? { Bool.random(using: &rng) ? make() : nil }
        for n in 0..<300 {
            var t = CatalogDocument.Title(id: text(), kind: Bool.random(using: &rng) ? .movie : .series, title: text())
            t.originalTitle = maybe(text)
            t.year = maybe { Int.random(in: -3000...3000, using: &rng) }
            t.synopsis = maybe(text)
            t.genres = maybe { (0..<Int.random(in: 0...3, using: &rng)).map { _ in text() } }
            t.runtime = maybe { Int.random(in: Int.min...Int.max, using: &rng) }
            t.added = maybe(text)
            t.poster = maybe(text)
            t.sources = maybe {
                (0..<Int.random(in: 0...2, using: &rng)).map { _ in
                    var s = CatalogDocument.Source(
                        infohash: text(), file: maybe { Int.random(in: 0...99, using: &rng) },
                        size: maybe { Int64.random(in: Int64.min...Int64.max, using: &rng) }, quality: maybe(text))
                    s.subtitles = maybe { [CatalogDocument.Subtitle(language: text(), label: maybe(text), path: text())] }
                    s.webSeeds = maybe { [text()] }
                    return s
                }
            }
            let stored = StoredTitle.encode(t)
            #expect(stored == (try jsonEncoder(t)), "title \(n)")
            #expect(try StoredTitle.decode(stored) == t, "title \(n)")
        }
    }
}

@Suite("Catalog import and the full-text index")
struct ImportIndexTests {
    @Test("a new version of a catalog replaces the old one in the index; the sync triggers are back as they were; the index checks out")
    func reimportKeepsTheIndexInStep() async throws {
        let dir = TempDir()
        let path = dir.path + "/catalog.sqlite"
        let store = try CatalogStore(path: path)
        let key = String(repeating: "ab", count: 32)
        try await store.addChannel(key: key, name: "One", address: "")
        func catalog(_ word: String, sequence: Int64) -> CatalogDocument {
            let titles = (0..<300).map { n -> CatalogDocument.Title in
                var t = CatalogDocument.Title(id: "t\(n)", kind: .movie, title: "\(word) \(n)")
                t.synopsis = "about \(word)land"
                return t
            }
            return CatalogDocument(
                channel: .init(key: key, name: "One"), sequence: sequence, issued: Date(), expires: Date().addingTimeInterval(86400),
                titles: titles)
        }
        let triggersSQL = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        let before = try DatabaseQueue(path: path).read { try Row.fetchAll($0, sql: triggersSQL) }
        #expect(before.count == 3, "GRDB's insert, delete and update triggers")
        try await store.importCatalog(catalog("Orchid", sequence: 1), channelKey: key, catalogInfoHash: nil, files: nil)
        try await store.importCatalog(catalog("Walrus", sequence: 2), channelKey: key, catalogInfoHash: nil, files: nil)
        var q = CatalogStore.Query(words: "orchid")
        #expect(try await store.search(q).isEmpty, "the old version's words are gone from the index")
        q.words = "walrus"
        q.limit = 500
        #expect(try await store.search(q).count == 300)
        q.words = "walrusland"
        #expect(try await store.search(q).count == 300, "synopses are indexed too")

        let db = try DatabaseQueue(path: path)
        #expect(try db.read { try Row.fetchAll($0, sql: triggersSQL) } == before)
        // FTS5's own check of the index against the rows it indexes.
        try await db.write { try $0.execute(sql: "INSERT INTO title_fts (title_fts, rank) VALUES ('integrity-check', 1)") }
        // A row written outside an import (as an older version would) is
        // indexed by the triggers put back.
        try await db.write {
            try $0.execute(
                sql: """
                    INSERT INTO title (channelKey, titleId, kind, title, added, groupKey, document, tags)
                    VALUES (?, 'x', 'movie', 'Narwhal', '', 'movie|narwhal|', ?, 'kmovie kmoviey')
                    """, arguments: [key, StoredTitle.encode(CatalogDocument.Title(id: "x", kind: .movie, title: "Narwhal"))])
        }
        q.words = "narwhal"
        #expect(try await store.search(q).map(\.title) == ["Narwhal"])
        try await store.removeChannel(key)
        q.words = "walrus"
        #expect(try await store.search(q).isEmpty)
        try await db.write { try $0.execute(sql: "INSERT INTO title_fts (title_fts, rank) VALUES ('integrity-check', 1)") }
    }
}

@Suite("Search pages")
struct SearchPageTests {
    @Test("a page of works is full when many channels list the same works (more candidates are read than at first)")
    func fullPageOfSharedWorks() async throws {
        let dir = TempDir()
        let store = try CatalogStore(path: dir.path + "/catalog.sqlite")
        let titles = (0..<40).map { n -> CatalogDocument.Title in
            var t = CatalogDocument.Title(id: "w\(n)", kind: .movie, title: "Lighthouse \(n)")
            t.year = 2000 + n
            return t
        }
        for c in 0..<5 {
            let key = String(repeating: String(format: "%02x", c + 1), count: 32)
            try await store.addChannel(key: key, name: "Channel \(c)", address: "")
            let doc = CatalogDocument(
                channel: .init(key: key, name: "Channel \(c)"), sequence: 1, issued: Date(), expires: Date().addingTimeInterval(86400),
                titles: titles)
            try await store.importCatalog(doc, channelKey: key, catalogInfoHash: nil, files: nil)
        }
        var q = CatalogStore.Query(words: "lighthouse")
        q.limit = 20
        let page = try await store.search(q)
        // 5 channels x 20 works: the first 40 candidates hold only 8 works.
        #expect(page.count == 20)
        #expect(page.allSatisfy { $0.entries.count == 5 }, "every channel's entry is in its work's group")
        #expect(Set(page.map(\.title)).count == 20)
        q.limit = 500
        #expect(try await store.search(q).count == 40, "all the works, and no more")
    }

    /// Two channels listing one work, with their own spelling, date and genre.
    private func twoChannels() async throws -> (CatalogStore, TempDir) {
        let dir = TempDir()
        let store = try CatalogStore(path: dir.path + "/catalog.sqlite")
        for (c, (spelling, added, genre)) in [
            ("Lighthouse", "2020-01-01T00:00:00Z", "Horror"), ("LIGHTHOUSE", "2025-01-01T00:00:00Z", "Comedy"),
        ]
        .enumerated() {
            let key = String(repeating: String(format: "%02x", c + 1), count: 32)
            try await store.addChannel(key: key, name: "Channel \(c)", address: "")
            var t = CatalogDocument.Title(id: "lighthouse", kind: .movie, title: spelling)
            t.year = 2019
            t.added = added
            t.genres = [genre]
            let doc = CatalogDocument(
                channel: .init(key: key, name: "Channel \(c)"), sequence: 1, issued: Date(), expires: Date().addingTimeInterval(86400),
                titles: [t])
            try await store.importCatalog(doc, channelKey: key, catalogInfoHash: nil, files: nil)
        }
        return (store, dir)
    }

    @Test("in a group the entries come in the order asked for (newest first), and the first names the group")
    func groupOrder() async throws {
        let (store, dir) = try await twoChannels()
        _ = dir
        var q = CatalogStore.Query(words: "lighthouse")
        q.sort = .added
        let page = try await store.search(q)
        #expect(page.count == 1 && page[0].entries.map(\.channelName) == ["Channel 1", "Channel 0"])
        #expect(page[0].title == "LIGHTHOUSE")
        q.sort = .relevance
        #expect(try await store.search(q).first?.entries.count == 2)
    }

    @Test("a genre filter holds for every entry of a group, not only the ones that matched first")
    func groupGenre() async throws {
        let (store, dir) = try await twoChannels()
        _ = dir
        var q = CatalogStore.Query(words: "lighthouse")
        q.genre = "horror"
        #expect(try await store.search(q).first?.entries.map(\.channelName) == ["Channel 0"])
        q.genre = "Comedy"
        #expect(try await store.search(q).first?.entries.map(\.channelName) == ["Channel 1"])
        q.genre = nil
        q.channel = "Channel 1"
        #expect(try await store.search(q).first?.entries.map(\.channelName) == ["Channel 1"])
    }
}

@Suite("Folding titles and genres")
struct FoldingTests {
    @Test("the ASCII path folds as Foundation does: every ASCII character, random ASCII text; other text takes Foundation's")
    func asciiPathAgrees() {
        for u in 0..<0x80 {
            let s = String(Character(Unicode.Scalar(UInt8(u))))
            #expect(CatalogStore.fold(s) == CatalogStore.foldUnicode(s), "U+\(String(u, radix: 16))")
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let s = String(
                decoding: (0..<Int.random(in: 0...24, using: &rng)).map { _ in UInt8.random(in: 0..<0x80, using: &rng) }, as: UTF8.self)
            #expect(CatalogStore.fold(s) == CatalogStore.foldUnicode(s), "\(s.debugDescription)")
        }
        #expect(CatalogStore.fold("Amélie, Ñandú & Co. 2") == "amelienanduco2")
        #expect(CatalogStore.fold("The Matrix: Reloaded!") == "thematrixreloaded")
        #expect(SearchTags.genre("Science-Fiction") == "gsciencefiction" && SearchTags.genre("Ciencia ficción") == "gcienciaficcion")
    }
}
