public import Catalog
import Foundation
import Logging
public import Server
import ServiceLifecycle
public import Streaming
import Synchronization
import TorrentKit
public import Updates

/// How a daemon runs.
public struct DaemonOptions: Sendable {
    public enum Role: Sendable {
        /// `matinee serve` and `matinee` itself: the web UI and its API,
        /// seeding what was downloaded, channels kept fresh and alive on the
        /// DHT; CLI commands find it through daemon.json.
        case daemon
        /// `matinee play` when no daemon runs: the engine, the /stream routes
        /// and the library's upkeep, for as long as the command runs.
        case player
    }

    public var role: Role
    /// The command, named to a second engine that is refused ("matinee serve").
    public var command: String
    public var engine: EngineConfig
    /// 0: what Settings saved, or any free port.
    public var httpPort = 0
    /// nil: what Settings saved, or the home's downloads folder.
    public var downloadDir: String?
    public var schedule = RefreshSchedule.daemon
    /// How often the daemon looks for a new release of Matinee.
    public var updateSchedule = UpdateSchedule.daemon

    public init(role: Role, command: String, engine: EngineConfig) {
        self.role = role
        self.command = command
        self.engine = engine
    }
}

/// Matinee's one daemon: it owns the home's state (settings, the engine, the
/// catalog index, the library) and runs its long-lived parts as services
/// under swift-service-lifecycle: the engine first (it stops last, saving
/// resume data), then the HTTP server, then the jobs. `stop()` (SIGINT or
/// SIGTERM, from the CLI) shuts them down gracefully in reverse order.
public final class MatineeDaemon: Sendable {
    public let home: Home
    public let options: DaemonOptions
    public let runtime: EngineRuntime
    public let store: CatalogStore
    public let hub: StreamHub
    public let library: Library
    public let playback: Playback
    public let offline: OfflineDownloads
    public let channels: Channels
    public let server: StreamServer
    /// Casts to renderers on the LAN, and the server's LAN face they use.
    public let casts: Casts
    /// Matinee's own updates (the daemon role only).
    public let updates: SelfUpdate?
    let events: Events
    private let state = Mutex<(group: ServiceGroup?, stopping: Bool, base: String?, failure: (any Error)?, restart: Bool)>(
        (nil, false, nil, nil, false))

    private init(
        home: Home, options: DaemonOptions, runtime: EngineRuntime, store: CatalogStore, hub: StreamHub, library: Library,
        playback: Playback, offline: OfflineDownloads, channels: Channels, server: StreamServer, casts: Casts, updates: SelfUpdate?,
        events: Events
    ) {
        self.casts = casts
        self.home = home
        self.options = options
        self.runtime = runtime
        self.store = store
        self.hub = hub
        self.library = library
        self.playback = playback
        self.offline = offline
        self.channels = channels
        self.server = server
        self.updates = updates
        self.events = events
    }

    /// Opens the catalog and starts the engine; refuses a second engine on
    /// the same home. Nothing listens for HTTP until `run`.
    public static func start(home: Home, options: DaemonOptions, events: Events) async throws -> MatineeDaemon {
        try home.prepare()
        let store = try await openCatalog(home, events: events)
        // Saved settings fill in what the command line leaves at its defaults.
        let saved = SettingsFile.load(home)
        let engine = options.engine.merged(with: saved)
        let dir = options.downloadDir.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? saved?.downloadDir ?? home.downloads
        let port = options.httpPort != 0 ? options.httpPort : (options.role == .daemon ? saved?.httpPort ?? 0 : 0)
        let settings = saved ?? engine.settings(downloadDir: dir, httpPort: port, cacheLimitGiB: 0)
        let runtime = try await EngineRuntime.start(home: home, config: engine, downloadDir: dir, for: options.command, events: events)
        let hub = StreamHub()
        let library = Library(runtime: runtime, hub: hub, engine: engine, settings: settings, events: events)
        var server = StreamServer(hub: hub, port: port)
        server.metrics = Telemetry.metrics(runtime: runtime, hub: hub)
        let playback = Playback(runtime: runtime, hub: hub, store: store, library: library, capability: server.capability, events: events)
        let offline = OfflineDownloads(runtime: runtime, hub: hub, store: store, library: library, playback: playback, events: events)
        var channels = Channels(home: home, store: store, runtime: runtime, events: events)
        channels.republishOnReceipt = options.role == .daemon
        var updates: SelfUpdate?
        if options.role == .daemon {
            let u = SelfUpdate(runtime: runtime, home: home, library: library, peers: engine.peers, events: events)
            updates = u
            server.catalog = (store, ChannelAPI(channels: channels), playback, home.channelsDir)
            server.library = library
            server.updates = u
            server.offline = offline
        }
        // The LAN face is built from the server as configured so far; the
        // local server then gets the cast routes.
        let casts = Casts(server: server, hub: hub, events: events)
        if options.role == .daemon { server.cast = casts }
        let daemon = MatineeDaemon(
            home: home, options: options, runtime: runtime, store: store, hub: hub, library: library, playback: playback,
            offline: offline, channels: channels, server: server, casts: casts, updates: updates, events: events)
        updates?.onRestart { [weak daemon] in await daemon?.restartIntoCurrentVersion() }
        return daemon
    }

