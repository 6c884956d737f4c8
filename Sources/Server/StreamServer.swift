import Catalog
import Hummingbird
import Logging
import NIOCore
import Streaming

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

    public init(
        hub: StreamHub, host: String = "127.0.0.1", port: Int = 0, extraHostNames: [String] = [],
        catalog: (store: CatalogStore, service: ChannelService?, playback: PlaybackService?, artRoot: String)? = nil, token: CSRFToken = CSRFToken()
    ) {
        self.hub = hub
        self.host = host
        self.port = port
        self.extraHostNames = extraHostNames
        self.catalog = catalog
        self.token = token
    }

    /// The router, for in-process tests and for embedding.
    public func router(allowlist: HostAllowlist) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: HostCheckMiddleware(allowlist: allowlist))
        router.add(middleware: RequestGuardMiddleware(token: token))
        StreamController(hub: hub).addRoutes(to: router)
        if let catalog {
            CatalogController(
                store: catalog.store, service: catalog.service, playback: catalog.playback, token: token,
                artRoot: catalog.artRoot
            ).addRoutes(to: router)
            WebUIController().addRoutes(to: router)
        }
        return router
    }

    /// Builds the application. `onListening` gets the bound port.
    public func application(
        logger: Logger = Logger(label: "matinee.http"),
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let allowlist = HostAllowlist(port: port, extraNames: extraHostNames)
        return Application(
            router: router(allowlist: allowlist),
            configuration: .init(address: .hostname(host, port: port), serverName: "Matinee"),
            onServerRunning: { channel in
                let p = channel.localAddress?.port ?? port
                allowlist.setPort(p)
                await onListening(p)
            },
            logger: logger)
    }
}
