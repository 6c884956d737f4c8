public import Server
public import TorrentKit

/// How the engine runs: what the command line's engine options and the
/// saved settings say.
public struct EngineConfig: Sendable, Equatable {
    /// HOST:PORT to listen on; nil: every interface, port 6881.
    public var listen: HostPort?
    /// Bootstrap nodes instead of the public routers; empty: the routers.
    public var dhtNodes: [HostPort] = []
    /// Peers to connect to directly.
    public var peers: [HostPort] = []
    public var noSeed = false
    /// KiB/s, 0 for none.
    public var uploadLimit = 0
    public var limitLocalPeers = false
    public var seedRatio = EngineConfig.defaultSeedRatio
    /// Minutes.
    public var seedTime = EngineConfig.defaultSeedTime
    public var requireEncryption = false
    /// Peer, DHT and tracker traffic through this SOCKS5 proxy.
    public var proxy: ProxyAddress?
    /// With `proxy`: nothing goes out without it. Besides what the engine
    /// does (SessionConfiguration.proxyOnly), the daemon fetches no .torrent
    /// URL itself (that would be a direct connection).
    public var proxyOnly = false
    public var anonymousMode = false

    /// A proxy is set and nothing may go out without it.
    public var isProxyOnly: Bool { proxy != nil && proxyOnly }

    public static let defaultSeedRatio = 2.0
    public static let defaultSeedTime = 120.0

    public init() {}

    public var seedingPolicy: SeedingPolicy {
        SeedingPolicy(
            enabled: !noSeed, ratioLimit: seedRatio > 0 ? seedRatio : nil,
            seedTimeLimit: seedTime > 0 ? Int64((seedTime * 60).rounded(.up)) : nil)
    }

    public func sessionConfiguration(savedState: [UInt8]?) -> SessionConfiguration {
        var c = SessionConfiguration()
        if let listen { c.listenInterfaces = [listen] }
        if !dhtNodes.isEmpty { c.dhtNodes = dhtNodes }
        c.encryption = requireEncryption ? .require : .prefer
        c.uploadRateLimit = uploadLimit * 1024
        c.limitLocalPeers = limitLocalPeers
        c.proxy = proxy
        c.proxyOnly = proxyOnly
        c.anonymousMode = anonymousMode
        c.savedState = savedState
        return c
    }

    /// This configuration, with each value left at its default taken from
    /// the saved settings: what is typed on the command line wins.
    public func merged(with s: AppSettings?) -> EngineConfig {
        guard let s else { return self }
        var o = self
        if o.listen == nil && s.peerPort != 0 { o.listen = HostPort(host: "0.0.0.0", port: s.peerPort) }
        if o.uploadLimit == 0 { o.uploadLimit = s.uploadLimitKiB }
        if !o.noSeed { o.noSeed = !s.seeding }
        if o.seedRatio == Self.defaultSeedRatio { o.seedRatio = s.seedRatio }
        if o.seedTime == Self.defaultSeedTime { o.seedTime = s.seedMinutes }
        if !o.requireEncryption { o.requireEncryption = s.requireEncryption }
        if o.proxy == nil { o.proxy = ProxyAddress(s.proxy) }
        // The safer of the two: "proxy only" saved stays on with a proxy typed.
        o.proxyOnly = o.proxyOnly || s.proxyOnly
        if !o.anonymousMode { o.anonymousMode = s.anonymousMode }
        return o
    }

    /// The settings this configuration stands for.
    public func settings(downloadDir: String, httpPort: Int, cacheLimitGiB: Double) -> AppSettings {
        AppSettings(
            downloadDir: downloadDir, cacheLimitGiB: cacheLimitGiB, uploadLimitKiB: uploadLimit, seeding: !noSeed,
            seedRatio: seedRatio, seedMinutes: seedTime, requireEncryption: requireEncryption,
            peerPort: listen?.port ?? 0, httpPort: httpPort, proxy: proxy?.url ?? "", proxyOnly: proxyOnly,
            anonymousMode: anonymousMode)
    }

    /// The same configuration with the live-changeable values of `s`.
    func applying(_ s: AppSettings) -> EngineConfig {
        var o = self
        o.uploadLimit = s.uploadLimitKiB
        o.noSeed = !s.seeding
        o.seedRatio = s.seedRatio
        o.seedTime = s.seedMinutes
        o.requireEncryption = s.requireEncryption
        return o
    }
}
