import ArgumentParser
import Catalog
import Foundation
import Server
import Streaming
import TorrentKit

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run headless: seed, keep channels fresh and alive on the DHT, serve streams and the web UI.",
        discussion: """
            Seeds everything Matinee has downloaded and the catalogs of the channels you \
            follow, refreshes those channels periodically, and puts each channel's latest \
            signed pointer back on the DHT, so a channel stays reachable while its publisher \
            is offline. Serves the web UI, its API (docs/api.md) and the same /stream routes \
            as `matinee play`. Prints its base URL on stdout. Stop with Ctrl-C.
            """)

    @OptionGroup var options: ServeOptions

    func run() async throws {
        try await reportingErrors { try await options.runDaemon(openBrowser: false) }
    }
}

/// `matinee` on its own: the daemon of `serve`, with the web UI opened in
/// the browser.
struct App: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open",
        abstract: "Start Matinee and open its web UI in the browser (what `matinee` alone does).",
        discussion: "The same daemon as `matinee serve`; --no-browser only prints the UI's URL.")

    @OptionGroup var options: ServeOptions

    @Flag(name: .customLong("no-browser"), help: "Do not open a browser; just print the URL.")
    var noBrowser = false

    func run() async throws {
        try await reportingErrors { try await options.runDaemon(openBrowser: !noBrowser) }
    }
}

struct ServeOptions: ParsableArguments {
    @Option(name: .customLong("http-port"), help: ArgumentHelp("Serve on this port of 127.0.0.1 (default: any free port).", valueName: "port"))
    var httpPort = 0

    @Option(name: .customLong("download-dir"), help: ArgumentHelp("Where downloads are stored (default: Matinee's downloads folder).", valueName: "dir"))
    var downloadDir: String?

    @Option(name: .customLong("refresh-minutes"), help: ArgumentHelp("Look for new versions of every channel about this often (each wait varies by a quarter either way; the first comes within a minute of starting).", valueName: "minutes"))
    var refreshMinutes = Double(RefreshSchedule.daemon.interval.components.seconds) / 60

