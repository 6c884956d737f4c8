import ArgumentParser
import Catalog
import Daemon
import Foundation
import Server

struct ChannelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "channel",
        abstract: "Make, follow and manage channels (signed catalogs found over the DHT).",
        discussion: """
            A channel is a catalog of films and series signed by its publisher's key and \
            found through the BitTorrent DHT: no server is involved. Follow one with \
            `matinee channel add ADDRESS`, then find its titles with `matinee search`.
            """,
        subcommands: [New.self, Add.self, List.self, Refresh.self, Remove.self])

    struct New: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a channel key and print the channel's address.",
            discussion: """
                The key is kept under MATINEE_HOME/keys, readable only by you: whoever holds it \
                can publish the channel. Publish with `matinee publish LIBRARY --channel NAME`.
                """)

        @Argument(help: "The channel's name, as viewers will see it.")
        var name: String

        func run() async throws {
            try await reportingErrors {
                let home = Home.resolve()
                try home.prepare()
                let key = try catalogCall { try ChannelKey.create(name: name, in: home.keysDir) }
                Console.result(key.address.magnet)
                Console.info("Made channel \"\(key.name)\"; short address \(key.address.short)")
                Console.info("Its key is \(key.path): keep it safe, whoever holds it can publish as this channel.")
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Follow a channel: find it on the DHT, fetch and verify its catalog.",
            discussion: """
                ADDRESS is magnet:?xs=urn:btpk:<key> or matinee:<key>. The catalog is checked \
                against the channel's key before anything is imported.
                """)

        @Argument(help: "The channel's address.")
        var address: String

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Keep looking for the channel on the DHT for up to this many seconds (a lookup that finds nothing is made again, as its publisher may still be hashing); fetching the catalog then gets as long again.",
                valueName: "seconds"))
        var timeout = 60

        @OptionGroup var engine: EngineOptions

        func run() async throws {
            try await reportingErrors {
                let home = Home.resolve()
                try home.prepare()
                if let daemon = await DaemonClient.find(home) {
                    // The running Matinee owns the engine: it does the work.
                    Console.info("Adding through the running Matinee (\(daemon.file.url))…")
                    Console.info(try await daemon.change("POST", "/api/channels", body: ["address": address]) ?? "Added.")
                    return
                }
                let store = try await openCatalog(home)
                if Channels.namesBundled(address) || ChannelAddress(address) == nil {
                    // Needs no engine: the bundled channel, or a refusal.
                    Console.info(try await Channels(home: home, store: store, runtime: nil).add(address))
                    return
                }
                Console.info(
                    try await Console.withEvents { events in
                        try await EngineRuntime.run(home: home, config: engine.config, for: "matinee channel add", events: events) {
                            runtime in
                            try await Channels(home: home, store: store, runtime: runtime, events: events).add(address, timeout: timeout)
                        }
                    })
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the channels you follow.")

        @Flag(name: .long, help: "Print JSON.")
        var json = false

        func run() async throws {
            try await reportingErrors {
                let home = Home.resolve()
                try home.prepare()
                let rows: [ChannelJSON]
                if let daemon = await DaemonClient.find(home) {
                    // The running Matinee owns the index: it lists.
                    guard let data = await daemon.data("/api/channels"),
                        let listed = try? JSONDecoder().decode([ChannelJSON].self, from: data)
                    else {
                        throw CLIError("the running Matinee (\(daemon.file.url)) did not list its channels")
                    }
                    rows = listed
                } else {
                    let channels = try await openCatalog(home).channels()
                    let names = ChannelNames.display(channels)
                    rows = channels.map { ChannelJSON($0, name: names[$0.key] ?? $0.name) }
                }
                if json {
                    let list: [[String: Any]] = rows.map { c in
                        var o: [String: Any] = [
                            "name": c.name, "address": c.address, "titles": c.titles, "version": c.version, "local": c.local,
                            "stale": c.stale,
                        ]
                        if let e = c.error { o["error"] = e }
                        if let r = c.refreshed { o["refreshed"] = r }
                        return o
                    }
                    Console.result(
                        String(
                            decoding: try JSONSerialization.data(withJSONObject: list, options: [.sortedKeys, .prettyPrinted]),
                            as: UTF8.self))
                    return
                }
                if rows.isEmpty {
                    Console.info("You follow no channels yet. Add one with: matinee channel add ADDRESS")
                    return
                }
                for c in rows {
                    var status = c.stale ? "stale (expired \(c.expires ?? "?"))" : "ok"
                    if let e = c.error { status = "last refresh failed: \(e)" }
                    let address = c.local ? "(bundled with Matinee)" : (ChannelAddress(c.address)?.short ?? c.address)
                    Console.result("\(c.name)\t\(Format.count(c.titles, "title"))\tversion \(c.version)\t\(status)\t\(address)")
                }
            }
        }
    }

    struct Refresh: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch the latest version of one channel, or of all of them.",
            discussion: "A channel that cannot be reached keeps its last good catalog.")

        @Argument(help: "A channel's name or address (default: every channel).")
        var channel: String?

        @Option(name: .long, help: ArgumentHelp("Give up on a channel after this many seconds.", valueName: "seconds"))
        var timeout = 60

        @OptionGroup var engine: EngineOptions

        func run() async throws {
            try await reportingErrors {
                let home = Home.resolve()
                try home.prepare()
                let store = try await openCatalog(home)
                let all = try await store.channels().filter { !$0.isLocal }
                let chosen = try channel.map { [try Channels.find($0, in: all)] } ?? all
                guard !chosen.isEmpty else {
                    Console.info("No channels to refresh.")
                    return
                }
                if let daemon = await DaemonClient.find(home) {
                    var failures = 0
                    for c in chosen {
                        do {
                            let key = c.key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? c.key
                            Console.info("\(c.name): " + (try await daemon.change("POST", "/api/channels/\(key)/refresh") ?? "refreshed"))
                        } catch let e as CLIError {
                            failures += 1
                            Console.error("\(c.name): \(e.message) (keeping the last good catalog)")
                        }
                    }
                    if failures > 0 { throw ExitCode(1) }
                    return
                }
                let failures = try await Console.withEvents { events in
                    try await EngineRuntime.run(home: home, config: engine.config, for: "matinee channel refresh", events: events) {
                        runtime in
                        let channels = Channels(home: home, store: store, runtime: runtime, events: events)
                        var failures = 0
                        for c in chosen {
                            do {
                                events.info("\(c.name): " + (try await channels.refresh(key: c.key, timeout: timeout)))
                            } catch {
                                failures += 1
                                events.problem("\(c.name): \(Disk.reason(error)) (keeping the last good catalog)")
                            }
                        }
                        return failures
                    }
                }
                if failures > 0 { throw ExitCode(1) }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop following a channel and forget its titles.")

        @Argument(help: "The channel's name or address.")
        var channel: String

        func run() async throws {
            try await reportingErrors {
                let home = Home.resolve()
                try home.prepare()
                let store = try await openCatalog(home)
                let c = try Channels.find(channel, in: try await store.channels())
                if let daemon = await DaemonClient.find(home) {
                    // The daemon seeds the channel's catalog: it removes it.
                    let key = c.key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? c.key
                    _ = try await daemon.change("DELETE", "/api/channels/\(key)")
                    Console.info("Removed \"\(c.name)\" (\(Format.count(c.titleCount, "title"))) through the running Matinee.")
                    return
                }
                try await Channels(home: home, store: store, runtime: nil).remove(key: c.key)
                Console.info(
                    "Removed \"\(c.name)\" (\(Format.count(c.titleCount, "title")))."
                        + (c.isLocal ? " Bring it back with: matinee channel add open-films" : ""))
            }
        }
    }
}
