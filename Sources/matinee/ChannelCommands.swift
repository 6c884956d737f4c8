import ArgumentParser
import Catalog
import Foundation
import TorrentKit

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

        @Option(name: .long, help: ArgumentHelp("Keep looking for the channel on the DHT for up to this many seconds (a lookup that finds nothing is made again, as its publisher may still be hashing); fetching the catalog then gets as long again.", valueName: "seconds"))
        var timeout = 60

        @OptionGroup var engine: EngineOptions

        func run() async throws {
            try await reportingErrors {
                if ["open-films", BundledChannel.name.lowercased()].contains(address.lowercased()) {
                    let home = Home.resolve()
                    try home.prepare()
                    try await BundledChannel.install(into: try await openCatalog(home), force: true)
                    Console.info("Added \"\(BundledChannel.name)\", the channel bundled with Matinee.")
                    return
                }
                guard let a = ChannelAddress(address) else {
                    throw CLIError("\"\(address)\" is not a channel address (magnet:?xs=urn:btpk:<64 hex digits> or matinee:<key>)")
                }
                let home = Home.resolve()
                try home.prepare()
                if let daemon = await DaemonClient.find(home) {
                    // The running Matinee owns the engine: it does the work.
                    Console.info("Adding through the running Matinee (\(daemon.file.url))…")
                    Console.info(try await daemon.change("POST", "/api/channels", body: ["address": a.magnet]) ?? "Added.")
                    return
                }
                let store = try await openCatalog(home)
                let existed = try await store.channel(a.hex) != nil
                try await store.addChannel(key: a.hex, name: a.short, address: a.magnet)
                let runtime = try await EngineRuntime.start(home: home, options: engine, downloadDir: home.downloads)
                try await runtime.run {
                    do {
                        let outcome = try await ChannelRefresher.refresh(a, runtime: runtime, store: store, timeout: timeout)
                        Console.info(outcome)
                    } catch {
                        // A channel that could not be fetched is not kept.
                        if !existed { try? await store.removeChannel(a.hex) }
                        throw error
                    }
                }
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
                let store = try await openCatalog(home)
                let channels = try await store.channels()
                let names = ChannelNames.display(channels)
                if json {
                    let list: [[String: Any]] = channels.map { c in
                        var o: [String: Any] = [
                            "name": names[c.key] ?? c.name, "address": c.address, "titles": c.titleCount, "version": c.highestSequence,
                            "local": c.isLocal, "stale": c.isStale,
                        ]
                        if let e = c.lastError { o["error"] = e }
                        if let r = c.refreshedAt { o["refreshed"] = r }
                        return o
                    }
                    Console.result(String(decoding: try JSONSerialization.data(withJSONObject: list, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self))
                    return
                }
                if channels.isEmpty {
                    Console.info("You follow no channels yet. Add one with: matinee channel add ADDRESS")
                    return
                }
                for c in channels {
                    var status = c.isStale ? "stale (expired \(c.expires ?? "?"))" : "ok"
                    if let e = c.lastError { status = "last refresh failed: \(e)" }
                    let address = c.isLocal ? "(bundled with Matinee)" : (ChannelAddress(c.address)?.short ?? c.address)
                    Console.result("\(names[c.key] ?? c.name)\t\(c.titleCount) titles\tversion \(c.highestSequence)\t\(status)\t\(address)")
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
                let chosen = try channel.map { [try ChannelRefresher.find($0, in: all)] } ?? all
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
                let runtime = try await EngineRuntime.start(home: home, options: engine, downloadDir: home.downloads)
                var failures = 0
                try await runtime.run {
                    for c in chosen {
                        guard let a = ChannelAddress(c.address) else { continue }
                        do {
                            Console.info("\(c.name): " + (try await ChannelRefresher.refresh(a, runtime: runtime, store: store, timeout: timeout)))
                        } catch let e as CLIError {
                            failures += 1
                            Console.error("\(c.name): \(e.message) (keeping the last good catalog)")
                        }
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
                let c = try ChannelRefresher.find(channel, in: try await store.channels())
                if let daemon = await DaemonClient.find(home) {
                    // The daemon seeds the channel's catalog: it removes it.
                    let key = c.key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? c.key
                    _ = try await daemon.change("DELETE", "/api/channels/\(key)")
                    Console.info("Removed \"\(c.name)\" (\(c.titleCount) titles) through the running Matinee.")
                    return
                }
                if c.isLocal { try await store.setFlag("bundled-removed:\(c.key)", true) }
                try await store.removeChannel(c.key)
                try? FileManager.default.removeItem(atPath: home.channelsDir + "/" + c.key)
                Console.info("Removed \"\(c.name)\" (\(c.titleCount) titles)." + (c.isLocal ? " Bring it back with: matinee channel add open-films" : ""))
            }
        }
    }
}

/// Shared by `channel add`, `channel refresh` and `serve`.
enum ChannelRefresher {
    static func refresh(_ a: ChannelAddress, runtime: EngineRuntime, store: CatalogStore, timeout: Int) async throws -> String {
        var resolver = ChannelResolver(session: runtime.session, store: store, channelsDir: runtime.home.channelsDir)
        resolver.lookupBudget = .seconds(max(5, timeout))
        resolver.downloadTimeout = .seconds(max(30, timeout))
        let outcome = try await catalogCallAsync {
            try await resolver.refresh(a) { step in
                switch step {
                case .waitingForDHT: Console.live("Joining the DHT: no node answered yet…")
                case let .lookingUp(attempt, nodes):
                    Console.live("Asking the DHT for \(a.short)\(attempt > 1 ? " (lookup \(attempt))" : "")… \(Format.count(nodes, "node")) known")
                case let .notFoundYet(attempts, nodes, retryIn):
                    Console.live(
                        "No pointer for \(a.short) yet (\(Format.count(attempts, "lookup")), \(Format.count(nodes, "node")) known); "
                            + "asking again in \(Int(retryIn.components.seconds)) s…")
                case let .found(seq): Console.live("Found version \(seq); fetching its catalog…")
                case let .downloading(done, total):
                    Console.live("Fetching the catalog \(Format.bar(total > 0 ? Double(done) / Double(total) : 0)) \(Format.bytes(done))/\(Format.bytes(total))")
                case .verifying: Console.live("Verifying the signature…")
                }
            }
        }
        Console.endLive()
        // Keep the catalog's .torrent, so `serve` can seed it without asking peers.
        if let hex = try await store.channel(a.hex)?.catalogInfoHash, let id = TorrentID(string: hex),
           let t = runtime.session.torrent(id)
        {
            await runtime.rememberMetadata(t)
        }
        let name = try await store.channel(a.hex)?.name ?? a.short
        switch outcome {
        case let .updated(seq, titles): return "\(name): version \(seq), \(titles) titles"
        case let .unchanged(seq): return "\(name): up to date (version \(seq))"
        }
    }

    /// A fresh engine's routing table is empty for a moment: a lookup made
    /// then finds nothing.
    static func waitForDHT(_ session: TorrentSession, timeout: Int) async {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < deadline {
            if await session.dhtNodeCount() > 0 { return }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    /// The followed channel that `text` names: its address, its name as
    /// `channel list` shows it, or its name alone if no other channel has it.
    static func find(_ text: String, in channels: [CatalogStore.Channel]) throws -> CatalogStore.Channel {
        if let a = ChannelAddress(text), let c = channels.first(where: { $0.key == a.hex }) { return c }
        let names = ChannelNames.display(channels)
        let wanted = ChannelNames.comparable(text)
        if let c = channels.first(where: { ChannelNames.comparable(names[$0.key] ?? $0.name) == wanted }) { return c }
        let named = channels.filter { ChannelNames.comparable($0.name) == wanted }
        if named.count > 1 {
            let which = named.map { c in c.isLocal ? "\"\(c.name)\" (bundled with Matinee)" : (ChannelAddress(c.address)?.short ?? c.address) }
            throw CLIError("\(named.count) channels are named \"\(text)\": name one by its address (\(which.joined(separator: ", ")))")
        }
        if let c = named.first { return c }
        throw CLIError("you do not follow a channel named \"\(text)\" (see: matinee channel list)")
    }
}

/// Opens the catalog index, installing or updating the bundled channel.
func openCatalog(_ home: Home) async throws -> CatalogStore {
    let store = try catalogCall { try CatalogStore(path: home.catalogDatabase) }
    do {
        try await BundledChannel.install(into: store)
    } catch {
        Console.error("could not install the bundled channel: \(error)")
    }
    return store
}

/// Catalog errors become the CLI's one-line errors.
func catalogCall<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as CatalogError { throw CLIError(e.message) }
}

func catalogCallAsync<T>(_ body: () async throws -> T) async throws -> T {
    do { return try await body() } catch let e as CatalogError { throw CLIError(e.message) }
}