    @Option(name: .customLong("republish-minutes"), help: ArgumentHelp("Put channel pointers back on the DHT this often, and whenever a new version arrives (items expire after about two hours).", valueName: "minutes"))
    var republishMinutes = Double(RefreshSchedule.daemon.republishInterval.components.seconds) / 60

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        if !(0...65535).contains(httpPort) { throw ValidationError("--http-port must be between 0 and 65535") }
        if refreshMinutes <= 0 || republishMinutes <= 0 { throw ValidationError("intervals must be positive") }
        if republishMinutes > 100 { throw ValidationError("--republish-minutes must be at most 100: DHT items expire after about two hours") }
    }

    /// Runs the daemon. `home` overrides where it keeps things (the demo's
    /// own folder); `prepare` runs once the engine and the catalog are up,
    /// before the UI's URL is printed.
    func runDaemon(
        openBrowser: Bool, home override: Home? = nil,
        prepare: (@Sendable (EngineRuntime, CatalogStore) async throws -> Void)? = nil
    ) async throws {
        let home = override ?? Home.resolve()
        Signals.expect()
        try home.prepare()
        let store = try await openCatalog(home)
        // Saved settings fill in what the command line leaves at its defaults.
        let saved = SettingsFile.load(home)
        let engine = self.engine.merged(with: saved)
        let dir = downloadDir.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? saved?.downloadDir ?? home.downloads
        let port = httpPort != 0 ? httpPort : saved?.httpPort ?? 0
        let settings = saved ?? engine.settings(downloadDir: dir, httpPort: port, cacheLimitGiB: 0)
        let runtime = try await EngineRuntime.start(home: home, options: engine, downloadDir: dir)
        let hub = StreamHub()
        try await runtime.run {
            try await withThrowingTaskGroup(of: Void.self) { group in
                let service = DaemonChannels(runtime: runtime, store: store)
                let playback = DaemonPlayback(runtime: runtime, hub: hub)
                let library = DaemonLibrary(runtime: runtime, hub: hub, engine: engine, settings: settings)
                var server = StreamServer(hub: hub, port: port, catalog: (store, service, playback, runtime.home.channelsDir))
                server.library = library
                let bound = try await HTTPRunner.start(server, in: &group)
                try await prepare?(runtime, store)
                let base = "http://127.0.0.1:\(bound)"
                // CLI commands find this daemon here and act through it.
                let daemon = DaemonFile(url: base, token: server.token.value, pid: getpid())
                try? daemon.write(home)
                defer { DaemonFile.remove(home, pid: getpid()) }
                Console.result(base)
                if openBrowser { Browser.open(base + "/") }
                let content = try await Self.seedDownloads(runtime: runtime, hub: hub)
                let catalogs = try await Self.seedCatalogs(runtime: runtime, store: store)
                Console.info("Serving on \(base): seeding \(content.count) downloads and \(catalogs) channel catalogs; Ctrl-C to stop.")
                await ChannelRefresher.waitForDHT(runtime.session, timeout: 30)
                // Announce what is seeded now that the DHT answers: a torrent
                // added while the routing table was still filling may have
                // announced to nobody, and libtorrent's next announce is 15
                // minutes away.
                for t in runtime.torrents { t.torrent.announce() }
                group.addTask { await Signals.wait(); throw Finished() }
                group.addTask {
                    while true {
                        await Self.republish(runtime: runtime, store: store)
                        try await Task.sleep(for: .seconds(republishMinutes * 60))
                    }
                }
                group.addTask {
                    let schedule = RefreshSchedule(interval: .seconds(refreshMinutes * 60), republishInterval: .seconds(republishMinutes * 60))
                    try await Task.sleep(for: schedule.firstRefresh(unit: .random(in: 0..<1)))
                    while true {
                        await Self.refreshAll(runtime: runtime, store: store)
                        try await Task.sleep(for: schedule.nextRefresh(unit: .random(in: 0..<1)))
                    }
                }
                group.addTask {
                    // Downloads share within the user's limits (catalogs
                    // always), and the cache stays under its size.
                    while true {
                        try await Task.sleep(for: .seconds(5))
                        await library.upkeep()
                    }
                }
                do {
                    while try await group.next() != nil {}
                } catch is Finished {}
                group.cancelAll()
            }
        }
    }

    /// Everything downloaded before (a saved .torrent and resume data), seeded
    /// from where it was saved, and streamable at /stream.
    static func seedDownloads(runtime: EngineRuntime, hub: StreamHub) async throws -> [Torrent] {
        let home = runtime.home
        var out: [Torrent] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: home.resumeDir)) ?? [] where name.hasSuffix(".resume") {
            guard let id = TorrentID(string: String(name.dropLast(".resume".count))),
                  let bytes = Disk.read(home.torrentFile(id), limit: SourceResolver.maxTorrentSize),
                  let meta = try? TorrentMetadata(torrentFile: bytes),
                  let resume = Disk.read(home.resumeFile(id), limit: 64 << 20),
                  case let .bytes(path)? = (try? Bencode.decode(resume))?["save_path"]
            else { continue }
            let savePath = String(decoding: path, as: UTF8.self)
            // Catalog torrents are handled by seedCatalogs.
            if meta.name == ChannelResolver.folderName { continue }
            let t = try await runtime.add(
                ResolvedSource(source: .torrentFile(bytes), id: id, metadata: meta), streaming: false, savePath: savePath)
            hub.register(t, savePath: savePath)
            out.append(t)
        }
        return out
    }

    /// The catalog torrent of every followed channel, from its folder.
    static func seedCatalogs(runtime: EngineRuntime, store: CatalogStore) async throws -> Int {
        var n = 0
        for c in try await store.channels() where !c.isLocal {
            guard let hex = c.catalogInfoHash, let id = TorrentID(string: hex) else { continue }
            let folder = runtime.home.channelsDir + "/\(c.key)/\(c.highestSequence)"
            guard FileManager.default.fileExists(atPath: folder + "/" + ChannelResolver.folderName) else { continue }
            let source: AddTorrentOptions.Source
            if let bytes = Disk.read(runtime.home.torrentFile(id), limit: SourceResolver.maxTorrentSize),
               let meta = try? TorrentMetadata(torrentFile: bytes), meta.id == id
            {
                source = .torrentFile(bytes)
            } else {
                source = .magnet("magnet:?xt=urn:btih:\(hex)")
            }
            _ = try await runtime.add(ResolvedSource(source: source, id: id, metadata: nil), streaming: false, savePath: folder)
            n += 1
        }
        return n
    }

    /// Puts each channel's latest signed pointer back on the DHT.
    static func republish(runtime: EngineRuntime, store: CatalogStore, only keys: Set<String>? = nil) async {
        guard let channels = try? await store.channels() else { return }
        for c in channels where !c.isLocal && keys.map({ $0.contains(c.key) }) != false {
            guard let a = ChannelAddress(c.address), let value = c.pointerValue, let sig = c.pointerSignature,
                  let seq = c.pointerSequence
            else { continue }
            let item = DHTMutableItem(publicKey: a.publicKey, salt: a.salt, sequence: seq, value: Array(value), signature: Array(sig))
            guard ChannelPointer.isValid(item) else { continue }
            let nodes = await runtime.session.dhtPut(item)
            Console.info("Put \(c.name)'s pointer (version \(seq)) back on the DHT: \(nodes) nodes took it")
        }
    }

    static func refreshAll(runtime: EngineRuntime, store: CatalogStore) async {
        guard let channels = try? await store.channels() else { return }
        for c in channels where !c.isLocal {
            guard let a = ChannelAddress(c.address) else { continue }
            do {
                Console.info(try await DaemonChannels(runtime: runtime, store: store).refreshAndRepublish(a))
            } catch {
                Console.error("\(c.name): \(error) (keeping the last good catalog)")
            }
        }
    }
}

