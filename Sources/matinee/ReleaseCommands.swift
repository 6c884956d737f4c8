import ArgumentParser
import Daemon
import Foundation
import Server
import TorrentKit
import Updates

struct ReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "For maintainers: make a release key, and publish signed releases of Matinee over the DHT.",
        discussion: """
            A release is a bundle made by scripts/package, signed and put on the release \
            channel: every Matinee that follows the channel finds it, checks its signatures, \
            version and hashes, and installs it (docs/release-format.md).

              matinee release new matinee-releases
              scripts/package 0.2.0 dist
              matinee release publish dist/matinee-0.2.0-linux-x86_64.tar.gz --key matinee-releases --version 0.2.0

            Keys live in the data folder's release-keys/, mode 0600, sealed with a passphrase \
            (scrypt and ChaCha20-Poly1305). Unattended, put the passphrase in a file of mode \
            0600 and name it with --passphrase-file or MATINEE_RELEASE_PASSPHRASE_FILE.
            """,
        subcommands: [New.self, Publish.self])

    struct New: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a release key (encrypted with a passphrase) and print the release channel's address.")

        @Argument(help: "A name for the key (letters, digits, '-', '_', '.').")
        var name: String

        @Option(name: .customLong("passphrase-file"), help: ArgumentHelp("Read the passphrase from this file.", valueName: "file"))
        var passphraseFile: String?

        func run() async throws {
            try await reportingErrors {
                let home = Home.resolve()
                try home.prepare()
                let pass = try Releases.passphrase(file: passphraseFile, confirm: true)
                let key = try Releases.releaseCall {
                    try ReleaseKeyFile.create(name: name, passphrase: pass, in: Releases.keysFolder(home))
                }
                let channel = ReleaseChannel(publicKey: key.publicKey)
                Console.result(channel.address)
                Console.info("Made the release key \"\(key.name)\" (\(key.path), encrypted).")
                Console.info("Clients follow this channel when built with its key, or with MATINEE_RELEASE_CHANNEL=\(channel.address)")
                Console.info("Newcomers check a bundle's .sig against this key with openssl (see the README):")
                Console.info(ArchiveSignature.pem(publicKey: key.publicKey).trimmingCharacters(in: .newlines))
            }
        }
    }

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a bundle as a release, put it on the release channel, and seed it until stopped.",
            discussion: """
                Checks that the bundle's own VERSION and BUILD are the ones given, signs the \
                archive (for newcomers' openssl) and the manifest (for Matinee's updater), makes \
                the two torrents, puts the channel's pointer on the DHT, and seeds both until \
                Ctrl-C, putting the pointer again every 30 minutes. Running Matinees seed the \
                release too once they have it, so it stays reachable after this stops.
                """)

        @Argument(help: "The bundle (.tar.gz) made by scripts/package.")
        var bundle: String

        @Option(name: .long, help: ArgumentHelp("The release key's name (see `matinee release new`).", valueName: "name"))
        var key: String

        @Option(name: .long, help: ArgumentHelp("The release's version, X.Y.Z (the bundle must say the same).", valueName: "X.Y.Z"))
        var version: String

        @Option(name: .long, help: ArgumentHelp("Its build number (default: from the version, X*1000000+Y*1000+Z).", valueName: "n"))
        var build: Int64?

        @Option(name: .long, help: ArgumentHelp("A text file of release notes, shown to users before they update.", valueName: "file"))
        var notes: String?

        @Option(
            name: .customLong("valid-days"),
            help: ArgumentHelp(
                "Days the manifest stays valid; clients refuse it afterwards (a frozen or replayed release).", valueName: "days"))
        var validDays = 30

        @Option(name: .customLong("minimum-build"), help: ArgumentHelp("Builds older than this must install by hand.", valueName: "n"))
        var minimumBuild: Int64 = 0

        @Option(name: .customLong("revoke"), help: ArgumentHelp("A build no client may install (repeatable).", valueName: "n"))
        var revoke: [Int64] = []

        @Option(name: .customLong("passphrase-file"), help: ArgumentHelp("Read the key's passphrase from this file.", valueName: "file"))
        var passphraseFile: String?

        @OptionGroup var engine: EngineOptions

        func validate() throws {
            guard let v = ReleaseVersion(version) else { throw ValidationError("--version takes X.Y.Z (got \"\(version)\")") }
            if let build, build < 1 { throw ValidationError("--build must be at least 1") }
            _ = v
            if validDays < 1 || validDays > 3650 { throw ValidationError("--valid-days must be 1-3650") }
        }

        func run() async throws {
            try await reportingErrors {
                let home = Home.resolve()
                try home.prepare()
                let notesText: String
                if let notes {
                    guard let d = FileManager.default.contents(atPath: notes), d.count <= 256 << 10 else {
                        throw CLIError("cannot read the notes file \(notes) (at most 256 KiB)")
                    }
                    notesText = String(decoding: d, as: UTF8.self)
                } else {
                    notesText = ""
                }
                let pass = try Releases.passphrase(file: passphraseFile, confirm: false)
                let keyFile = try Releases.releaseCall {
                    try ReleaseKeyFile.load(named: key, passphrase: pass, in: Releases.keysFolder(home))
                }
                var builder = ReleaseBuilder(key: keyFile.privateKey, workDir: Releases.workFolder(home, key: keyFile.name))
                builder.validity = TimeInterval(validDays) * 86400
                builder.notes = notesText
                builder.minimumBuild = minimumBuild
                builder.revokedBuilds = revoke
                Console.live("Checking and signing \(bundle)…")
                let number = build ?? ReleaseVersion(version)!.defaultBuild
                let r = try await Releases.releaseCall { try await builder.build(bundle: bundle, version: version, build: number) }
                Console.endLive()
                let channel = ReleaseChannel(publicKey: keyFile.publicKey)
                Console.info(
                    "Release \(version) (build \(number)) for \(r.manifest.artifacts.map(\.platform).joined(separator: ", ")), valid until \(r.manifest.expires)"
                )
                Console.info("Archive torrent: magnet:?xt=urn:btih:\(r.artifact.id.hex)")
                Signals.expect()
                try await Console.withEvents { events in
                    try await EngineRuntime.run(home: home, config: engine.config, for: "matinee release publish", events: events) {
                        runtime in
                        Console.live("Putting the release on the DHT…")
                        let nodes = try await Releases.publish(r, runtime: runtime, home: home, peers: engine.config.peers)
                        Console.endLive()
                        guard nodes > 0 else { throw CLIError("no DHT node took the release pointer: check the network (or --dht-node)") }
                        Console.result(channel.address)
                        Console.info(
                            "Published \(version) on the release channel (stored on \(nodes) DHT nodes); seeding it, Ctrl-C to stop.")
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            group.addTask { await Signals.wait() }
                            group.addTask {
                                while true {
                                    try await Task.sleep(for: .seconds(30 * 60))
                                    _ = await runtime.session.dhtPut(r.pointer)
                                }
                            }
                            try await group.next()
                            group.cancelAll()
                        }
                    }
                }
            }
        }
    }
}

