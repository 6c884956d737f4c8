import ArgumentParser
import Catalog
import Foundation
import TorrentKit

struct Search: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search the titles of every channel you follow.",
        discussion: """
            Words match titles, original titles and synopses (each word as a prefix). With no \
            words, lists everything that passes the filters. Each line starts with the id that \
            `matinee play` takes. The same film from several channels is shown once.

            Examples:
              matinee search sintel
              matinee search --kind series --sort added
              matinee search dragon --json
            """)

    @Argument(help: "Words to look for.")
    var words: [String] = []

    @Option(name: .long, help: ArgumentHelp("Only movies or only series.", valueName: "movie|series"))
    var kind: String?

    @Option(name: .long, help: ArgumentHelp("Only this genre.", valueName: "genre"))
    var genre: String?

    @Option(name: .long, help: ArgumentHelp("Only this year.", valueName: "year"))
    var year: Int?

    @Option(name: .long, help: ArgumentHelp("Only this channel (name or address).", valueName: "channel"))
    var channel: String?

    @Option(name: .long, help: ArgumentHelp("Order: relevance, title, year or added.", valueName: "order"))
    var sort = "relevance"

    @Option(name: .long, help: ArgumentHelp("At most this many titles.", valueName: "n"))
    var limit = 50

    @Flag(name: .long, help: "Print JSON: each title with its sources (magnet link, file index, quality).")
    var json = false

    func validate() throws {
        if let kind, CatalogDocument.Kind(rawValue: kind) == nil { throw ValidationError("--kind takes movie or series") }
        if CatalogStore.Sort(rawValue: sort) == nil { throw ValidationError("--sort takes relevance, title, year or added") }
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        try await reportingErrors {
            let home = Home.resolve()
            try home.prepare()
            let store = try await openCatalog(home)
            var q = CatalogStore.Query(words: words.joined(separator: " "))
            q.kind = kind.flatMap(CatalogDocument.Kind.init(rawValue:))
            q.genre = genre
            q.year = year
            q.sort = CatalogStore.Sort(rawValue: sort) ?? .relevance
            q.limit = limit
            if let channel {
                let c = try ChannelRefresher.find(channel, in: try await store.channels())
                q.channel = c.key
            }
            let groups = try await store.search(q)
            // Only the bundled channel's URLs are offered (see CatalogSource).
            let local = Set(try await store.channels().filter(\.isLocal).map(\.key))
            if json {
                let out = groups.map { g in
                    ["title": g.title, "year": g.year as Any, "kind": g.kind.rawValue, "entries": g.entries.map { Self.json($0, trusted: local.contains($0.channelKey)) }] as [String: Any]
                }
                let data = try JSONSerialization.data(withJSONObject: out, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                Console.result(String(decoding: data, as: UTF8.self))
                return
            }
            if groups.isEmpty {
                Console.info("No titles found.")
                return
            }
            for g in groups {
                let e = g.entries[0]
                let year = g.year.map { " (\($0))" } ?? ""
                var extra = g.kind == .series ? "series" : "movie"
                if let seasons = e.document.seasons {
                    extra += ", \(seasons.count) season\(seasons.count == 1 ? "" : "s")"
                }
                let channels = Set(g.entries.map(\.channelName)).sorted().joined(separator: ", ")
                Console.result("\(e.ref)\t\(Self.plain(g.title))\(year)\t\(extra)\t\(Self.plain(channels))")
            }
        }
    }

    /// Catalog text on a terminal: control characters are refused by the
    /// catalog check already; tabs and newlines would break the columns.
    static func plain(_ s: String) -> String {
        s.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " ")
    }

    static func json(_ e: CatalogStore.Entry, trusted: Bool) -> [String: Any] {
        let d = e.document
        var o: [String: Any] = ["id": e.ref, "channel": e.channelName, "channelKey": e.channelKey, "title": d.title]
        if let v = d.year { o["year"] = v }
        if let v = d.originalTitle { o["originalTitle"] = v }
        if let v = d.synopsis { o["synopsis"] = v }
        if let v = d.genres { o["genres"] = v }
        if let v = d.runtime { o["runtime"] = v }
        if let v = d.license { o["license"] = v }
        if let v = e.posterFile { o["poster"] = v }
        if let s = d.sources { o["sources"] = s.map { source($0, name: d.title, trusted: trusted) } }
        if let seasons = d.seasons {
            o["seasons"] = seasons.map { s in
                [
                    "number": s.number,
                    "episodes": s.episodes.map { ep -> [String: Any] in
                        var x: [String: Any] = ["number": ep.number, "sources": ep.sources.map { source($0, name: d.title, trusted: trusted) }]
                        if let t = ep.title { x["title"] = t }
                        return x
                    },
                ] as [String: Any]
            }
        }
        return o
    }

    static func source(_ s: CatalogDocument.Source, name: String, trusted: Bool) -> [String: Any] {
        var s = s
        if !trusted {
            s.webSeeds = nil
            s.torrentURL = nil
        }
        var o: [String: Any] = ["infohash": s.infohash, "magnet": CatalogSource.magnet(s, name: name)]
        if let f = s.file { o["file"] = f }
        if let z = s.size { o["size"] = z }
        if let w = s.webSeeds { o["webSeeds"] = w }
        if let q = s.quality { o["quality"] = q }
        if let l = s.languages { o["languages"] = l }
        if let subs = s.subtitles { o["subtitles"] = subs.map { ["language": $0.language, "path": $0.path] } }
        return o
    }
}