/// Channel changes asked for over the HTTP API, done by the daemon's engine.
struct DaemonChannels: ChannelService {
    let runtime: EngineRuntime
    let store: CatalogStore

    func addChannel(address: String) async throws -> String {
        if ["open-films", BundledChannel.name.lowercased()].contains(address.lowercased()) {
            try await BundledChannel.install(into: store, force: true)
            return "Added \"\(BundledChannel.name)\""
        }
        guard let a = ChannelAddress(address) else {
            throw ChannelServiceError("\"\(address)\" is not a channel address", badInput: true)
        }
        let existed = try await store.channel(a.hex) != nil
        try await store.addChannel(key: a.hex, name: a.short, address: a.magnet)
        do {
            return try await refreshAndRepublish(a)
        } catch let e as CLIError {
            if !existed { try? await store.removeChannel(a.hex) }
            throw ChannelServiceError(e.message, badInput: false)
        }
    }

    func refreshChannel(key: String) async throws -> String {
        guard let c = try await store.channel(key) else { throw ChannelServiceError("not following that channel", badInput: true) }
        if c.isLocal { return "\(c.name) comes with Matinee: it is updated with the app" }
        guard let a = ChannelAddress(c.address) else { throw ChannelServiceError("the channel's address is damaged", badInput: true) }
        do {
            return try await refreshAndRepublish(a)
        } catch let e as CLIError {
            throw ChannelServiceError(e.message + " (keeping the last good catalog)", badInput: false)
        }
    }

    /// Refreshes a channel; a version new to this daemon is put back on the
    /// DHT at once (RefreshSchedule): it stays found if its publisher goes
    /// offline right after publishing.
    func refreshAndRepublish(_ a: ChannelAddress) async throws -> String {
        let before = try await store.channel(a.hex)?.highestSequence ?? 0
        let outcome = try await ChannelRefresher.refresh(a, runtime: runtime, store: store, timeout: 60)
        if let now = try await store.channel(a.hex), now.highestSequence > before {
            Task { await ServeOptions.republish(runtime: runtime, store: store, only: [a.hex]) }
        }
        return outcome
    }

    func removeChannel(key: String) async throws {
        guard let c = try await store.channel(key) else { return }
        if c.isLocal { try await store.setFlag("bundled-removed:\(c.key)", true) }
        try await store.removeChannel(key)
        // Stop seeding its catalogs before their files go: a torrent left in
        // the engine would claim pieces whose files are gone, and adding the
        // channel again would find "all pieces" and no catalog.json.
        let folder = runtime.home.channelsDir + "/" + key
        for (t, savePath) in runtime.torrents where savePath.hasPrefix(folder + "/") {
            runtime.remove(t, deleteFiles: false)
        }
        // The resolver adds catalog torrents to the session directly.
        if let hex = c.catalogInfoHash, let id = TorrentID(string: hex), let t = runtime.session.torrent(id) {
            runtime.remove(t, deleteFiles: false)
        }
        try? FileManager.default.removeItem(atPath: folder)
    }
}