    /// Set once the daemon stopped to start again on the version now
    /// current (an update installed or rolled back): the CLI then runs the
    /// launcher again, in place of this process (`Restart`).
    public var wantsRestart: Bool { state.withLock { $0.restart } }

    func restartIntoCurrentVersion() async {
        state.withLock { $0.restart = true }
        await stop()
    }

    /// The base URL once the HTTP server listens ("http://127.0.0.1:PORT").
    public var baseURL: String? { state.withLock { $0.base } }

    /// Runs the services until `stop()`, or until `session` returns (then
    /// shuts down; what it throws is rethrown). `onReady` runs once the HTTP
    /// server listens, with its base URL, before the daemon's jobs start.
    public func run(
        onReady: @escaping @Sendable (String) async throws -> Void = { _ in },
        session: (@Sendable (String) async throws -> Void)? = nil
    ) async throws {
        let (ports, listening) = AsyncStream<Int>.makeStream()
        let ready = Latch()
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: EngineService(runtime: runtime), serviceName: "engine"),
            .init(service: HTTPService(server: server) { listening.yield($0) }, serviceName: "http"),
            .init(
                service: StartService(daemon: self, ports: ports, ready: ready, onReady: onReady, session: session),
                successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup,
                serviceName: "start"),
        ]
        let library = library
        let updates = updates
        services.append(
            .init(
                service: RepeatingJob(name: "upkeep", ready: ready, first: { .seconds(5) }, next: { .seconds(5) }) {
                    await library.upkeep()
                    updates?.upkeep()
                },
                serviceName: "upkeep"))
        if options.role == .daemon {
            let channels = channels
            let schedule = options.schedule
            services.append(
                .init(
                    service: RepeatingJob(name: "republish", ready: ready, first: { .zero }, next: { schedule.republishInterval }) {
                        await channels.republish()
                        await updates?.republish()
                    }, serviceName: "republish"))
            if let updates {
                services.append(
                    .init(service: UpdateJob(updates: updates, ready: ready, schedule: options.updateSchedule), serviceName: "updates"))
            }
            services.append(
                .init(
                    service: RepeatingJob(
                        name: "refresh", ready: ready, first: { schedule.firstRefresh(unit: .random(in: 0..<1)) },
                        next: { schedule.nextRefresh(unit: .random(in: 0..<1)) }
                    ) { await channels.refreshAll() }, serviceName: "refresh"))
        }
        var logger = Logger(label: "matinee.services")
        logger.logLevel = .critical
        var config = ServiceGroupConfiguration(services: services, logger: logger)
        // A player reading a stream keeps its request open for as long as it
        // plays: shutting down waits this long for requests, then cancels.
        config.maximumGracefulShutdownDuration = .seconds(3)
        let group = ServiceGroup(configuration: config)
        let stopNow = state.withLock { s -> Bool in
            s.group = group
            return s.stopping
        }
        if stopNow { Task { await group.triggerGracefulShutdown() } }
        try await group.run()
        if let failure = state.withLock({ $0.failure }) { throw failure }
    }

    /// What the session threw, rethrown by `run` once everything stopped.
    fileprivate func sessionFailed(_ error: any Error) {
        state.withLock { $0.failure = $0.failure ?? error }
    }

    /// Shuts the daemon down gracefully (the CLI calls this on SIGINT or SIGTERM).
    public func stop() async {
        // A TV playing the web UI's cast stops too, rather than losing its stream.
        await casts.shutdown()
        let group = state.withLock { s -> ServiceGroup? in
            s.stopping = true
            return s.group
        }
        await group?.triggerGracefulShutdown()
    }

    fileprivate func listening(on port: Int) -> String {
        let base = "http://127.0.0.1:\(port)"
        state.withLock { $0.base = base }
        playback.setBase(base)
        return base
    }

    /// The daemon's start: seed what was downloaded and the followed
    /// channels' catalogs, then announce them once the DHT answers.
    fileprivate func seedEverything() async throws {
        let content = try await library.restoreDownloads()
        if options.role == .daemon { await offline.restore() }
        let catalogs = try await channels.seedCatalogs()
        await updates?.seedReleases()
        events.info(
            "Serving on \(baseURL ?? ""): seeding \(Format.count(content.count, "download")) and \(Format.count(catalogs, "channel catalog")); Ctrl-C to stop."
        )
        await waitForDHT(runtime.session, timeout: 30)
        // Announce what is seeded now that the DHT answers: a torrent added
        // while the routing table was still filling may have announced to
        // nobody, and libtorrent's next announce is 15 minutes away.
        for t in runtime.session.torrents { t.announce() }
    }
}

