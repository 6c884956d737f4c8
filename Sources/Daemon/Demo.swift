public import Catalog
import Foundation
public import TorrentKit

/// `matinee demo`'s network: the demo library (made by ffmpeg), published as
/// a signed channel from a publisher engine on loopback, with one more
/// engine as the rest of a private DHT, all in this process. The daemon
/// joins it (`join`) and follows the channel.
public final class DemoNetwork: Sendable {
    let publisher: TorrentSession
    let extra: TorrentSession
    let pointer: DHTMutableItem
    public let address: ChannelAddress
    /// Give these to the daemon as its `--dht-node`s.
    public let dhtNodes: [HostPort]

    private init(publisher: TorrentSession, extra: TorrentSession, pointer: DHTMutableItem, address: ChannelAddress, dhtNodes: [HostPort]) {
        self.publisher = publisher
        self.extra = extra
        self.pointer = pointer
        self.address = address
        self.dhtNodes = dhtNodes
    }

    /// Makes the library (first run only) under `home`, starts the two
    /// engines and publishes the channel on them.
    public static func start(home: Home, events: Events) async throws -> DemoNetwork {
        try home.prepare()
        let library = home.data + "/library"
        try await DemoLibrary.make(at: library, events: events)
        let publisher = try await session()
        let extra: TorrentSession
        do {
            extra = try await session()
        } catch {
            await publisher.shutdown()
            throw error
        }
        do {
            let pubPort = await publisher.listenPort, extraPort = await extra.listenPort
            publisher.addDHTNode(HostPort(host: "127.0.0.1", port: extraPort))
            extra.addDHTNode(HostPort(host: "127.0.0.1", port: pubPort))
            let key = try catalogCall {
                if let k = try? ChannelKey.load(named: "Matinee Demo", in: home.keysDir) { return k }
                return try ChannelKey.create(name: "Matinee Demo", in: home.keysDir)
            }
            var builder = Publisher(key: key, library: library, workDir: home.publishedDir(Hex.encode(key.publicKey)))
            builder.description = "Plays offline: short clips made by ffmpeg and shared from this machine, to show Matinee working."
            events.progress("Publishing the demo channel…")
            let published = try await catalogCall { try await builder.build() }
            for s in [published.catalog] + published.sources {
                var o = AddTorrentOptions(source: .torrentFile(s.torrent), savePath: s.savePath)
                o.streaming = false
                o.seedMode = true
                _ = try await publisher.add(o)
            }
            events.progressDone()
            return DemoNetwork(
                publisher: publisher, extra: extra, pointer: published.pointer, address: key.address,
                dhtNodes: [HostPort(host: "127.0.0.1", port: pubPort), HostPort(host: "127.0.0.1", port: extraPort)])
        } catch {
            await publisher.shutdown()
            await extra.shutdown()
            throw error
        }
    }

    /// Lets the daemon into the private DHT, puts the channel's pointer
    /// there and follows the channel; returns the line `channels.add` gave.
    public func join(_ daemon: MatineeDaemon, events: Events) async throws -> String {
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
        events.progressDone()
        guard nodes > 0 else { throw DaemonError("the demo's private DHT did not take the channel") }
        return try await daemon.channels.add(address.magnet)
    }

    public func shutdown() async {
        await publisher.shutdown()
        await extra.shutdown()
    }

    private static func session() async throws -> TorrentSession {
        var c = SessionConfiguration()
        c.listenInterfaces = [HostPort(host: "127.0.0.1", port: 0)]
        c.dhtNodes = []
        do {
            return try await TorrentSession.start(c)
        } catch let e as EngineError {
            throw DaemonError("cannot start the demo's engines: \(e.message)")
        }
    }
}

/// The demo library: clips, posters and metadata made with ffmpeg, in the
/// Plex/Jellyfin layout that `publish` reads. Made once; kept afterwards.
public enum DemoLibrary {
    struct Clip {
        var path: String
        var source: String
        var seconds: Int
        var caption: String
        /// Matroska with AC3 sound, which no browser plays as it is: the UI
        /// gets it converted by ffmpeg.
        var matroska = false
        /// Two sound tracks, English (the default) and French: the player
        /// offers a choice.
        var twoLanguages = false
    }

    static let font = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

