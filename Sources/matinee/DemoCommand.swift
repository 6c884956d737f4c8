import ArgumentParser
import Daemon
import Catalog
import Foundation
import Server
import TorrentKit

/// `matinee demo`: everything working, offline, in one command. It makes a
/// small library with ffmpeg (three short films and a series of two seasons,
/// with posters and subtitles), publishes it as a channel from a publisher
/// engine on loopback, with a third engine as the rest of a private DHT,
/// subscribes the daemon to it over that DHT, and opens the UI.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show Matinee working offline: a demo channel published and watched on this machine.",
        discussion: """
            Makes a demo library with ffmpeg (first run only), publishes it as a signed \
            channel over a private DHT on 127.0.0.1, follows it, and opens the web UI. \
            Everything stays in its own folder (MATINEE_HOME/demo), apart from your own \
            channels and downloads. Stop with Ctrl-C.
            """)

    @Option(name: .customLong("http-port"), help: ArgumentHelp("Serve the UI on this port of 127.0.0.1 (default: any free port).", valueName: "port"))
    var httpPort = 0

    @Flag(name: .customLong("no-browser"), help: "Do not open a browser; just print the URL.")
    var noBrowser = false

    func validate() throws {
        if !(0...65535).contains(httpPort) { throw ValidationError("--http-port must be between 0 and 65535") }
    }

    func run() async throws {
        try await reportingErrors { try await demo() }
    }

    private func demo() async throws {
        let base = Home.resolve()
        let home = Home(data: base.data + "/demo", downloads: base.data + "/demo/downloads")
        try home.prepare()
        let library = home.data + "/library"
        try await DemoLibrary.make(at: library)

        // The publisher's engine and one more DHT node, in this process.
        let publisher = try await Self.session()
        let extra = try await Self.session()
        let pubPort = await publisher.listenPort, extraPort = await extra.listenPort
        publisher.addDHTNode(HostPort(host: "127.0.0.1", port: extraPort))
        extra.addDHTNode(HostPort(host: "127.0.0.1", port: pubPort))

        let key = try catalogCall {
            if let k = try? ChannelKey.load(named: "Matinee Demo", in: home.keysDir) { return k }
            return try ChannelKey.create(name: "Matinee Demo", in: home.keysDir)
        }
        var builder = Publisher(key: key, library: library, workDir: home.publishedDir(Hex.encode(key.publicKey)))
        builder.description = "Short clips made by ffmpeg on this machine, to show Matinee working."
        Console.live("Publishing the demo channel…")
        let published = try await catalogCall { try await builder.build() }
        for s in [published.catalog] + published.sources {
            var o = AddTorrentOptions(source: .torrentFile(s.torrent), savePath: s.savePath)
            o.streaming = false
            o.seedMode = true
            _ = try await publisher.add(o)
        }
        Console.endLive()

        let options = try ServeOptions.parse([
            "--http-port", String(httpPort), "--listen", "127.0.0.1:0",
            "--dht-node", "127.0.0.1:\(pubPort)", "--dht-node", "127.0.0.1:\(extraPort)",
        ])
        let pointer = published.pointer
        let address = key.address
        let outcome = await Result { try await runDemoDaemon(options, home, publisher, extra, pubPort, extraPort, pointer, address) }
        await publisher.shutdown()
        await extra.shutdown()
        try outcome.get()
    }

    private func runDemoDaemon(
        _ options: ServeOptions, _ home: Home, _ publisher: TorrentSession, _ extra: TorrentSession, _ pubPort: Int,
        _ extraPort: Int, _ pointer: DHTMutableItem, _ address: ChannelAddress
    ) async throws {
        try await options.runDaemon(openBrowser: !noBrowser, command: "matinee demo", home: home) { daemon, events in
            let port = await daemon.runtime.session.listenPort
            publisher.addDHTNode(HostPort(host: "127.0.0.1", port: port))
            extra.addDHTNode(HostPort(host: "127.0.0.1", port: port))
            await waitForDHT(publisher, timeout: 15)
            events.progress("Putting the demo channel on the private DHT…")
            var nodes = 0
            for attempt in 0..<10 where nodes == 0 {
                if attempt > 0 { try await Task.sleep(for: .seconds(1)) }
                nodes = await publisher.dhtPut(pointer, timeout: .seconds(20))
            }
            guard nodes > 0 else { throw CLIError("the demo's private DHT did not take the channel") }
            events.info(try await daemon.channels.add(address.magnet))
        }
    }

    static func session() async throws -> TorrentSession {
        var c = SessionConfiguration()
        c.listenInterfaces = [HostPort(host: "127.0.0.1", port: 0)]
        c.dhtNodes = []
        do {
            return try await TorrentSession.start(c)
        } catch let e as EngineError {
            throw CLIError("cannot start the demo's engines: \(e.message)")
        }
    }
}

/// The demo library: clips, posters and metadata made with ffmpeg, in the
/// Plex/Jellyfin layout that `publish` reads. Made once; kept afterwards.
enum DemoLibrary {
    struct Clip {
        var path: String
        var source: String
        var seconds: Int
        var caption: String
        /// Matroska with AC3 sound, which no browser plays as it is: the UI
        /// gets it converted by ffmpeg.
        var matroska = false
    }

    static let font = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

