import Crypto
import Foundation
import TestSupport
import Testing
import TorrentKit

@testable import Catalog

/// Writes `files` (relative path -> contents) under `root`.
func makeTree(_ root: String, _ files: [String: String]) throws {
    for (rel, body) in files {
        let path = root + "/" + rel
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try body.write(toFile: path, atomically: true, encoding: .utf8)
    }
}

@Suite("Library scanner")
struct ScannerTests {
    @Test("movies, qualities, subtitles, artwork, title.json, .nfo and series are found; strays are reported")
    func scan() throws {
        let dir = TempDir()
        try makeTree(
            dir.path,
            [
                "Movies/Big Buck Bunny (2008)/Big Buck Bunny (2008).mp4": "1080",
                "Movies/Big Buck Bunny (2008)/Big Buck Bunny (2008) - 720p.mp4": "720",
                "Movies/Big Buck Bunny (2008)/Big Buck Bunny (2008).en.srt": "1\n",
                "Movies/Big Buck Bunny (2008)/Big Buck Bunny (2008).fr.forced.srt": "1\n",
                "Movies/Big Buck Bunny (2008)/poster.jpg": "jpg",
                "Movies/Big Buck Bunny (2008)/fanart.jpg": "jpg",
                "Movies/Big Buck Bunny (2008)/title.json":
                    #"{"synopsis": "A giant rabbit.", "genres": ["Animation"], "runtime": 10, "license": "CC BY 3.0"}"#,
                "Movies/Sintel (2010)/Sintel (2010).mkv": "mkv",
                "Movies/Sintel (2010)/movie.nfo":
                    "<movie><title>Sintel</title><plot>Dragons &amp; a girl.</plot><genre>Fantasy</genre><genre>Animation</genre><runtime>15</runtime></movie>",
                "Movies/Empty (2001)/notes.txt": "?",
                "Shows/Example Show (2024)/poster.png": "png",
                "Shows/Example Show (2024)/Season 01/Example Show - S01E01 - Pilot.mp4": "e1",
                "Shows/Example Show (2024)/Season 01/Example Show - S01E02 - The Return - 720p.mp4": "e2",
                "Shows/Example Show (2024)/Season 01/Example Show - S01E02 - The Return.en.srt": "1\n",
                "Shows/Example Show (2024)/Season 02/Example Show - S02E01 - Mr. Robot Goes Home.webm": "e3",
                "Shows/Example Show (2024)/Season 02/random.mp4": "?",
                "stray.mp4": "?",
            ])
        let r = try LibraryScanner(root: dir.path).scan()
        #expect(r.items.map(\.id) == ["big-buck-bunny-2008", "sintel-2010", "example-show-2024"])
        let bunny = r.items[0]
        #expect(bunny.kind == .movie && bunny.title == "Big Buck Bunny" && bunny.year == 2008)
        #expect(bunny.videos.map(\.quality) == [nil, "720p"], "the untagged main version comes first")
        #expect(Set(bunny.subtitles.map(\.language)) == ["en", "fr"])
        #expect(bunny.poster == "Movies/Big Buck Bunny (2008)/poster.jpg")
        #expect(bunny.backdrop == "Movies/Big Buck Bunny (2008)/fanart.jpg")
        #expect(bunny.metadata.synopsis == "A giant rabbit." && bunny.metadata.license == "CC BY 3.0")
        let sintel = r.items[1]
        #expect(sintel.metadata.synopsis == "Dragons & a girl.")
        #expect(sintel.metadata.genres == ["Fantasy", "Animation"])
        let show = r.items[2]
        #expect(show.kind == .series && show.poster == "Shows/Example Show (2024)/poster.png")
        #expect(show.episodes.map { "\($0.season)x\($0.number)" } == ["1x1", "1x2", "2x1"])
        #expect(show.episodes[1].title == "The Return" && show.episodes[1].videos[0].quality == "720p")
        #expect(show.episodes[1].subtitles.map(\.language) == ["en"])
        #expect(show.episodes[2].title == "Mr. Robot Goes Home")
        #expect(
            r.unmatched == [
                "Movies/Empty (2001)/notes.txt", "Shows/Example Show (2024)/Season 02/random.mp4", "stray.mp4",
            ])
        #expect(r.warnings.contains { $0.contains("Empty (2001)") })
    }

    @Test("odd names: accents, dots, brackets, no year, lower-case tags, unpadded and special seasons, folders named otherwise")
    func oddNames() throws {
        let dir = TempDir()
        try makeTree(
            dir.path,
            [
                "Movies/Amélie (2001)/Amélie (2001).mkv": "a",
                "Movies/Mr. & Mrs. Smith's Day... (1999)/Mr. & Mrs. Smith's Day... (1999).mp4": "b",
                "Movies/No Year/No Year.webm": "c",
                "Movies/Bracketed (2005)/Bracketed (2005) - [Director's Cut].mp4": "d",
                "Movies/Wrong File (2010)/something else.mp4": "e",
                "Movies/Upper (2011)/Upper (2011).MP4": "f",
                "films/Lower Case Root (2012)/Lower Case Root (2012).m4v": "g",
                "TV Shows/Odd Show/Season 1/Odd Show - s01e03 - lower tag.mkv": "h",
                "TV Shows/Odd Show/Specials/Odd Show - S00E01 - Pilot - 1080p.mp4": "i",
                "TV Shows/Odd Show/Season 2/Odd Show - S02E01.mp4": "j",
                "TV Shows/Odd Show/Season 2/Odd Show - S03E01 - In The Wrong Folder.mp4": "k",
                "TV Shows/Odd Show/Extras/behind the scenes.mp4": "l",
                "Movies/.hidden (2000)/.hidden (2000).mp4": "m",
                "Movies/Amélie (2001)/.DS_Store": "n",
            ])
        let r = try LibraryScanner(root: dir.path).scan()
        let byID = Dictionary(uniqueKeysWithValues: r.items.map { ($0.id, $0) })
        #expect(
            Set(byID.keys) == [
                "amelie-2001", "mr-mrs-smith-s-day-1999", "no-year", "bracketed-2005", "upper-2011", "lower-case-root-2012", "odd-show",
            ])
        #expect(byID["amelie-2001"]?.title == "Amélie")
        #expect(byID["mr-mrs-smith-s-day-1999"]?.title == "Mr. & Mrs. Smith's Day...")
        #expect(byID["no-year"]?.year == nil)
        #expect(byID["bracketed-2005"]?.videos.first?.quality == "[Director's Cut]")
        let show = try #require(byID["odd-show"])
        #expect(show.episodes.map { "\($0.season)x\($0.number)" } == ["0x1", "1x3", "2x1"])
        #expect(show.episodes[0].title == "Pilot" && show.episodes[0].videos[0].quality == "1080p")
        #expect(show.episodes[1].title == "lower tag")
        #expect(show.episodes[2].title == nil)
        #expect(
            r.unmatched == [
                "Movies/Wrong File (2010)/something else.mp4",
                "TV Shows/Odd Show/Extras/behind the scenes.mp4",
                "TV Shows/Odd Show/Season 2/Odd Show - S03E01 - In The Wrong Folder.mp4",
            ])
    }

    @Test("a symbolic link is not followed out of the library")
    func symlinks() throws {
        let dir = TempDir()
        try makeTree(dir.path + "/outside", ["secret.mp4": "s"])
        try makeTree(dir.path + "/lib", ["Movies/Real (2000)/Real (2000).mp4": "r"])
        try FileManager.default.createSymbolicLink(
            atPath: dir.path + "/lib/Movies/Real (2000)/Real (2000) - 4K.mp4", withDestinationPath: dir.path + "/outside/secret.mp4")
        try FileManager.default.createSymbolicLink(
            atPath: dir.path + "/lib/Movies/Linked (2001)", withDestinationPath: dir.path + "/outside")
        let r = try LibraryScanner(root: dir.path + "/lib").scan()
        #expect(r.items.map(\.id) == ["real-2000"])
        #expect(r.items[0].videos.count == 1)
    }

    @Test("slugs are stable, ASCII and bounded")
    func slugs() {
        #expect(LibraryScanner.slug("Amélie: Le Film!", 2001) == "amelie-le-film-2001")
        #expect(LibraryScanner.slug("???", nil) == "title")
        #expect(LibraryScanner.slug(String(repeating: "a", count: 100), 1999).count == 64)
    }
}