    /// Makes what is missing of the library under `root`, reporting progress.
    public static func make(at root: String, events: Events = .ignored) async throws {
        let films: [(folder: String, title: String, source: String, colors: (String, String), synopsis: String, genres: [String])] = [
            (
                "Aurora (2024)", "Aurora", "mandelbrot=s=640x360:rate=25", ("0x0b3954", "0x087e8b"),
                "A slow dive into an endless fractal coastline, where every bay hides another.", ["Documentary", "Abstract"]
            ),
            (
                "Paper Boats (2023)", "Paper Boats", "life=s=640x360:mold=10:rate=25:ratio=0.1:death_color=#C83232:life_color=#00ff00",
                ("0x3d405b", "0xe07a5f"), "Cells are born, crowd together and fade: a small life in twenty seconds.",
                ["Animation", "Drama"]
            ),
            (
                "Signal Test (2022)", "Signal Test", "testsrc2=s=640x360:rate=25", ("0x2b2d42", "0xef233c"),
                "A test card counts the seconds while the colours hold still. A film about waiting.", ["Comedy"]
            ),
        ]
        var clips: [Clip] = []
        var posters: [(path: String, title: String, colors: (String, String))] = []
        for f in films {
            let dir = root + "/Movies/" + f.folder
            let mkv = f.title == "Signal Test"
            clips.append(
                Clip(
                    path: dir + "/\(f.folder).\(mkv ? "mkv" : "mp4")", source: f.source, seconds: 20, caption: f.title, matroska: mkv,
                    twoLanguages: f.title == "Paper Boats"))
            posters.append((dir + "/poster.jpg", f.title, f.colors))
            try write(
                dir + "/title.json",
                """
                {"synopsis": "\(f.synopsis)", "genres": [\(f.genres.map { "\"\($0)\"" }.joined(separator: ", "))], "runtime": 1, \
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
            clips.append(
                Clip(
                    path: show + String(format: "/Season %02d/", season) + name, source: source, seconds: 10,
                    caption: String(format: "Tiny Planets S%02dE%02d", season, number)))
        }
        posters.append((show + "/poster.jpg", "Tiny Planets", ("0x1b263b", "0x415a77")))
        try write(
            show + "/title.json",
            #"""
            {"synopsis": "Four very short visits to worlds made of rules: cells, fractals and a test card.", "genres": ["Animation", "Science Fiction"], "license": "CC0, made by matinee demo"}
            """#)

        let missing = clips.filter { !FileManager.default.fileExists(atPath: $0.path) }
        for (i, c) in missing.enumerated() {
            events.progress("Making the demo library with ffmpeg: clip \(i + 1) of \(missing.count)…")
            try await ffmpeg(
                [
                    "-f", "lavfi", "-i", c.source, "-f", "lavfi", "-i", "sine=frequency=\(220 + 55 * i):sample_rate=44100",
                ]
                    + (c.twoLanguages ? ["-f", "lavfi", "-i", "sine=frequency=\(660 + 55 * i):sample_rate=44100"] : []) + [
                        "-t", String(c.seconds), "-vf",
                        "format=yuv420p,drawtext=fontfile=\(font):text=\(c.caption):fontsize=34:fontcolor=white:x=(w-tw)/2:y=h-70:box=1:boxcolor=black@0.55:boxborderw=10",
                        "-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-shortest",
                    ]
                    + (c.twoLanguages
                        ? [
                            "-map", "0:v", "-map", "1:a", "-map", "2:a", "-metadata:s:a:0", "language=eng", "-metadata:s:a:1",
                            "language=fra",
                            "-disposition:a:0", "default", "-disposition:a:1", "0",
                        ] : [])
                    + (c.matroska ? ["-c:a", "ac3", "-b:a", "96k"] : ["-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart"]) + [c.path])
        }
        for p in posters where !FileManager.default.fileExists(atPath: p.path) {
            try await ffmpeg([
                "-f", "lavfi", "-i", "gradients=s=300x450:c0=\(p.colors.0):c1=\(p.colors.1):x0=0:y0=0:x1=300:y1=450:duration=1",
                "-frames:v", "1", "-vf",
                // White on a dark box: readable on any gradient.
                "drawtext=fontfile=\(font):text=\(p.title):fontsize=30:fontcolor=white:x=(w-tw)/2:y=h-90:box=1:boxcolor=black@0.5:boxborderw=12",
                p.path,
            ])
        }
        events.progressDone()
    }

    private static func write(_ path: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path) { try text.write(toFile: path, atomically: true, encoding: .utf8) }
    }

    private static func ffmpeg(_ args: [String]) async throws {
        guard let exe = try? Player.locate("ffmpeg") else { throw DaemonError("the demo needs ffmpeg (apt-get install ffmpeg)") }
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
                    c.resume(throwing: DaemonError("cannot run ffmpeg: \(error.localizedDescription)"))
                    return
                }
                let data = err.fileHandleForReading.readDataToEndOfFile()
                p.waitUntilExit()
                c.resume(returning: (p.terminationStatus, data))
            }
        }
        guard status == 0 else {
            let first = String(decoding: data, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "exit \(status)"
            throw DaemonError("ffmpeg could not make the demo library: \(first)")
        }
    }
}
