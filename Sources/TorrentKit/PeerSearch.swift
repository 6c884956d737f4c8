/// When a torrent with no peers should look again. Trackers hand out their
/// announce interval (often half an hour): a viewer waiting on an empty
/// swarm should not wait that long to learn that a seeder arrived, nor a
/// viewer whose last peer dropped wait libtorrent's minute before it
/// reconnects. While there are no peers, look again (and reconnect the peers
/// we had) after 2, 5, 10, 20, 40 and then every 60 seconds; with peers,
/// leave it to the trackers and the DHT.
public struct PeerSearch: Sendable, Equatable {
    public static let schedule: [Int] = [2, 5, 10, 20, 40, 60]
    private var attempts = 0
    private var lastSearch: Double = 0

    public init(startedAt: Double) { lastSearch = startedAt }

    /// `now` in seconds on any monotonic clock. True: announce again now.
    public mutating func shouldSearch(now: Double, peers: Int, wantsData: Bool) -> Bool {
        guard peers == 0, wantsData else {
            attempts = 0
            lastSearch = now
            return false
        }
        let wait = Double(Self.schedule[min(attempts, Self.schedule.count - 1)])
        guard now - lastSearch >= wait else { return false }
        attempts += 1
        lastSearch = now
        return true
    }
}
