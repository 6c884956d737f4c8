public import Catalog
public import Hummingbird
public import Logging
import NIOCore
public import Streaming

/// The HTTP face of Matinee: streams and their status. Binds to 127.0.0.1
/// unless told otherwise, and answers only requests addressed to it by a
/// local name (`HostAllowlist`).
public struct StreamServer: Sendable {
    public var host: String
    public var port: Int
    public var extraHostNames: [String]
    public let hub: StreamHub
    /// The catalog routes, when this server has a catalog (serve does, play does not).
    public var catalog: (store: CatalogStore, service: ChannelService?, playback: PlaybackService?, artRoot: String)?
    public let token: CSRFToken
    /// The Settings and Downloads routes, when a daemon runs this server.
    public var library: LibraryService?
    /// Matinee's own updates, when a daemon runs this server.
    public var updates: UpdateService?
    /// Download for offline, when a daemon runs this server.
    public var offline: OfflineService?
    /// Casting to a TV, when a daemon runs this server.
    public var cast: CastService?
    /// Signs stream URLs: only those carrying a capability are served.
    public let capability: StreamCapability
    /// The subtitles of the casts under way, which the LAN face serves.
    public let castTexts = CastTexts()
    /// Idle and header timeouts, and the most connections open at once.
    public var limits = ConnectionLimits()
    /// `/metrics`, when a daemon runs this server.
    public var metrics: ServerMetrics?

    public init(
        hub: StreamHub, host: String = "127.0.0.1", port: Int = 0, extraHostNames: [String] = [],
        catalog: (store: CatalogStore, service: ChannelService?, playback: PlaybackService?, artRoot: String)? = nil,
        token: CSRFToken = CSRFToken()
    ) {
        self.hub = hub
        self.host = host
        self.port = port
        self.extraHostNames = extraHostNames
        self.catalog = catalog
        self.token = token
        capability = StreamCapability()
    }

    /// A capability URL path for one file: `/stream/<infohash>/<file>?exp=…&cap=…`.
    public func streamPath(infoHash: String, file: Int) -> String {
        capability.sign("/stream/\(infoHash)/\(file)")
    }

    /// The router, for in-process tests and for embedding.
    public func router(allowlist: HostAllowlist) -> Router<MatineeRequestContext> {
        let router = Router(context: MatineeRequestContext.self)
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: HostCheckMiddleware(allowlist: allowlist))
        router.add(middleware: RequestGuardMiddleware(token: token))
        let streams = StreamController<MatineeRequestContext>(hub: hub, capability: capability, metrics: metrics)
        metrics?.addRoutes(to: router)
        streams.addRoutes(to: router)
        MediaController(streams: streams, allowlist: allowlist, transcodes: TranscodeLimiter()).addRoutes(to: router)
        if let catalog {
            // The page reads the CSRF token here (same origin only: the Host
            // and Origin checks run first).
            router.get("/api/session") { _, _ in try JSONResponse.make(["csrfToken": token.value]) }
            TitlesController(store: catalog.store, artRoot: catalog.artRoot).addRoutes(to: router)
            PlaybackController(store: catalog.store, playback: catalog.playback, capability: capability).addRoutes(to: router)
            HistoryController(store: catalog.store).addRoutes(to: router)
            ChannelsController(store: catalog.store, service: catalog.service).addRoutes(to: router)
            WebUIController().addRoutes(to: router)
        }
        if let library {
            SettingsController<MatineeRequestContext>(service: library).addRoutes(to: router)
            LibraryController<MatineeRequestContext>(service: library).addRoutes(to: router)
        }
        if let updates { UpdateController<MatineeRequestContext>(service: updates).addRoutes(to: router) }
        if let offline { OfflineController<MatineeRequestContext>(service: offline).addRoutes(to: router) }
        if let cast {
            CastController<MatineeRequestContext>(
                service: cast, titles: catalog.map { TitlesController(store: $0.store, artRoot: $0.artRoot) }
            ).addRoutes(to: router)
        }
        return router
    }

    /// Builds the application. `onListening` gets the bound port.
    public func application(
        logger: Logger = Logger(label: "matinee.http"),
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let allowlist = HostAllowlist(port: port, extraNames: extraHostNames)
        return application(router: router(allowlist: allowlist), allowlist: allowlist, host: host, port: port, logger: logger, onListening: onListening)
    }

    /// The router of the LAN face (`castApplication`): streams with a
    /// capability and nothing else.
    public func castRouter(allowlist: HostAllowlist, address: String = "127.0.0.1") -> Router<MatineeRequestContext> {
        let router = Router(context: MatineeRequestContext.self)
        router.add(middleware: CastFaceMiddleware())
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: HostCheckMiddleware(allowlist: allowlist))
        let streams = StreamController<MatineeRequestContext>(hub: hub, capability: capability, metrics: metrics)
        streams.addStreamRoutes(to: router)
        castTexts.addRoutes(to: router, capability: capability)
        // Files the TV cannot play, converted as they play; ffmpeg reads
        // /stream on this same face.
        MediaController(streams: streams, allowlist: allowlist, transcodes: TranscodeLimiter(limit: 2), selfHost: address)
            .addTranscodeRoute(to: router)
        return router
    }

    /// The LAN face, for casting (issue 14): bound to the address a
    /// renderer reaches (`address`, any free port), it serves `/stream`
    /// and `/transcode` (files the TV cannot play, converted) and the casts'
    /// `/subtitles`, each with a valid capability, the URLs a cast
    /// hands the renderer, and nothing else: no web UI, no API, not even
    /// the streams' status; GET and HEAD only. Only requests addressed to
    /// `address:port` are answered.
    public func castApplication(
        address: String, logger: Logger = Logger(label: "matinee.cast"), onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let allowlist = HostAllowlist(port: 0, extraNames: [address.contains(":") ? "[\(address)]" : address])
        return application(router: castRouter(allowlist: allowlist, address: address), allowlist: allowlist, host: address, port: 0, logger: logger, onListening: onListening)
    }

    private func application(
        router: Router<MatineeRequestContext>, allowlist: HostAllowlist, host: String, port: Int, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let counter = ConnectionCounter(limit: limits.maxConnections)
        let idle = limits.idleTimeout.components
        return Application(
            router: router,
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [counter.handler()],
                    idleTimeout: .nanoseconds(idle.seconds * 1_000_000_000 + idle.attoseconds / 1_000_000_000))),
            configuration: .init(address: .hostname(host, port: port), serverName: "Matinee"),
            onServerRunning: { channel in
                let p = channel.localAddress?.port ?? port
                allowlist.setPort(p)
                await onListening(p)
            },
            logger: logger)
    }
}
