import ArgumentParser
import TorrentKit

/// Options of every command that starts the engine.
struct EngineOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Listen for peers on HOST:PORT (default: every interface, port 6881).", valueName: "host:port"))
    var listen: String?

    @Option(name: .customLong("dht-node"), help: ArgumentHelp("Bootstrap the DHT from this node instead of the public routers (repeatable).", valueName: "host:port"))
    var dhtNodes: [String] = []

    @Option(name: .customLong("peer"), help: ArgumentHelp("Connect to this peer directly (repeatable).", valueName: "host:port"))
    var peers: [String] = []

    // An upload cap low enough to "not share" while downloading also starves
    // the requests the download needs (libtorrent caps protocol bytes too).
    @Flag(name: .customLong("no-seed"), help: "Stop sharing as soon as the download is complete.")
    var noSeed = false

    @Option(name: .customLong("upload-limit"), help: ArgumentHelp("Upload cap in KiB/s, 0 for none.", valueName: "KiB/s"))
    var uploadLimit = 0

    @Flag(name: .customLong("limit-local-peers"), help: "Apply --upload-limit to peers on the local network too (by default they are exempt: they do not use your internet link).")
    var limitLocalPeers = false

    @Option(name: .customLong("seed-ratio"), help: ArgumentHelp("Stop sharing a finished torrent at this upload/download ratio, 0 for no limit.", valueName: "ratio"))
    var seedRatio = 2.0

    @Option(name: .customLong("seed-time"), help: ArgumentHelp("Stop sharing a finished torrent after this many minutes, 0 for no limit.", valueName: "minutes"))
    var seedTime = 120.0

    @Flag(name: .customLong("require-encryption"), help: "Only use encrypted peer connections (default: prefer them).")
    var requireEncryption = false

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
    }

    var peerList: [HostPort] { peers.compactMap(HostPort.init) }

    var seedingPolicy: SeedingPolicy {
        SeedingPolicy(
            enabled: !noSeed, ratioLimit: seedRatio > 0 ? seedRatio : nil,
            seedTimeLimit: seedTime > 0 ? Int64((seedTime * 60).rounded(.up)) : nil)
    }

    func sessionConfiguration(savedState: [UInt8]?) -> SessionConfiguration {
        var c = SessionConfiguration()
        if let listen, let hp = HostPort(listen) { c.listenInterfaces = [hp] }
        if !dhtNodes.isEmpty { c.dhtNodes = dhtNodes.compactMap(HostPort.init) }
        c.encryption = requireEncryption ? .require : .prefer
        c.uploadRateLimit = uploadLimit * 1024
        c.limitLocalPeers = limitLocalPeers
        c.savedState = savedState
        return c
    }
}