struct UpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Update Matinee from its release channel: checked, installed side by side, rolled back if it fails to start.",
        discussion: """
            Looks up the release channel on the DHT, checks the manifest's signatures, expiry \
            and build, downloads the archive from other Matinees, checks its size and SHA-256, \
            unpacks it with checks (no absolute paths, "..", links out, devices or setuid \
            files), and switches to it. The new version is on trial until it starts healthy \
            (its daemon up, or a command done); after three starts that never got there, the \
            launcher goes back to the previous version, and that release is never tried again. Every refusal is one line and \
            leaves the installed version as it was.

              matinee update --check      say whether a newer release is out
              matinee update              install it
              matinee update --rollback   go back to the previous version

            The channel is Matinee's own, or the one MATINEE_RELEASE_CHANNEL names.
            """)

    @Flag(name: .long, help: "Only say whether a newer release is available.")
    var check = false

    @Flag(name: .long, help: "Go back to the previous installed version (the one left is not offered again).")
    var rollback = false

    /// Set by the launcher when a version on trial never started healthy.
    @Option(name: .long, help: .hidden)
    var because: String?

    @Option(name: .long, help: ArgumentHelp("Seconds to look for the release channel on the DHT.", valueName: "seconds"))
    var timeout = 60

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        if check && rollback { throw ValidationError("--check and --rollback do not go together") }
        if timeout < 1 { throw ValidationError("--timeout must be at least 1") }
    }

    func run() async throws {
        try await reportingErrors {
            let home = Home.resolve()
            // The daemon owns the engine: it checks, installs and restarts.
            // (Not the launcher's own recovery, which runs before any daemon.)
            if because == nil, let daemon = await DaemonClient.find(home) { return try await throughDaemon(daemon, home) }
            if rollback { return try rollBack(home) }
            // Known before the engine starts: no channel, no lookup.
            let channel = try Releases.releaseCall { try ReleaseChannel.resolve() }
            try home.prepare()
            try await Console.withEvents { events in
                try await EngineRuntime.run(home: home, config: engine.config, for: "matinee update", events: events) { runtime in
                    var updater = Releases.updater(session: runtime.session, home: home, channel: channel, peers: engine.config.peers)
                    updater.lookupBudget = .seconds(timeout)
                    let outcome = try await Releases.releaseCall {
                        try await updater.check(download: !check) { step in
                            // A live line on a terminal; elsewhere (logs) one line per step.
                            func say(_ line: String) { Console.stderrIsTTY ? Console.live(line) : Console.info(line) }
                            switch step {
                            case .lookingUp(.lookingUp(1, _)): say("Looking up the release channel…")
                            case .lookingUp: break
                            case .found(let seq): say("Found release pointer \(seq); fetching its manifest…")
                            case .manifest: break
                            case .downloading(let done, let total):
                                if Console.stderrIsTTY {
                                    Console.live(
                                        "Downloading \(Format.bar(Double(done) / Double(max(total, 1)))) \(Format.bytes(done)) of \(Format.bytes(total))"
                                    )
                                } else if done == 0 {
                                    Console.info("Downloading the release (\(Format.bytes(total)))…")
                                }
                            case .verifying: say("Checking the archive…")
                            case .unpacking: say("Unpacking…")
                            }
                        }
                    }
                    Console.endLive()
                    switch outcome {
                    case .upToDate(let v):
                        Console.info("Matinee \(v.version) is up to date.")
                    case .available(let version, let build, let notes):
                        Console.result("\(version)")
                        Console.info("Version \(version) (build \(build)) is available; run `matinee update` to install it.")
                        if !notes.isEmpty { Console.info(notes.trimmingCharacters(in: .whitespacesAndNewlines)) }
                    case .ready(let ready):
                        let now = try Releases.releaseCall { try updater.apply(ready) }
                        Console.result(now.version)
                        Console.info("Matinee \(now.version) is installed; it runs from the next start (the previous version is kept).")
                    }
                }
            }
        }
    }

    /// `update` with a daemon running: it does the work (and restarts into
    /// the new version); this prints its progress and waits for it.
    private func throughDaemon(_ daemon: DaemonClient, _ home: Home) async throws {
        Console.info("Updating through the running Matinee (\(daemon.file.url))")
        if rollback {
            let message = try await daemon.change("POST", "/api/update/rollback")
            Console.info(message ?? "Rolled back; restarting.")
            let now = try await Self.waitForRestart(home, build: nil)
            Console.result(now.version)
            return
        }
        let before = try await Self.status(daemon)
        let (code, answer) = try await daemon.send("POST", "/api/update/check")
        guard code == 202 else {
            throw CLIError(((answer as? [String: Any])?["error"] as? String) ?? "the running Matinee answered \(code)")
        }
        // The daemon's check ends with a new lastCheck; its steps are shown meanwhile.
        let deadline = Date().addingTimeInterval(Double(timeout) + 900)
        var status = before
        var shown: String?
        while true {
            try await Task.sleep(for: .milliseconds(500))
            status = try await Self.status(daemon)
            if !status.checking, status.lastCheck != before.lastCheck { break }
            if let step = status.step, step != shown {
                shown = step
                Console.stderrIsTTY ? Console.live(step) : Console.info(step)
            }
            if Date() > deadline { throw CLIError("the running Matinee's update check did not end in time") }
        }
        Console.endLive()
        if status.lastCheckFailed { throw CLIError(status.lastResult ?? "the update check failed") }
        guard let ready = status.ready else {
            Console.info("Matinee \(status.version) is up to date.")
            return
        }
        if check {
            Console.result(ready.version)
            Console.info("Version \(ready.version) (build \(ready.build)) is downloaded and checked; run `matinee update` to install it.")
            if !ready.notes.isEmpty { Console.info(ready.notes.trimmingCharacters(in: .whitespacesAndNewlines)) }
            return
        }
        let message = try await daemon.change("POST", "/api/update/apply")
        Console.info(message ?? "Installed; restarting.")
        let now = try await Self.waitForRestart(home, build: ready.build)
        Console.result(now.version)
        Console.info("Matinee \(now.version) is installed and running (the previous version is kept).")
    }

    private static func status(_ daemon: DaemonClient) async throws -> UpdateStatus {
        guard let data = await daemon.data("/api/update"), let s = try? JSONDecoder().decode(UpdateStatus.self, from: data) else {
            throw CLIError("the running Matinee (\(daemon.file.url)) did not say how its updates stand")
        }
        return s
    }

    /// The daemon back after its restart (the same process, a new start):
    /// answering, and on `build` when one is expected.
    private static func waitForRestart(_ home: Home, build: Int64?) async throws -> UpdateStatus {
        let deadline = Date().addingTimeInterval(180)
        while Date() < deadline {
            try await Task.sleep(for: .milliseconds(500))
            guard let d = await DaemonClient.find(home), let s = try? await status(d), !s.restarting else { continue }
            if build == nil || s.build == build { return s }
        }
        throw CLIError(
            "Matinee did not come back within 3 minutes of restarting; start it again (it goes back to the previous version by itself if the new one cannot start)"
        )
    }

    private func rollBack(_ home: Home) throws {
        guard let installation = Installation.running else {
            throw CLIError("this matinee runs from a build tree, not an installed bundle: there is nothing to roll back")
        }
        let channel = try? ReleaseChannel.resolve()
        let reason = because ?? "rolled back by hand"
        let moved = try Releases.releaseCall {
            try Updater.rollBack(installation, store: UpdateStore(dataFolder: home.data), channel: channel, reason: reason)
        }
        let to = installation.version(of: moved.to)?.version ?? "build \(moved.to)"
        let from = installation.version(of: moved.from)?.version ?? "build \(moved.from)"
        Console.result(to)
        Console.info("Back to Matinee \(to); \(from) will not be offered again (\(reason)).")
    }
}