@Suite("Catalog index", .serialized)
struct StoreTests {
    let pk = Array(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)

    @Test("import, search by words with prefixes, filters, sorts; markup stays text")
    func searchTitles() async throws {
        let dir = TempDir()
        let store = try CatalogStore(path: dir.path + "/catalog.sqlite")
        let key = Hex.encode(pk)
        try await store.addChannel(key: key, name: "Open Films", address: "magnet:?xs=urn:btpk:\(key)")
        var doc = sampleCatalog(key: pk)
        var evil = CatalogDocument.Title(id: "evil-2020", kind: .movie, title: "<script>alert(1)</script> Evil")
        evil.year = 2020
        evil.synopsis = "<img src=x onerror=alert(1)>"
        evil.sources = doc.titles[0].sources
        doc.titles.append(evil)
        #expect(try await store.acceptSequence(key, doc.sequence))
        try await store.importCatalog(doc, channelKey: key, catalogInfoHash: nil, files: nil)

        #expect(try await store.search(.init(words: "sint")).map(\.title) == ["Sintel"])
        #expect(try await store.search(.init(words: "dragon")).map(\.title) == ["Sintel"])
        #expect(try await store.search(.init(words: "script")).first?.title == "<script>alert(1)</script> Evil")
        #expect(try await store.search(.init(words: "\"AND OR NEAR(")).isEmpty)
        // A letter that joins the quote after it into one character.
        #expect(try await store.search(.init(words: "\u{0D4E}\"")).isEmpty)
        #expect(try await store.search(.init(words: "sint\u{0D4E}\") OR {tags} : (\"kmovie")).isEmpty)
        var q = CatalogStore.Query()
        q.kind = .series
        #expect(try await store.search(q).map(\.title) == ["Example Show"])
        q = CatalogStore.Query()
        q.genre = "fantasy"
        #expect(try await store.search(q).map(\.title) == ["Sintel"])
        q = CatalogStore.Query()
        q.year = 2024
        #expect(try await store.search(q).map(\.title) == ["Example Show"])
        q = CatalogStore.Query()
        q.sort = .year
        #expect(try await store.search(q).map(\.year) == [2024, 2020, 2010])
        q.channel = "open films"
        #expect(try await store.search(q).count == 3)
        q.channel = "nobody"
        #expect(try await store.search(q).isEmpty)
        let entry = try #require(try await store.title(ref: "sintel-2010"))
        #expect(entry.document.sources?.first?.quality == "1080p")
    }