/// Waits for the HTTP port, tells the world (daemon.json for CLI commands,
/// `onReady`), seeds, opens the jobs' latch, then runs the session if there
/// is one, or waits for the shutdown and removes daemon.json.
private struct StartService: Service {
    let daemon: MatineeDaemon
    let ports: AsyncStream<Int>
    let ready: Latch
    let onReady: @Sendable (String) async throws -> Void
    let session: (@Sendable (String) async throws -> Void)?

    func run() async throws {
        var port: Int?
        for await p in ports {
            port = p
            break
        }
        guard let port else { return }
        let base = daemon.listening(on: port)
        let pid = getpid()
        try await onReady(base)
        if daemon.options.role == .daemon {
            try? DaemonFile(url: base, token: daemon.server.token.value, pid: pid).write(daemon.home)
            // HTTP answers, the engine runs, the database is open: a version
            // on trial after an update has started healthy (docs/release-format.md §5).
            Installation.running?.confirmHealthy(InstalledVersion.running.build)
        }
        defer { if daemon.options.role == .daemon { DaemonFile.remove(daemon.home, pid: pid) } }
        if daemon.options.role == .daemon {
            // A stop asked for while seeding (or waiting for the DHT) ends it.
            do {
                try await cancelWhenGracefulShutdown { try await daemon.seedEverything() }
            } catch is CancellationError {
                return
            }
        }
        ready.open()
        if let session {
            // A stop (Ctrl-C) ends the session at once: what it was waiting
            // for (peers, the player) no longer matters.
            do {
                try await cancelWhenGracefulShutdown { try await session(base) }
            } catch is CancellationError {
            } catch {
                daemon.sessionFailed(error)
            }
            // The session is over: the daemon stops. This service returns in
            // its turn of the shutdown (returning earlier, while the jobs
            // after it still stop, is "finished unexpectedly" to the group).
            await daemon.stop()
        }
        try? await gracefulShutdown()
    }
}

/// The channel routes' service: `Channels`, with its errors as the API's.
struct ChannelAPI: ChannelService {
    let channels: Channels

    func addChannel(address: String) async throws -> String {
        try await apiCall { try await channels.add(address) }
    }

    func refreshChannel(key: String) async throws -> String {
        do {
            return try await channels.refresh(key: key)
        } catch let e as DaemonError where !e.badInput {
            throw ChannelServiceError(e.message + " (keeping the last good catalog)", badInput: false)
        } catch let e as DaemonError {
            throw ChannelServiceError(e.message, badInput: true)
        }
    }

    func removeChannel(key: String) async throws { try await apiCall { try await channels.remove(key: key) } }
}

/// A daemon error as the HTTP API's (422 for bad input, 502 otherwise).
func apiCall<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let e as DaemonError {
        throw ChannelServiceError(e.message, badInput: e.badInput)
    }
}
