import ArgumentParser
import Daemon
import Foundation
import Synchronization
import TorrentKit

struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Share a file or folder: make its torrent, print its magnet link, seed until stopped.",
        discussion: """
            The torrent is hybrid (BitTorrent v1 and v2). Hashing shows a progress bar on \
            stderr; the magnet link goes to stdout. With --listen on a specific address the \
            link carries it as a peer hint (x.pe), so a client can connect without trackers or DHT.

            Examples:
              matinee seed ~/Videos/my-film.mp4
              matinee seed ./clips --listen 127.0.0.1:6881 --torrent-out clips.torrent
            """)

    @Argument(help: "The file or folder to share.")
    var path: String

    @Option(name: .customLong("tracker"), help: ArgumentHelp("Announce to this tracker (repeatable).", valueName: "url"))
    var trackers: [String] = []

    @Option(name: .customLong("web-seed"), help: ArgumentHelp("Add this HTTP web seed (BEP 19, repeatable).", valueName: "url"))
    var webSeeds: [String] = []

    @Option(
        name: .customLong("piece-size"),
        help: ArgumentHelp("Piece size in KiB, a power of two (default: chosen from the size).", valueName: "KiB"),
        transform: OptionValue.int)
    var pieceSize = 0

    @Option(name: .customLong("torrent-out"), help: ArgumentHelp("Also write the .torrent file here.", valueName: "file"))
    var torrentOut: String?

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        if pieceSize != 0 && (pieceSize < 16 || pieceSize & (pieceSize - 1) != 0) {
            throw ValidationError("--piece-size must be a power of two, 16 KiB or more")
        }
    }

    func run() async throws {
        try await reportingErrors { try await seed() }
    }

    private func seed() async throws {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: absolute) else { throw CLIError("no such file or folder: \(path)") }
        let lastShown = Mutex(-1)
        let bytes = try await TorrentMaker.make(
            path: absolute, pieceSize: pieceSize * 1024, trackers: trackers, webSeeds: webSeeds
        ) { done, total in
            let pct = total > 0 ? done * 100 / total : 100
            let show = lastShown.withLock { last -> Bool in
                defer { last = pct }
                return pct != last
            }
            if show { Console.live("Hashing \(Format.bar(Double(done) / Double(max(total, 1)))) \(pct)% (\(done)/\(total) pieces)") }
        }
        Console.endLive()
        let meta = try TorrentMetadata(torrentFile: bytes)
        if let torrentOut { try Disk.writeAtomically(bytes, to: torrentOut) }

        let home = Home.resolve()
        let parent = (absolute as NSString).deletingLastPathComponent
        if let daemon = await DaemonClient.find(home) {
            // The running Matinee owns the engine: it shares the file, for as
            // long as it runs (and after restarts), listed in its Downloads.
            let line = try await daemon.change(
                "POST", "/api/downloads", body: ["torrent": Data(bytes).base64EncodedString(), "savePath": parent])
            Console.result(meta.magnetLink(trackers: trackers, peers: []))
            Console.info(
                "\(line ?? "Seeding \(meta.name)") through the running Matinee (\(daemon.file.url)); remove it from its Downloads to stop.")
            if engine.anyGiven { Console.info("Its engine and settings apply: the engine options given here are not used.") }
            return
        }
        Signals.expect()  // from here on, Ctrl-C stops cleanly
        try await Console.withEvents { events in
            try await EngineRuntime.run(home: home, config: engine.config, for: "matinee seed", events: events) { runtime in
                try Disk.writeAtomically(bytes, to: home.torrentFile(meta.id))
                let torrent = try await runtime.add(
                    ResolvedSource(source: .torrentFile(bytes), id: meta.id, metadata: meta), streaming: false,
                    seedMode: true, peers: engine.config.peers, savePath: parent)
                var hints = [String]()
                if let listen = engine.listen.flatMap(HostPort.init), !["0.0.0.0", "::"].contains(listen.host) {
                    let port = listen.port == 0 ? await runtime.session.listenPort : listen.port
                    hints.append(HostPort(host: listen.host, port: port).description)
                }
                Console.result(meta.magnetLink(trackers: trackers, peers: hints))
                Console.info("Seeding \(meta.name) (\(Format.bytes(meta.totalSize))); Ctrl-C to stop.")
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await Signals.wait() }
                    group.addTask {
                        while true {
                            try await Task.sleep(for: .seconds(1))
                            let st = torrent.latestStatus
                            Console.live(
                                "Seeding · ↑ \(Format.rate(st.uploadRate)) · \(Format.count(st.peers, "peer")) · \(Format.bytes(st.sessionUpload)) sent"
                            )
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        }
    }
}
