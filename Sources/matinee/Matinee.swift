import ArgumentParser
import Foundation
import Logging
import Updates

@main
struct Matinee: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matinee",
        abstract: "Watch video over BitTorrent: streams start in seconds, seeking works anywhere.",
        discussion: """
            Everything Matinee keeps (resume data, the DHT routing table, downloads) lives \
            in the XDG data and cache folders, or in one folder named by MATINEE_HOME.
            """,
        version: InstalledVersion.running.version,
        subcommands: [
            App.self, Demo.self, Play.self, Seed.self, ChannelCommand.self, Publish.self, Search.self, Serve.self, UpdateCommand.self,
            ReleaseCommand.self, Cast.self,
        ],
        defaultSubcommand: App.self
    )

    static func main() async {
        _ = Restart.inheritedDescriptors
        Signals.install()
        // Library logs go to stderr and only when something is wrong: stdout
        // carries results (URLs, magnet links) that scripts read.
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = ProcessInfo.processInfo.environment["MATINEE_HTTP_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .error
            return h
        }
        // A word that names no command would otherwise be taken as an
        // argument of the default one (open), whose usage it would print.
        if let first = CommandLine.arguments.dropFirst().first, !first.hasPrefix("-"),
            !(["help"] + configuration.subcommands.map { $0._commandName }).contains(first)
        {
            let names = configuration.subcommands.map { $0._commandName }.joined(separator: ", ")
            FileHandle.standardError.write(
                Data("matinee: there is no command \"\(first)\" (the commands: \(names)); see matinee --help\n".utf8))
            Foundation.exit(64)
        }
        do {
            var command = try parseAsRoot()
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            endTrial()
        } catch {
            if exitCode(for: error) == .success { endTrial() }
            exit(withError: error)
        }
    }

    /// A version on trial after an update that ran a command to success has
    /// started: the launcher stops counting its starts (docs/release-format.md §5).
    private static func endTrial() {
        Installation.running?.confirmHealthy(InstalledVersion.running.build)
    }
}