    static func make(at root: String) async throws {
        let films: [(folder: String, title: String, source: String, colors: (String, String), synopsis: String, genres: [String])] = [
            ("Aurora (2024)", "Aurora", "mandelbrot=s=640x360:rate=25", ("0x0b3954", "0x087e8b"),
             "A slow dive into an endless fractal coastline, where every bay hides another.", ["Documentary", "Abstract"]),
            ("Paper Boats (2023)", "Paper Boats", "life=s=640x360:mold=10:rate=25:ratio=0.1:death_color=#C83232:life_color=#00ff00",
             ("0x3d405b", "0xe07a5f"), "Cells are born, crowd together and fade: a small life in twenty seconds.", ["Animation", "Drama"]),
            ("Signal Test (2022)", "Signal Test", "testsrc2=s=640x360:rate=25", ("0x2b2d42", "0xef233c"),
             "A test card counts the seconds while the colours hold still. A film about waiting.", ["Comedy"]),
        ]
        var clips: [Clip] = []
        var posters: [(path: String, title: String, colors: (String, String))] = []
        for f in films {
            let dir = root + "/Movies/" + f.folder
            let mkv = f.title == "Signal Test"
            clips.append(Clip(path: dir + "/\(f.folder).\(mkv ? "mkv" : "mp4")", source: f.source, seconds: 20, caption: f.title, matroska: mkv))
            posters.append((dir + "/poster.jpg", f.title, f.colors))
            try write(dir + "/title.json", """
                {"synopsis": "\(f.synopsis)", "genres": \(f.genres.map { "\"\($0)\"" }), "runtime": 1, \
                "license": "CC0, made by matinee demo", "languages": ["en"]}
                """)
        }
        try write(root + "/Movies/Aurora (2024)/Aurora (2024).en.srt", "1\n00:00:01,000 --> 00:00:05,000\nEvery bay hides another.\n\n")
        let show = root + "/Shows/Tiny Planets (2025)"
        let episodes = [
            (1, 1, "First Light", "cellauto=s=640x360:rule=30:rate=25"), (1, 2, "Drift", "cellauto=s=640x360:rule=110:rate=25"),
            (2, 1, "Return", "testsrc2=s=640x360:rate=25"), (2, 2, "Home", "mandelbrot=s=640x360:rate=25:start_scale=1"),
        ]
        for (season, number, title, source) in episodes {
            let name = String(format: "Tiny Planets - S%02dE%02d - %@.mp4", season, number, title)
            clips.append(Clip(
                path: show + String(format: "/Season %02d/", season) + name, source: source, seconds: 10,
                caption: String(format: "Tiny Planets S%02dE%02d", season, number)))
        }
        posters.append((show + "/poster.jpg", "Tiny Planets", ("0x1b263b", "0xe0e1dd")))
        try write(show + "/title.json", #"""
            {"synopsis": "Four very short visits to worlds made of rules: cells, fractals and a test card.", "genres": ["Animation", "Science Fiction"], "license": "CC0, made by matinee demo"}
            """#)

        let missing = clips.filter { !FileManager.default.fileExists(atPath: $0.path) }
        for (i, c) in missing.enumerated() {
            Console.live("Making the demo library with ffmpeg: clip \(i + 1) of \(missing.count)…")
            try await ffmpeg([
                "-f", "lavfi", "-i", c.source, "-f", "lavfi", "-i", "sine=frequency=\(220 + 55 * i):sample_rate=44100",
                "-t", String(c.seconds), "-vf", "format=yuv420p,drawtext=fontfile=\(font):text=\(c.caption):fontsize=34:fontcolor=white:x=(w-tw)/2:y=h-70:box=1:boxcolor=black@0.55:boxborderw=10",
                "-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-shortest",
            ] + (c.matroska ? ["-c:a", "ac3", "-b:a", "96k"] : ["-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart"]) + [c.path])
        }
        for p in posters where !FileManager.default.fileExists(atPath: p.path) {
            try await ffmpeg([
                "-f", "lavfi", "-i", "gradients=s=300x450:c0=\(p.colors.0):c1=\(p.colors.1):x0=0:y0=0:x1=300:y1=450:duration=1",
                "-frames:v", "1", "-vf", "drawtext=fontfile=\(font):text=\(p.title):fontsize=30:fontcolor=white:x=(w-tw)/2:y=h-90",
                p.path,
            ])
        }
        Console.endLive()
    }

    private static func write(_ path: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path) { try text.write(toFile: path, atomically: true, encoding: .utf8) }
    }

    private static func ffmpeg(_ args: [String]) async throws {
        guard let exe = try? Player.locate("ffmpeg") else { throw CLIError("the demo needs ffmpeg (apt-get install ffmpeg)") }
        if let out = args.last {
            try FileManager.default.createDirectory(atPath: (out as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        }
        // ffmpeg's wait happens on a GCD thread, not a Swift concurrency one.
        let (status, data): (Int32, Data) = try await withCheckedThrowingContinuation { c in
            DispatchQueue.global().async {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: exe)
                p.arguments = ["-hide_banner", "-loglevel", "error", "-y"] + args
                p.standardInput = FileHandle.nullDevice
                p.standardOutput = FileHandle.nullDevice
                let err = Pipe()
                p.standardError = err
                do {
                    try p.run()
                } catch {
                    c.resume(throwing: CLIError("cannot run ffmpeg: \(error.localizedDescription)"))
                    return
                }
                let data = err.fileHandleForReading.readDataToEndOfFile()
                p.waitUntilExit()
                c.resume(returning: (p.terminationStatus, data))
            }
        }
        guard status == 0 else {
            let first = String(decoding: data, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "exit \(status)"
            throw CLIError("ffmpeg could not make the demo library: \(first)")
        }
    }
}
