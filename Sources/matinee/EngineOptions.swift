import ArgumentParser
import Daemon
import TorrentKit

/// Options of every command that starts the engine.
struct EngineOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Listen for peers on HOST:PORT (default: every interface, port 6881).", valueName: "host:port"))
    var listen: String?

    @Option(
        name: .customLong("dht-node"),
        help: ArgumentHelp("Bootstrap the DHT from this node instead of the public routers (repeatable).", valueName: "host:port"))
    var dhtNodes: [String] = []

    @Option(name: .customLong("peer"), help: ArgumentHelp("Connect to this peer directly (repeatable).", valueName: "host:port"))
    var peers: [String] = []

    // An upload cap low enough to "not share" while downloading also starves
    // the requests the download needs (libtorrent caps protocol bytes too).
    @Flag(name: .customLong("no-seed"), help: "Stop sharing as soon as the download is complete.")
    var noSeed = false

    @Option(
        name: .customLong("upload-limit"), help: ArgumentHelp("Upload cap in KiB/s (default: 0, no cap).", valueName: "KiB/s"),
        transform: OptionValue.int)
    var uploadLimit = 0

    @Flag(
        name: .customLong("limit-local-peers"),
        help: "Apply --upload-limit to peers on the local network too (by default they are exempt: they do not use your internet link).")
    var limitLocalPeers = false

    @Option(
        name: .customLong("seed-ratio"),
        help: ArgumentHelp(
            "Stop sharing a finished torrent at this upload/download ratio, 0 for no limit (default: \(OptionValue.figure(EngineConfig.defaultSeedRatio))).",
            valueName: "ratio"), transform: OptionValue.number)
    var seedRatio = EngineConfig.defaultSeedRatio

    @Option(
        name: .customLong("seed-time"),
        help: ArgumentHelp(
            "Stop sharing a finished torrent after this many minutes, 0 for no limit (default: \(OptionValue.figure(EngineConfig.defaultSeedTime))).",
            valueName: "minutes"), transform: OptionValue.number)
    var seedTime = EngineConfig.defaultSeedTime

    @Flag(name: .customLong("require-encryption"), help: "Only use encrypted peer connections (default: prefer them).")
    var requireEncryption = false

    @Option(
        name: .customLong("proxy"),
        help: ArgumentHelp(
            "Send peer, web seed, DHT and tracker traffic through this SOCKS5 proxy. Peers cannot connect to you through it, so incoming connections, LSD and UPnP are off.",
            valueName: "socks5://[user:password@]host:port"))
    var proxy: String?

    @Flag(
        name: .customLong("proxy-only"),
        help: "With a proxy: nothing goes out without it (no DNS lookup of the public DHT routers, no .torrent URL fetched directly).")
    var proxyOnly = false

    @Flag(
        name: .customLong("anonymous-mode"),
        help: "Tell peers and trackers nothing of this client: no name or version, a peer id without a client mark.")
    var anonymousMode = false

    func validate() throws {
        if let listen, HostPort(listen) == nil {
            throw ValidationError("--listen takes HOST:PORT, like 127.0.0.1:6881 (got \"\(listen)\")")
        }
        for n in dhtNodes where HostPort(n) == nil {
            throw ValidationError("--dht-node takes HOST:PORT (got \"\(n)\")")
        }
        for p in peers where HostPort(p) == nil {
            throw ValidationError("--peer takes HOST:PORT (got \"\(p)\")")
        }
        if uploadLimit < 0 { throw ValidationError("--upload-limit cannot be negative") }
        if seedRatio < 0 { throw ValidationError("--seed-ratio cannot be negative") }
        if seedTime < 0 { throw ValidationError("--seed-time cannot be negative") }
        if let proxy, let problem = ProxyAddress.problem(proxy) { throw ValidationError("--proxy: \(problem)") }
    }

    /// What these options say, for the daemon.
    var config: EngineConfig {
        var c = EngineConfig()
        c.listen = listen.flatMap(HostPort.init)
        c.dhtNodes = dhtNodes.compactMap(HostPort.init)
        c.peers = peers.compactMap(HostPort.init)
        c.noSeed = noSeed
        c.uploadLimit = uploadLimit
        c.limitLocalPeers = limitLocalPeers
        c.seedRatio = seedRatio
        c.seedTime = seedTime
        c.requireEncryption = requireEncryption
        c.proxy = proxy.flatMap(ProxyAddress.init)
        c.proxyOnly = proxyOnly
        c.anonymousMode = anonymousMode
        return c
    }

    /// True when any engine option was given: a command acting through the
    /// running daemon says these are not used.
    var anyGiven: Bool { config != EngineConfig() }
}