    @Test("relevance: titles named by the words come before titles whose synopsis alone has them; filters apply to both; a page is a page")
    func relevanceTiers() async throws {
        let dir = TempDir()
        let store = try CatalogStore(path: dir.path + "/catalog.sqlite")
        let key = Hex.encode(pk)
        try await store.addChannel(key: key, name: "Open Films", address: "")
        func title(_ id: String, _ name: String, _ synopsis: String, _ kind: CatalogDocument.Kind = .movie) -> CatalogDocument.Title {
            var t = CatalogDocument.Title(id: id, kind: kind, title: name)
            t.synopsis = synopsis
            t.sources = [CatalogDocument.Source(infohash: String(repeating: "ab", count: 20), file: 0, size: 1000)]
            return t
        }
        // Synopsis-only matches come first in the table, so index order alone would put them first.
        var titles = (0..<30).map { title("s\($0)", "Quiet Film \($0)", "a lighthouse keeper and a storm") }
        titles[4].genres = ["Science Fiction"]
        titles[4].year = 1999
        titles.append(title("lh", "The Lighthouse", "two keepers on an island"))
        titles.append(title("lhs", "Lighthouse Stories", "an anthology", .series))
        try await store.importCatalog(sampleCatalog(key: pk, titles: titles), channelKey: key, catalogInfoHash: nil, files: nil)
        var q = CatalogStore.Query(words: "lightho")
        q.limit = 5
        let hits = try await store.search(q).map(\.title)
        #expect(hits.count == 5)
        #expect(hits.prefix(2) == ["Lighthouse Stories", "The Lighthouse"], "beginning with the word, then having it")
        #expect(hits.dropFirst(2).allSatisfy { $0.hasPrefix("Quiet Film") })
        q.kind = .series
        #expect(try await store.search(q).map(\.title) == ["Lighthouse Stories"])
        q.kind = .movie
        q.limit = 100
        #expect(try await store.search(q).count == 31)
        #expect(try await store.search(.init(words: "keeper storm")).count == 30, "every word is required, in any column")
        // Genre and year filters with words: the genre folded ("science-fiction" is "Science Fiction").
        q = CatalogStore.Query(words: "lighthouse")
        q.genre = "science-fiction"
        #expect(try await store.search(q).map(\.title) == ["Quiet Film 4"])
        q.year = 1998
        #expect(try await store.search(q).isEmpty)
        q.year = 1999
        q.genre = nil
        #expect(try await store.search(q).map(\.title) == ["Quiet Film 4"])
        q.genre = "--"
        #expect(try await store.search(q).isEmpty, "a genre of no letters matches nothing")
        // Kind with genre, kind with year (one tag each), and the other kind.
        q = CatalogStore.Query(words: "lighthouse")
        q.kind = .movie
        q.genre = "Science Fiction"
        #expect(try await store.search(q).map(\.title) == ["Quiet Film 4"])
        q.kind = .series
        #expect(try await store.search(q).isEmpty)
        q.genre = nil
        q.year = 1999
        #expect(try await store.search(q).isEmpty)
        q.kind = .movie
        #expect(try await store.search(q).map(\.title) == ["Quiet Film 4"])
        q.year = nil
        q.limit = 100
        let films = try await store.search(q)
        #expect(films.count == 31 && films.allSatisfy { $0.kind == .movie }, "a film is whatever is not a series")
        // The filters' words are not searchable as words.
        #expect(try await store.search(.init(words: "kmovie")).isEmpty)
        #expect(try await store.search(.init(words: "gsciencefiction")).isEmpty)
    }

