import ArgumentParser
import Casting
import Catalog
import Daemon
import Foundation
import Streaming
import TorrentKit

struct Play: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stream a torrent while it downloads.",
        discussion: """
            Prints the stream URL on stdout as soon as it is known; open it in mpv, VLC, \
            ffmpeg or a browser, or let --player start one. Seeking works anywhere: the \
            pieces under the playhead are fetched first. Progress goes to stderr.

            Examples:
              matinee play 'magnet:?xt=urn:btih:...'
              matinee play film.torrent --player mpv
              matinee play https://example.org/film.torrent --file 2
              matinee play 08ada5a7a6183aae1e09d831df6748d566095a10 --list
              matinee play sintel-2010 --cast "Living Room TV"
            """)

    @Argument(help: "A magnet link, a .torrent file, an http(s) URL of one, an info-hash, or a title id from `matinee search`.")
    var source: String

    @Option(name: .long, help: ArgumentHelp("For a series from the catalog: the episode (default: the first).", valueName: "S01E02"))
    var episode: String?

    @Option(
        name: .long, help: ArgumentHelp("For a title from the catalog: the quality to play (default: the best listed).", valueName: "720p"))
    var quality: String?

    @Option(name: .long, help: ArgumentHelp("The file to play, by index or name (default: the largest video).", valueName: "index|name"))
    var file: String?

    @Flag(name: .long, help: "List the torrent's files and exit.")
    var list = false

    @Option(name: .long, help: ArgumentHelp("Start this player on the stream and stop when it closes.", valueName: "mpv|vlc"))
    var player: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Play on this TV or other DLNA/UPnP renderer on your network (its name, or the start of it: see matinee cast --list); Ctrl-C stops it.",
            valueName: "name"))
    var cast: String?

    @Option(
        name: .customLong("http-port"),
        help: ArgumentHelp("Serve the stream on this port of 127.0.0.1 (default: any free port).", valueName: "port"),
        transform: OptionValue.int)
    var httpPort = 0

    @Option(
        name: .customLong("download-dir"),
        help: ArgumentHelp("Where to store the download (default: Matinee's downloads folder).", valueName: "dir"))
    var downloadDir: String?

    @Option(name: .long, help: ArgumentHelp("Give up if no peer is found within this many seconds.", valueName: "seconds"))
    var timeout: Int?

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        if let player, !["mpv", "vlc"].contains(player) {
            throw ValidationError("--player takes mpv or vlc (got \"\(player)\")")
        }
        if !(0...65535).contains(httpPort) { throw ValidationError("--http-port must be between 0 and 65535") }
        if let timeout, timeout <= 0 { throw ValidationError("--timeout must be a positive number of seconds") }
        if cast != nil && (player != nil || list) { throw ValidationError("--cast plays on a renderer: it goes with neither --player nor --list") }
        if let cast, cast.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--cast takes a renderer's name") }
    }

    func run() async throws {
        try await reportingErrors {
            let home = Home.resolve()
            let playerPath = try player.map { try Player.locate($0) }
            if let daemon = await DaemonClient.find(home) {
                try await playThrough(daemon, playerPath: playerPath)
            } else {
                try await playHere(home, playerPath: playerPath)
            }
        }
    }

    /// No daemon runs: this command runs the daemon's code, as a player.
    private func playHere(_ home: Home, playerPath: String?) async throws {
        // What to play, before any engine starts: a bad source or --list of a
        // .torrent needs none.
        let store =
            CatalogSource.looksLikeTitle(source) && !FileManager.default.fileExists(atPath: source) ? try await openCatalog(home) : nil
        let choice = try await Playback.choose(
            source, episode: episode, quality: quality, file: file, localFiles: true, home: home, store: store,
            trustHosts: SettingsFile.load(home)?.catalogHosts == true, fetchURLs: !engine.config.merged(with: SettingsFile.load(home)).isProxyOnly)
        if let label = choice.label { Console.info("Playing \(label)") }
        // The renderer before the engine: a TV that is off fails at once.
        var found: Renderer?
        if let cast { found = try await findRenderer(cast) }
        let renderer = found
        if list, let meta = choice.source.metadata {
            printList(meta)
            return
        }
        var options = DaemonOptions(role: .player, command: "matinee play", engine: engine.config)
        options.httpPort = httpPort
        options.downloadDir = downloadDir
        Signals.expect()  // from here on, Ctrl-C stops cleanly
        try await Console.withEvents { events in
            let daemon = try await MatineeDaemon.start(home: home, options: options, events: events)
            try await Signals.stopping(daemon) {
                try await daemon.run(session: { _ in
                    if list {
                        let t = try await daemon.runtime.add(choice.source, streaming: true, peers: engine.config.peers)
                        printList(try await daemon.playback.waitForMetadata(t, label: choice.label, timeout: timeout.map { .seconds($0) }))
                        return
                    }
                    let opened = try await daemon.playback.open(choice, peers: engine.config.peers, timeout: timeout.map { .seconds($0) })
                    guard let url = daemon.playback.url(opened) else { throw CLIError("the HTTP server is not listening") }
                    Console.result(url)
                    Console.info("Streaming \(opened.file.path) (\(Format.bytes(opened.file.size)))")
                    let stream = opened.stream
                    if let renderer {
                        let session = try await daemon.casts.start(
                            path: opened.path, title: choice.label ?? opened.file.name, fileName: opened.file.name, on: renderer)
                        Console.info(
                            "Casting to \(renderer.name) (\(renderer.host))" + (session.isConverted ? ", converted as it plays (it cannot play this file as it is)" : "")
                                + "; Ctrl-C stops it")
                        try await followCast(session) { stream.status() }
                        return
                    }
                    try await follow(url: url, title: opened.file.name, playerPath: playerPath) { stream.status() }
                })
            }
        }
    }

    /// A daemon runs on this home: it owns the engine, so it plays; this
    /// command prints its stream URL and shows the same progress.
    private func playThrough(_ daemon: DaemonClient, playerPath: String?) async throws {
        let unused = [
            engine.anyGiven ? "engine options" : nil, downloadDir.map { _ in "--download-dir" }, httpPort != 0 ? "--http-port" : nil,
        ]
        .compactMap { $0 }
        Console.info(
            (list ? "Reading the torrent" : "Playing") + " through the running Matinee (\(daemon.file.url))"
                + (unused.isEmpty ? "…" : ": its engine and settings apply, so \(unused.joined(separator: ", ")) are not used"))
        var body: [String: Any] = [:]
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: source, isDirectory: &isDir) {
            guard !isDir.boolValue else { throw CLIError("\(source) is a folder, not a .torrent file") }
            guard let bytes = Disk.read(source, limit: SourceResolver.maxTorrentSize) else {
                throw CLIError("cannot read \(source) (unreadable, or larger than 32 MiB)")
            }
            body["torrent"] = Data(bytes).base64EncodedString()
            body["name"] = source
        } else {
            body["source"] = source
        }
        if let file { body["file"] = file }
        if let episode { body["episode"] = episode }
        if let quality { body["quality"] = quality }
        if !engine.peers.isEmpty { body["peers"] = engine.peers }
        // The renderer before the stream: a TV that is off fails at once.
        var found: (udn: String, name: String)?
        if let cast, !list { found = try await castTarget(daemon, cast) }
        let target = found
        let wait = timeout ?? 3600
        body["timeout"] = wait
        if list {
            Console.live("Waiting for the running Matinee to find the torrent's peers…")
            let (status, json) = try await daemon.send("POST", "/api/files", body: body, timeout: TimeInterval(wait + 30))
            guard status == 200, let files = json as? [[String: Any]] else {
                throw CLIError((json as? [String: Any])?["error"] as? String ?? "the running Matinee answered \(status)")
            }
            for f in files {
                Console.result("\(f["index"] as? Int ?? 0)\t\(Format.bytes(Int64(f["size"] as? Int ?? 0)))\t\(f["path"] as? String ?? "")")
            }
            return
        }
        // The daemon answers once it has the metadata (from peers, for a magnet).
        Console.live("Waiting for the running Matinee to find the torrent's peers…")
        defer { Console.endLive() }
        let (status, json) = try await daemon.send("POST", "/api/streams", body: body, timeout: TimeInterval(wait + 30))
        let object = json as? [String: Any] ?? [:]
        guard status == 201, let path = object["path"] as? String, let hash = object["infoHash"] as? String,
            let index = object["file"] as? Int, let name = object["name"] as? String
        else { throw CLIError(object["error"] as? String ?? "the running Matinee answered \(status)") }
        if let label = object["label"] as? String { Console.info("Playing \(label)") }
        let url = daemon.file.url + path
        Console.result(url)
        Console.info("Streaming \(name) (\(Format.bytes(Int64(object["size"] as? Int ?? 0))))")
        Signals.expect()
        let statusPath = "/api/streams/\(hash)/\(index)"
        let streamStatus: @Sendable () async -> StreamStatus? = {
            guard let data = await daemon.data(statusPath) else { return nil }
            return try? JSONDecoder().decode(StreamStatus.self, from: data)
        }
        if let target {
            let (status, json) = try await daemon.send(
                "POST", "/api/cast",
                body: ["infoHash": hash, "file": index, "title": object["label"] as? String ?? (name as NSString).lastPathComponent, "renderer": target.udn],
                timeout: 60)
            guard status == 201 else {
                throw CLIError((json as? [String: Any])?["error"] as? String ?? "the running Matinee answered \(status)")
            }
            Console.info("Casting to \(target.name) through the running Matinee; Ctrl-C stops it")
            try await followCast(
                name: target.name,
                state: {
                    // 404: the cast ended (stopped from the web UI, say).
                    guard let data = await daemon.data("/api/cast") else { return CastView(state: "stopped") }
                    guard let c = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
                    return CastView(state: c["state"] as? String ?? "", position: c["position"] as? Double, duration: c["duration"] as? Double)
                },
                stop: { _ = try? await daemon.send("POST", "/api/cast/control", body: ["action": "stop"], timeout: 15) },
                status: streamStatus)
            return
        }
        try await follow(url: url, title: (name as NSString).lastPathComponent, playerPath: playerPath) {
            guard let data = await daemon.data(statusPath) else { return nil }
            return try? JSONDecoder().decode(StreamStatus.self, from: data)
        }
    }

    /// Shows the stream's progress until Ctrl-C, or until the player (with
    /// --player) closes.
    private func follow(url: String, title: String, playerPath: String?, status: @escaping @Sendable () async -> StreamStatus?) async throws
    {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var done = false
                var problem: String?
                while true {
                    try await Task.sleep(for: .seconds(1))
                    guard let st = await status() else { continue }
                    if st.problem != problem {
                        problem = st.problem
                        Console.info(st.problem.map { "Stopped: \($0)" } ?? "Downloading again.")
                    }
                    if !done && st.size > 0 && st.bufferedBytes >= st.size {
                        done = true
                        Console.info("Download complete: \(st.path)")
                    }
                    Console.live(Progress.line(st))
                }
            }
            group.addTask {
                await Signals.wait()
                throw Finished()
            }
            if let playerPath {
                group.addTask {
                    try await Player.run(playerPath, url: url, title: title)
                    throw Finished()
                }
            }
            do {
                while try await group.next() != nil {}
            } catch is Finished {}
            group.cancelAll()
        }
        Console.endLive()
    }

    /// The renderer `name` names, found on the LAN now.
    private func findRenderer(_ name: String) async throws -> Renderer {
        Console.live("Looking for \(name) on the network…")
        defer { Console.endLive() }
        let (renderers, _) = await RendererDiscovery.discover(timeout: 3)
        if let r = RendererDiscovery.pick(name, from: renderers) { return r }
        if renderers.isEmpty { throw CLIError("no TV or renderer answered on this network (is \(name) on?)") }
        throw CLIError("no single renderer is called \"\(name)\"; found: \(renderers.map(\.name).joined(separator: ", "))")
    }

    /// Shows the cast's state and the download's until Ctrl-C or the end
    /// of the film, then stops the renderer.
    /// What a renderer does, in words, as the CLI follows it.
    struct CastView: Sendable {
        var state: String
        var position: Double?
        var duration: Double?
    }

    private func followCast(_ session: CastSession, status: @escaping @Sendable () async -> StreamStatus?) async throws {
        try await followCast(
            name: session.renderer.name,
            state: {
                guard let r = try? await session.state() else { return nil }
                return CastView(state: CastWords.state(r.transport), position: r.position, duration: r.duration)
            },
            stop: { await session.end() }, status: status)
    }

    /// Shows the cast's state and the download's until Ctrl-C or the end
    /// of the film, then stops the renderer. `state` nil: no answer.
    private func followCast(
        name: String, state: @escaping @Sendable () async -> CastView?, stop: @escaping @Sendable () async -> Void,
        status: @escaping @Sendable () async -> StreamStatus?
    ) async throws {
        defer { Console.endLive() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var played = false
                var failures = 0
                var stoppedPolls = 0
                while true {
                    try await Task.sleep(for: .seconds(1))
                    guard let r = await state() else {
                        failures += 1
                        if failures == 10 { Console.info("\(name) does not answer") }
                        continue
                    }
                    failures = 0
                    if r.state == "playing" { played = true }
                    // Stopped after playing, for two polls in a row (a
                    // renderer may pass through it while it seeks): the film
                    // ended, or someone stopped it on the TV.
                    stoppedPolls = played && (r.state == "stopped" || r.state == "idle") ? stoppedPolls + 1 : 0
                    if stoppedPolls >= 2 {
                        Console.info("\(name) stopped")
                        throw Finished()
                    }
                    let at = r.position.map(Format.clock) ?? "–"
                    let of = r.duration.map { " / " + Format.clock($0) } ?? ""
                    let st = await status()
                    Console.live("\(name): \(r.state) \(at)\(of)" + (st.map { " · " + Progress.line($0) } ?? ""))
                }
            }
            group.addTask {
                await Signals.wait()
                throw Finished()
            }
            do {
                while try await group.next() != nil {}
            } catch is Finished {
            } catch {
                // Stopped from outside (the daemon shutting down): the TV stops too.
                await Task { await stop() }.value
                throw error
            }
            group.cancelAll()
        }
        await Task { await stop() }.value
    }

    /// `--cast` through the running daemon: the renderer it finds for `name`.
    private func castTarget(_ daemon: DaemonClient, _ name: String) async throws -> (udn: String, name: String) {
        Console.live("Looking for \(name) on the network…")
        defer { Console.endLive() }
        let (status, json) = try await daemon.send("GET", "/api/cast/renderers?refresh=1", timeout: 60)
        guard status == 200, let list = json as? [[String: Any]] else { throw CLIError("the running Matinee answered \(status)") }
        let found = list.compactMap { r -> (udn: String, name: String)? in
            guard let udn = r["udn"] as? String, let n = r["name"] as? String else { return nil }
            return (udn, n)
        }
        let n = name.lowercased()
        if let exact = found.first(where: { $0.name.lowercased() == n || $0.udn.lowercased() == n || $0.udn.lowercased() == "uuid:" + n }) {
            return exact
        }
        let starts = found.filter { $0.name.lowercased().hasPrefix(n) }
        if starts.count == 1 { return starts[0] }
        if found.isEmpty { throw CLIError("no TV or renderer answered on this network (is \(name) on?)") }
        throw CLIError("no single renderer is called \"\(name)\"; found: \(found.map(\.name).joined(separator: ", "))")
    }

    private func printList(_ meta: TorrentMetadata) {
        for f in meta.visibleFiles {
            Console.result("\(f.index)\t\(Format.bytes(f.size))\t\(f.path)")
        }
    }
}

/// Ends a command's task group: the work is done or a signal came.
struct Finished: Error {}

/// The live progress line of a stream.
enum Progress {
    static func line(_ st: StreamStatus) -> String {
        let playhead = st.readers.min() ?? 0
        let ahead = st.buffered.first { $0.count == 2 && $0[0] <= playhead && playhead < $0[1] }.map { $0[1] - playhead } ?? 0
        let pct = st.size > 0 ? Int(Double(st.bufferedBytes) * 100 / Double(st.size)) : 100
        if let problem = st.problem { return "\(Format.bytes(ahead)) ahead · \(pct)% · stopped: \(problem)" }
        return
            "\(Format.bytes(ahead)) ahead · \(pct)% · ↓ \(Format.rate(st.downloadRate)) ↑ \(Format.rate(st.uploadRate)) · \(Format.count(st.peers, "peer")) (\(Format.count(st.seeds, "seed")))"
    }
}
