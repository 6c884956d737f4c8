import ArgumentParser
import Catalog
import Daemon
import Foundation
import Synchronization
import TorrentKit

struct Publish: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish a library folder as a channel, and seed it until stopped.",
        discussion: """
            The folder is named the way Plex and Jellyfin expect:

              Movies/Title (Year)/Title (Year).mp4        (.mkv, .webm; "... - 720p.mp4" for other qualities)
              Movies/Title (Year)/poster.jpg, fanart.jpg, Title (Year).en.srt, title.json or movie.nfo
              Shows/Show (Year)/Season 01/Show - S01E02 - Episode Title.mp4
              Shows/Show (Year)/poster.jpg, title.json or tvshow.nfo

            Matinee makes a torrent for each video (unchanged files are not hashed again), \
            builds and signs the catalog, puts its pointer on the DHT, prints the channel's \
            address once the DHT has taken it, and seeds everything until stopped, putting the \
            pointer again every 30 minutes. Files that fit no rule are listed as warnings.

            Example:
              matinee channel new "Open Films"
              matinee publish ~/Library --channel "Open Films" --web-seed https://example.org/library/
            """)

    @Argument(help: "The library folder.")
    var library: String

    @Option(
        name: .long, help: ArgumentHelp("The channel to publish as (its name or address; see `matinee channel new`).", valueName: "name"))
    var channel: String

    @Option(
        name: .customLong("web-seed"),
        help: ArgumentHelp(
            "An HTTP mirror of the library (BEP 19), put into every torrent; a URL ending in / gets each file's path appended (repeatable).",
            valueName: "url"))
    var webSeeds: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A tracker URL put into every torrent (repeatable). Viewers use it only if their Settings let channels name hosts; peers are found through the DHT either way.",
            valueName: "url"))
    var tracker: [String] = []

    @Option(name: .long, help: ArgumentHelp("A description of the channel.", valueName: "text"))
    var description: String?

    @Option(
        name: .customLong("valid-days"),
        help: ArgumentHelp("Days this version stays fresh; viewers see it as stale afterwards.", valueName: "days"))
    var validDays = 30

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        for w in webSeeds {
            guard let u = URL(string: w), ["http", "https"].contains(u.scheme?.lowercased() ?? "") else {
                throw ValidationError("--web-seed takes an http(s) URL (got \"\(w)\")")
            }
        }
        for t in tracker {
            guard let u = URL(string: t), ["http", "https", "udp"].contains(u.scheme?.lowercased() ?? ""), u.host != nil else {
                throw ValidationError("--tracker takes an http(s) or udp URL (got \"\(t)\")")
            }
        }
        if validDays < 1 { throw ValidationError("--valid-days must be at least 1") }
    }

    func run() async throws {
        try await reportingErrors { try await publish() }
    }

    private func publish() async throws {
        let home = Home.resolve()
        try home.prepare()
        let key = try catalogCall { try ChannelKey.load(named: channel, in: home.keysDir) }
        var publisher = Publisher(key: key, library: library, workDir: home.publishedDir(Hex.encode(key.publicKey)))
        publisher.webSeeds = webSeeds
        publisher.trackers = tracker
        publisher.description = description
        publisher.validity = TimeInterval(validDays) * 86400
        let lastFile = Mutex("")
        let result = try await catalogCall {
            try await publisher.build { step in
                switch step {
                case let .hashing(file, index, count, pieces, total):
                    let changed = lastFile.withLock { last -> Bool in
                        defer { last = file }
                        return last != file
                    }
                    if changed && !Console.stderrIsTTY { Console.info("Hashing \(file) (\(index + 1)/\(count))") }
                    Console.live("Hashing \(index + 1)/\(count) \(Format.bar(Double(pieces) / Double(max(total, 1)))) \(file)")
                case .reused: break
                case .catalog: Console.live("Building the catalog…")
                }
            }
        }
        Console.endLive()
        for w in result.warnings { Console.info("warning: \(w)") }
        if !result.scan.unmatched.isEmpty {
            Console.info("warning: \(result.scan.unmatched.count) files fit no naming rule and were left out:")
            for f in result.scan.unmatched { Console.info("  \(f)") }
        }
        let episodes = result.document.titles.reduce(0) { $0 + ($1.seasons ?? []).reduce(0) { $0 + $1.episodes.count } }
        Console.info(
            "Catalog version \(result.document.sequence): \(Format.count(result.document.titles.count, "title")) (\(Format.count(episodes, "episode"))), "
                + "\(result.sources.count) torrents (\(result.hashed) hashed now, \(result.sources.count - result.hashed) unchanged)")

        Signals.expect()  // from here on, Ctrl-C stops cleanly
        try await Console.withEvents { events in
            try await EngineRuntime.run(home: home, config: engine.config, for: "matinee publish", events: events) { runtime in
                for s in [result.catalog] + result.sources {
                    try Disk.writeAtomically(s.torrent, to: home.torrentFile(s.id))
                    let meta = try TorrentMetadata(torrentFile: s.torrent)
                    _ = try await runtime.add(
                        ResolvedSource(source: .torrentFile(s.torrent), id: s.id, metadata: meta), streaming: false,
                        seedMode: true, peers: engine.config.peers, savePath: s.savePath)
                }
                Console.live("Putting the channel on the DHT…")
                await waitForDHT(runtime.session, timeout: 30)
                var nodes = 0
                for attempt in 0..<5 where nodes == 0 {
                    if attempt > 0 { try await Task.sleep(for: .seconds(2)) }
                    nodes = await runtime.session.dhtPut(result.pointer, timeout: .seconds(60))
                }
                Console.endLive()
                guard nodes > 0 else {
                    throw CLIError("no DHT node took the channel's pointer: check the network (or --dht-node)")
                }
                // The DHT took the pointer, so it answers now: announce the
                // catalog and the films again (their first announce may have gone
                // out while the routing table was still filling, and reached
                // nobody), so that viewers find this seeder from the start.
                for t in runtime.torrents { t.torrent.announce() }
                Console.result(key.address.magnet)
                Console.info("Published \"\(key.name)\" (stored on \(nodes) DHT nodes); short address \(key.address.short)")
                Console.info("Seeding the catalog and \(result.sources.count) torrents; Ctrl-C to stop.")
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await Signals.wait() }
                    group.addTask {
                        // DHT items expire after about two hours: put it again well before.
                        while true {
                            try await Task.sleep(for: .seconds(30 * 60))
                            _ = await runtime.session.dhtPut(result.pointer)
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        }
    }
}
