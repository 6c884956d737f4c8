/// When a start that finds no peer says "you appear to be offline" instead
/// of waiting out its minute (issue 13). `Playback.waitForMetadata` asks
/// once, `after` a start began with no peer known: then the DHT's routing
/// table is read and the torrent looked up (for up to `lookup`).
enum OfflineCheck {
    static let after: Duration = .seconds(6)
    static let lookup: Duration = .seconds(4)

    /// No node of the routing table on the internet, nobody found by a
    /// lookup on the DHT there is, and no peer known from anywhere else
    /// (trackers, PEX, LSD, peers given): nobody can be asked.
    static func isOffline(internetNodes: Int, lookupPeers: Int, knownPeers: Int) -> Bool {
        internetNodes == 0 && lookupPeers == 0 && knownPeers == 0
    }
}
