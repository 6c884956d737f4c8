import ArgumentParser
import Foundation
import Server
import Streaming
import Synchronization
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
            """)

    @Argument(help: "A magnet link, a .torrent file, an http(s) URL of one, an info-hash, or a title id from `matinee search`.")
    var source: String

    @Option(name: .long, help: ArgumentHelp("For a series from the catalog: the episode (default: the first).", valueName: "S01E02"))
    var episode: String?

    @Option(name: .long, help: ArgumentHelp("For a title from the catalog: the quality to play (default: the best listed).", valueName: "720p"))
    var quality: String?

    @Option(name: .long, help: ArgumentHelp("The file to play, by index or name (default: the largest video).", valueName: "index|name"))
    var file: String?

    @Flag(name: .long, help: "List the torrent's files and exit.")
    var list = false

    @Option(name: .long, help: ArgumentHelp("Start this player on the stream and stop when it closes.", valueName: "mpv|vlc"))
    var player: String?

    @Option(name: .customLong("http-port"), help: ArgumentHelp("Serve the stream on this port of 127.0.0.1 (default: any free port).", valueName: "port"))
    var httpPort = 0

    @Option(name: .customLong("download-dir"), help: ArgumentHelp("Where to store the download (default: Matinee's downloads folder).", valueName: "dir"))
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
    }

    func run() async throws {
        try await reportingErrors { try await play() }
    }

    private func play() async throws {
        var fileSelector = file
        let resolved: ResolvedSource
        if let pick = try await CatalogSource.resolve(source, episode: episode, quality: quality, home: Home.resolve()) {
            resolved = pick.resolved
            if fileSelector == nil { fileSelector = pick.fileIndex.map(String.init) }
            Console.info("Playing \(pick.label)")
        } else {
            if episode != nil || quality != nil {
                throw CLIError("--episode and --quality apply to titles from the catalog; \"\(source)\" is not one (see matinee search)")
            }
            resolved = try await SourceResolver.resolve(source)
        }
        let selector = fileSelector
        if list, let meta = resolved.metadata {
            printList(meta)
            return
        }
        let playerPath = try player.map { try Player.locate($0) }
        let home = Home.resolve()
        let dir = downloadDir.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? home.downloads
        Signals.expect()  // from here on, Ctrl-C stops cleanly
        let runtime = try await EngineRuntime.start(home: home, options: engine, downloadDir: dir)
        let hub = StreamHub()
        try await runtime.run {
            try await withThrowingTaskGroup(of: Void.self) { group in
                // The HTTP port first: if it is taken, fail before touching anything.
                let server = StreamServer(hub: hub, port: httpPort)
                let port = try await HTTPRunner.start(server, in: &group)
                group.addTask {
                    try await self.stream(
                        resolved, file: selector, runtime: runtime, hub: hub, server: server, httpPort: port, playerPath: playerPath)
                    throw Finished()
                }
                group.addTask {
                    await Signals.wait()
                    throw Finished()
                }
                do {
                    while try await group.next() != nil {}
                } catch is Finished {}
                group.cancelAll()
            }
        }
    }

    /// Runs until the player closes (with --player), or until stopped.
    private func stream(
        _ resolved: ResolvedSource, file: String?, runtime: EngineRuntime, hub: StreamHub, server: StreamServer, httpPort: Int,
        playerPath: String?
    ) async throws {
        let torrent = try await runtime.add(resolved, streaming: true, peers: engine.peerList)
        let policy = engine.seedingPolicy
        let meta = try await waitForMetadata(torrent)
        await runtime.rememberMetadata(torrent)
        if list {
            printList(meta)
            return
        }
        let chosen = try FileChooser.choose(meta, selector: file)
        hub.register(torrent, savePath: runtime.downloadDir)
        let fileStream = try await hub.stream(torrent.id, fileIndex: chosen.index)
        let url = "http://127.0.0.1:\(httpPort)" + server.streamPath(infoHash: torrent.id.hex, file: chosen.index)
        Console.result(url)
        Console.info("Streaming \(chosen.path) (\(Format.bytes(chosen.size)))")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await Progress.run(torrent: torrent, stream: fileStream, policy: policy) }
            if MediaType.isVideo(chosen.name) || MediaType.forFile(chosen.name).hasPrefix("audio/") {
                // Size the window in seconds of playback once the bitrate is known.
                group.addTask {
                    if let rate = await MediaProbe.probe(url)?.bytesPerSecond { fileStream.setBitrate(bytesPerSecond: rate) }
                }
            }
            if let playerPath {
                group.addTask {
                    try await Player.run(playerPath, url: url, title: chosen.name)
                    throw Finished()
                }
            }
            // Progress runs until cancelled (Ctrl-C); the player, if any, ends
            // the command by throwing Finished when it closes.
            while try await group.next() != nil {}
        }
    }

    private func waitForMetadata(_ torrent: Torrent) async throws -> TorrentMetadata {
        if let m = torrent.knownMetadata { return m }
        let start = ContinuousClock.now
        let outcome = Mutex<Result<TorrentMetadata, any Error>?>(nil)
        let waiter = Task {
            let r = await Result(catching: { try await torrent.metadata() })
            outcome.withLock { $0 = r }
        }
        defer { waiter.cancel() }
        var announced = false
        while true {
            if let r = outcome.withLock({ $0 }) {
                do {
                    return try r.get()
                } catch let e as EngineError {
                    throw CLIError(e.message)
                }
            }
            let elapsed = ContinuousClock.now - start
            if !announced && elapsed > .seconds(1) {
                Console.info("Looking for peers for \(torrent.id.hex)…")
                announced = true
            }
            if let timeout, elapsed > .seconds(timeout) {
                throw CLIError("no peers found for \(torrent.id.hex) within \(timeout) s: nobody seems to share it")
            }
            let st = torrent.latestStatus
            Console.live("Looking for peers… \(st.peers) connected, \(st.knownPeers) known")
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    private func printList(_ meta: TorrentMetadata) {
        for f in meta.visibleFiles {
            Console.result("\(f.index)\t\(Format.bytes(f.size))\t\(f.path)")
        }
    }
}

/// Ends the command's task group: the work is done or a signal came.
struct Finished: Error {}

/// The live progress line, and the seeding policy applied once the download is done.
enum Progress {
    static func run(torrent: Torrent, stream: FileStream, policy: SeedingPolicy) async throws {
        var stopped = false
        var announcedDone = false
        let clock = ContinuousClock()
        let start = clock.now
        func seconds() -> Double {
            let d = clock.now - start
            return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
        var search = PeerSearch(startedAt: seconds())
        while true {
            try await Task.sleep(for: .seconds(1))
            let st = torrent.latestStatus
            if search.shouldSearch(now: seconds(), peers: st.peers, wantsData: !(st.isFinished || st.isSeeding)) {
                await torrent.wake()
            }
            let playhead = stream.readerOffsets.min() ?? 0
            let ahead = stream.bufferedAhead(of: playhead)
            if st.isFinished || st.isSeeding {
                if !announcedDone {
                    announcedDone = true
                    Console.info("Download complete: \(stream.file.path)")
                }
                if !stopped, case let .stop(reason) = policy.decide(st) {
                    stopped = true
                    torrent.pause()
                    Console.info("Stopped sharing: \(reason)")
                }
            }
            let pct = stream.size > 0 ? Int(Double(stream.status().bufferedBytes) * 100 / Double(stream.size)) : 100
            Console.live(
                "\(Format.bytes(ahead)) ahead · \(pct)% · ↓ \(Format.rate(st.downloadRate)) ↑ \(Format.rate(st.uploadRate)) · \(st.peers) peers (\(st.seeds) seeds)"
            )
        }
    }
}

/// External players.
enum Player {
    static func locate(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw CLIError("\(name) is not installed (not found on PATH)")
    }

    /// The players the web UI offers ("Open in mpv / VLC").
    static let external = ["mpv", "vlc"]

    /// The player's arguments: the window titled after the file rather than the
    /// URL, where to start, and the URL after "--" so nothing in it reads as an
    /// option.
    static func arguments(for path: String, url: String, title: String, start: Double = 0) -> [String] {
        let from = String(format: "%.1f", start)
        switch URL(fileURLWithPath: path).lastPathComponent {
        case "mpv": return ["--force-media-title=\(title)"] + (start > 0 ? ["--start=\(from)"] : []) + ["--", url]
        case "vlc", "cvlc": return ["--meta-title=\(title)"] + (start > 0 ? ["--start-time=\(from)"] : []) + ["--", url]
        default: return [url]
        }
    }

    /// Starts a player and returns at once (the web UI's "Open in mpv"); it
    /// is reaped when it exits.
    static func launch(_ path: String, url: String, title: String, start: Double) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments(for: path, url: url, title: title, start: start)
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        p.terminationHandler = { _ in }
        do {
            try p.run()
        } catch {
            throw CLIError("cannot start \(path): \(error.localizedDescription)")
        }
    }

    static func run(_ path: String, url: String, title: String) async throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments(for: path, url: url, title: title)
        p.standardInput = FileHandle.nullDevice
        let failure = Mutex<(any Error)?>(nil)
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                // Set before run(): a player that exits at once still resumes us, once.
                p.terminationHandler = { _ in c.resume() }
                do {
                    try p.run()
                } catch {
                    p.terminationHandler = nil
                    failure.withLock { $0 = error }
                    c.resume()
                }
            }
        } onCancel: {
            if p.isRunning { p.terminate() }
        }
        if let e = failure.withLock({ $0 }) {
            throw CLIError("cannot start \(path): \(e.localizedDescription)")
        }
        // A player closed by its user exits 0; anything else is worth a line.
        if !Task.isCancelled, p.terminationReason == .exit, p.terminationStatus != 0 {
            throw CLIError("\(URL(fileURLWithPath: path).lastPathComponent) exited with status \(p.terminationStatus)")
        }
    }
}
