import ArgumentParser
import Catalog
import Daemon
import Foundation

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
        try await reportingErrors { try await options.runDaemon(openBrowser: false, command: "matinee serve") }
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
        try await reportingErrors { try await options.runDaemon(openBrowser: !noBrowser, command: "matinee") }
    }
}

struct ServeOptions: ParsableArguments {
    @Option(
        name: .customLong("http-port"), help: ArgumentHelp("Serve on this port of 127.0.0.1 (default: any free port).", valueName: "port"),
        transform: OptionValue.int)
    var httpPort = 0

    @Option(
        name: .customLong("download-dir"),
        help: ArgumentHelp("Where downloads are stored (default: Matinee's downloads folder).", valueName: "dir"))
    var downloadDir: String?

    @Option(
        name: .customLong("refresh-minutes"),
        help: ArgumentHelp(
            "Look for new versions of every channel about this often (each wait varies by a quarter either way; the first comes within a minute of starting; default: \(OptionValue.figure(Double(RefreshSchedule.daemon.interval.components.seconds) / 60))).",
            valueName: "minutes"), transform: OptionValue.number)
    var refreshMinutes = Double(RefreshSchedule.daemon.interval.components.seconds) / 60

    @Option(
        name: .customLong("republish-minutes"),
        help: ArgumentHelp(
            "Put channel pointers back on the DHT this often, and whenever a new version arrives (items expire after about two hours; default: \(OptionValue.figure(Double(RefreshSchedule.daemon.republishInterval.components.seconds) / 60))).",
            valueName: "minutes"), transform: OptionValue.number)
    var republishMinutes = Double(RefreshSchedule.daemon.republishInterval.components.seconds) / 60

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        if !(0...65535).contains(httpPort) { throw ValidationError("--http-port must be between 0 and 65535") }
        if refreshMinutes <= 0 || republishMinutes <= 0 { throw ValidationError("intervals must be positive") }
        if republishMinutes > 100 {
            throw ValidationError("--republish-minutes must be at most 100: DHT items expire after about two hours")
        }
    }

    /// Runs the daemon until Ctrl-C. `home` overrides where it keeps things
    /// (the demo's own folder); `prepare` runs once the engine and the HTTP
    /// server are up, before the UI's URL is printed.
    func runDaemon(
        openBrowser: Bool, command: String, home override: Home? = nil,
        prepare: (@Sendable (MatineeDaemon, Events) async throws -> Void)? = nil
    ) async throws {
        let home = override ?? Home.resolve()
        var options = DaemonOptions(role: .daemon, command: command, engine: engine.config)
        // Restarted after an update: the same port as before, no new browser window.
        let restarted = Restart.inheritedPort
        options.httpPort = httpPort != 0 ? httpPort : restarted ?? 0
        options.downloadDir = downloadDir
        options.schedule = RefreshSchedule(interval: .seconds(refreshMinutes * 60), republishInterval: .seconds(republishMinutes * 60))
        Signals.expect()
        let restart = try await Console.withEvents { events -> Int?? in
            let daemon = try await MatineeDaemon.start(home: home, options: options, events: events)
            try await Signals.stopping(daemon) {
                try await daemon.run(onReady: { base in
                    try await prepare?(daemon, events)
                    Console.result(base)
                    if openBrowser && restarted == nil { Browser.open(base + "/") }
                })
            }
            guard daemon.wantsRestart else { return nil }
            return .some(daemon.baseURL.flatMap { Int($0.split(separator: ":").last ?? "") })
        }
        // Stopped to start again on the version installed (or rolled back to).
        if let port = restart { Restart.exec(port: port) }
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
