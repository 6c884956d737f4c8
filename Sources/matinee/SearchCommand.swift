import ArgumentParser
import Catalog
import Daemon
import Foundation
import Server
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
            if let daemon = await DaemonClient.find(home) {
                try await searchThrough(daemon)
                return
            }
            let store = try await openCatalog(home)
            var q = CatalogStore.Query(words: words.joined(separator: " "))
            q.kind = kind.flatMap(CatalogDocument.Kind.init(rawValue:))
            q.genre = genre
            q.year = year
            q.sort = CatalogStore.Sort(rawValue: sort) ?? .relevance
            q.limit = limit
            if let channel {
                let c = try Channels.find(channel, in: try await store.channels())
                q.channel = c.key
            }
            let groups = try await store.search(q)
            // Only the bundled channel's URLs are offered (see CatalogSource).
            let local = Set(try await store.channels().filter(\.isLocal).map(\.key))
            show(
                groups.map { g in
                    Found(
                        title: g.title, year: g.year, kind: g.kind,
                        entries: g.entries.map {
                            Found.Entry(
                                ref: $0.ref, channel: $0.channelName, channelKey: $0.channelKey, document: $0.document,
                                poster: $0.posterFile, trusted: local.contains($0.channelKey))
                        })
                })
        }
    }

    /// A daemon runs: it owns the catalog index, and answers the query.
    private func searchThrough(_ daemon: DaemonClient) async throws {
        guard let data = await daemon.data("/api/channels"),
            let channels = try? JSONDecoder().decode([ChannelJSON].self, from: data)
        else { throw CLIError("the running Matinee (\(daemon.file.url)) did not list its channels") }
        var query = [
            URLQueryItem(name: "q", value: words.joined(separator: " ")), URLQueryItem(name: "sort", value: sort),
            URLQueryItem(name: "limit", value: String(min(limit, 500))),
        ]
        if let kind { query.append(URLQueryItem(name: "kind", value: kind)) }
        if let genre { query.append(URLQueryItem(name: "genre", value: genre)) }
        if let year { query.append(URLQueryItem(name: "year", value: String(year))) }
        if let channel { query.append(URLQueryItem(name: "channel", value: try Self.find(channel, in: channels).key)) }
        var parts = URLComponents()
        parts.path = "/api/titles"
        parts.queryItems = query
        guard let path = parts.string, let body = await daemon.data(path),
            let groups = try? JSONDecoder().decode([GroupJSON].self, from: body)
        else { throw CLIError("the running Matinee (\(daemon.file.url)) did not answer the search") }
        let local = Set(channels.filter(\.local).map(\.key))
        show(
            groups.map { g in
                Found(
                    title: g.title, year: g.year, kind: CatalogDocument.Kind(rawValue: g.kind) ?? .movie,
                    entries: g.entries.map {
                        Found.Entry(
                            ref: $0.id, channel: $0.channel, channelKey: $0.channelKey, document: $0.title,
                            poster: $0.poster.map { daemon.file.url + $0 }, trusted: local.contains($0.channelKey))
                    })
            })
    }

    private func show(_ groups: [Found]) {
        if json {
            let out = groups.map { g in
                ["title": g.title, "year": g.year as Any, "kind": g.kind.rawValue, "entries": g.entries.map(Self.json)] as [String: Any]
            }
            let data =
                (try? JSONSerialization.data(withJSONObject: out, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]))
                ?? Data()
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
            let channels = Set(g.entries.map(\.channel)).sorted().joined(separator: ", ")
            Console.result("\(e.ref)\t\(Self.plain(g.title))\(year)\t\(extra)\t\(Self.plain(channels))")
        }
    }

    /// Catalog text on a terminal: control characters are refused by the
    /// catalog check already; tabs and newlines would break the columns.
    static func plain(_ s: String) -> String {
        s.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " ")
    }

    static func json(_ e: Found.Entry) -> [String: Any] {
        let d = e.document
        let trusted = e.trusted
        var o: [String: Any] = ["id": e.ref, "channel": e.channel, "channelKey": e.channelKey, "title": d.title]
        if let v = d.year { o["year"] = v }
        if let v = d.originalTitle { o["originalTitle"] = v }
        if let v = d.synopsis { o["synopsis"] = v }
        if let v = d.genres { o["genres"] = v }
        if let v = d.runtime { o["runtime"] = v }
        if let v = d.license { o["license"] = v }
        if let v = e.poster { o["poster"] = v }
        if let s = d.sources { o["sources"] = s.map { source($0, name: d.title, trusted: trusted) } }
        if let seasons = d.seasons {
            o["seasons"] = seasons.map { s in
                [
                    "number": s.number,
                    "episodes": s.episodes.map { ep -> [String: Any] in
                        var x: [String: Any] = [
                            "number": ep.number, "sources": ep.sources.map { source($0, name: d.title, trusted: trusted) },
                        ]
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

/// What a search found, from the index or from the daemon's API.
struct Found {
    struct Entry {
        var ref: String
        var channel: String
        var channelKey: String
        var document: CatalogDocument.Title
        /// A file path (the index) or a URL (the daemon).
        var poster: String?
        /// The bundled channel's: its URLs are offered.
        var trusted: Bool
    }

    var title: String
    var year: Int?
    var kind: CatalogDocument.Kind
    var entries: [Entry]
}

extension Search {
    /// The channel `text` names, as `Channels.find` does with the index: its
    /// address, its name as listed, or a name only one channel has.
    static func find(_ text: String, in channels: [ChannelJSON]) throws -> ChannelJSON {
        if let a = ChannelAddress(text), let c = channels.first(where: { $0.key == a.hex }) { return c }
        let wanted = ChannelNames.comparable(text)
        if let c = channels.first(where: { ChannelNames.comparable($0.name) == wanted }) { return c }
        // Listed names carry the start of the address when two channels share one.
        let named = channels.filter { c in
            let base = c.name.range(of: " (", options: .backwards).map { String(c.name[..<$0.lowerBound]) } ?? c.name
            return ChannelNames.comparable(base) == wanted
        }
        if named.count > 1 {
            throw CLIError(
                "\(named.count) channels are named \"\(text)\": name one by its address (\(named.map(\.name).joined(separator: ", ")))")
        }
        if let c = named.first { return c }
        throw CLIError("you do not follow a channel named \"\(text)\" (see: matinee channel list)")
    }
}
