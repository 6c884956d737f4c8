import ArgumentParser
import Daemon
import Foundation

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

    @Option(
        name: .customLong("http-port"),
        help: ArgumentHelp("Serve the UI on this port of 127.0.0.1 (default: any free port).", valueName: "port"),
        transform: OptionValue.int)
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
        let network = try await Console.withEvents { events in try await DemoNetwork.start(home: home, events: events) }
        let options = try ServeOptions.parse(
            ["--http-port", String(httpPort), "--listen", "127.0.0.1:0"] + network.dhtNodes.flatMap { ["--dht-node", $0.description] })
        let outcome = await Result {
            try await options.runDaemon(openBrowser: !noBrowser, command: "matinee demo", home: home) { daemon, events in
                events.info(try await network.join(daemon, events: events))
            }
        }
        await network.shutdown()
        try outcome.get()
    }
}