/// Streams asked for over the HTTP API: the title's source is added to the
/// engine (once) and its file opened for streaming.
struct DaemonPlayback: PlaybackService {
    let runtime: EngineRuntime
    let hub: StreamHub

    func play(ref: String, episode: String?, quality: String?) async throws -> (path: String, label: String) {
        let pick: CatalogSource.Pick
        do {
            guard let p = try await CatalogSource.resolve(ref, episode: episode, quality: quality, home: runtime.home) else {
                throw ChannelServiceError("no title \"\(ref)\" in the catalog", badInput: true)
            }
            pick = p
        } catch let e as CLIError {
            throw ChannelServiceError(e.message, badInput: true)
        }
        let torrent: Torrent
        do {
            torrent = try await runtime.add(pick.resolved, streaming: true)
        } catch let e as CLIError {
            throw ChannelServiceError(e.message, badInput: false)
        }
        let meta: TorrentMetadata
        do {
            meta = try await withTimeout(.seconds(60)) { try await torrent.metadata() }
        } catch {
            throw ChannelServiceError("nobody shares \(pick.label) right now (no peers within 60 s)", badInput: false)
        }
        await runtime.rememberMetadata(torrent)
        // Just played: the cache limit removes the least recently played first.
        try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: runtime.home.torrentFile(torrent.id))
        let file: TorrentMetadata.File
        do {
            file = try FileChooser.choose(meta, selector: pick.fileIndex.map(String.init))
        } catch let e as EngineError {
            throw ChannelServiceError(e.message, badInput: false)
        }
        hub.register(torrent, savePath: runtime.downloadDir)
        _ = try await hub.stream(torrent.id, fileIndex: file.index)
        await torrent.wake()
        return ("/stream/\(torrent.id.hex)/\(file.index)", pick.label)
    }

    func swarm(ref: String, episode: String?, quality: String?) async throws -> SwarmInfo {
        let pick: CatalogSource.Pick
        do {
            guard let p = try await CatalogSource.resolve(ref, episode: episode, quality: quality, home: runtime.home) else {
                throw ChannelServiceError("no title \"\(ref)\" in the catalog", badInput: true)
            }
            pick = p
        } catch let e as CLIError {
            throw ChannelServiceError(e.message, badInput: true)
        }
        let id = pick.resolved.id
        if let t = runtime.session.torrent(id) {
            let st = await t.status()
            return SwarmInfo(source: "engine", peers: max(st.peers, st.knownPeers), seeds: st.seeds, progress: st.progress)
        }
        guard let n = await runtime.session.dhtPeerCount(id, timeout: .seconds(20)) else { return SwarmInfo(source: "unknown", peers: 0) }
        return SwarmInfo(source: "dht", peers: n)
    }

    func externalPlayers() -> [String] { Player.external.filter { (try? Player.locate($0)) != nil } }

    func openExternal(player: String, url: String, title: String, start: Double) async throws -> String {
        guard Player.external.contains(player), let path = try? Player.locate(player) else {
            throw ChannelServiceError("\(player) is not a player Matinee can start here (it knows mpv and vlc, if installed)", badInput: true)
        }
        do {
            try Player.launch(path, url: url, title: title, start: start)
        } catch let e as CLIError {
            throw ChannelServiceError(e.message, badInput: false)
        }
        Console.info("Opened \(title) in \(player)")
        return "Playing in \(player == "vlc" ? "VLC" : player) (the link it got works for a few hours)."
    }
}

/// Opens a URL in the user's browser (xdg-open), without waiting for it.
enum Browser {
    static func open(_ url: String) {
        guard let opener = try? Player.locate("xdg-open") else {
            Console.info("Open \(url) in your browser.")
            return
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: opener)
        p.arguments = [url]
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { Console.info("Open \(url) in your browser.") }
    }
}