    @Test("the same title from two channels is one group; refs stay unique")
    func grouping() async throws {
        let dir = TempDir()
        let store = try CatalogStore(path: dir.path + "/catalog.sqlite")
        let other = Array(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)
        for (k, name) in [(pk, "One"), (other, "Two")] {
            let key = Hex.encode(k)
            try await store.addChannel(key: key, name: name, address: "")
            try await store.importCatalog(sampleCatalog(key: k), channelKey: key, catalogInfoHash: nil, files: nil)
        }
        let hits = try await store.search(.init(words: "sintel"))
        #expect(hits.count == 1)
        #expect(Set(hits[0].entries.map(\.channelKey)) == [Hex.encode(pk), Hex.encode(other)])
        #expect(Set(hits[0].entries.map(\.ref)).count == 2)
        for e in hits[0].entries { #expect(try await store.title(ref: e.ref)?.channelKey == e.channelKey) }
        #expect(try await store.title(ref: "sintel-2010") == nil, "an ambiguous ref must not pick a channel silently")
    }

    @Test("a lower sequence is refused and the last good catalog stays")
    func replay() async throws {
        let dir = TempDir()
        let store = try CatalogStore(path: dir.path + "/catalog.sqlite")
        let key = Hex.encode(pk)
        try await store.addChannel(key: key, name: "Open Films", address: "")
        #expect(try await store.acceptSequence(key, 7))
        try await store.importCatalog(sampleCatalog(key: pk, sequence: 7), channelKey: key, catalogInfoHash: nil, files: nil)
        #expect(try await store.acceptSequence(key, 7) == false)
        let error = try await #require(throws: CatalogError.self) { _ = try await store.acceptSequence(key, 6) }
        #expect(error.kind == .replay)
        try await store.recordFailure(key, error.message)
        #expect(try await store.search(.init()).count == 2)
        #expect(try await store.channel(key)?.lastError?.contains("older catalog") == true)
        // The high-water mark survives a restart.
        let reopened = try CatalogStore(path: dir.path + "/catalog.sqlite")
        #expect(try await reopened.channel(key)?.highestSequence == 7)
    }

    @Test("the bundled Open Films channel: valid, installed once, stays removed when removed, back on request")
    func bundled() async throws {
        let doc = try BundledChannel.document()
        #expect(doc.titles.map(\.id) == ["big-buck-bunny-2008", "sintel-2010", "tears-of-steel-2012", "cosmos-laundromat-2015"])
        for t in doc.titles {
            #expect(t.license?.hasPrefix("CC BY") == true, "\(t.id) lists no open license")
            #expect(t.sources?.first?.webSeeds?.isEmpty == false, "\(t.id) has no web seed")
        }
        let dir = TempDir()
        let store = try CatalogStore(path: dir.path + "/catalog.sqlite")
        try await BundledChannel.install(into: store)
        #expect(try await store.search(.init(words: "sintel")).first?.entries.first?.channelName == "Open Films")
        try await store.setFlag("bundled-removed:\(BundledChannel.key)", true)
        try await store.removeChannel(BundledChannel.key)
        try await BundledChannel.install(into: store)
        #expect(try await store.channels().isEmpty)
        try await BundledChannel.install(into: store, force: true)
        #expect(try await store.channels().map(\.name) == ["Open Films"])
    }

    @Test("the bundled channel's posters ship with the app and are copied beside the catalogs, also for an install that had none")
    func bundledPosters() async throws {
        let dir = TempDir()
        let store = try CatalogStore(path: dir.path + "/catalog.sqlite")
        // As an older version installed it: no artwork.
        try await BundledChannel.install(into: store)
        #expect(try await store.search(.init(words: "sintel")).first?.entries.first?.posterFile == nil)
        try await BundledChannel.install(into: store, channelsDir: dir.path + "/channels")
        var bundled = CatalogStore.Query()
        bundled.channel = BundledChannel.key
        let entries = try await store.search(bundled).flatMap(\.entries)
        #expect(entries.count == 4)
        for e in entries {
            let file = try #require(e.posterFile, "\(e.ref) has no poster")
            #expect(file.hasPrefix(dir.path + "/channels/\(BundledChannel.key)/"), "\(file)")
            let bytes = try #require(FileManager.default.contents(atPath: file))
            #expect(bytes.starts(with: [0xFF, 0xD8, 0xFF]) && bytes.count > 2000 && bytes.count < 64 << 10, "\(e.ref): \(bytes.count) bytes")
        }
        // Posters deleted by hand come back at the next start.
        try FileManager.default.removeItem(atPath: dir.path + "/channels")
        try await BundledChannel.install(into: store, channelsDir: dir.path + "/channels")
        let again = try await store.search(bundled).flatMap(\.entries)
        #expect(again.allSatisfy { $0.posterFile.map { FileManager.default.fileExists(atPath: $0) } == true })
    }

    @Test("watch history: newest first, watched past 95%, unknown titles and bad numbers refused")
    func watchHistory() async throws {
        let dir = TempDir()
        let store = try CatalogStore(path: dir.path + "/catalog.sqlite")
        let key = Hex.encode(pk)
        try await store.addChannel(key: key, name: "Open Films", address: "")
        try await store.importCatalog(sampleCatalog(key: pk), channelKey: key, catalogInfoHash: nil, files: nil)
        try await store.saveProgress(ref: "sintel-2010", episode: "", position: 30, duration: 600)
        try await store.saveProgress(ref: "example-show-2024", episode: "S01E01", position: 590, duration: 600)
        let h = try await store.history()
        #expect(h.map(\.titleId) == ["example-show-2024", "sintel-2010"])
        #expect(h.map(\.watched) == [true, false])
        await #expect(throws: CatalogError.self) { try await store.saveProgress(ref: "nothing", episode: "", position: 1, duration: 2) }
        await #expect(throws: CatalogError.self) {
            try await store.saveProgress(ref: "sintel-2010", episode: "", position: -1, duration: 2)
        }
        await #expect(throws: CatalogError.self) {
            try await store.saveProgress(ref: "sintel-2010", episode: "", position: .nan, duration: 2)
        }
    }
}
