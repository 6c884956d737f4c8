/// When to stop sharing a finished torrent. libtorrent's own ratio and time
/// limits only affect queueing (docs/libtorrent.md), so Matinee decides here
/// and pauses the torrent itself.
public struct SeedingPolicy: Sendable, Equatable {
    /// False: share nothing once the download is done (`--no-seed`).
    public var enabled = true
    /// Stop once uploaded / downloaded reaches this; nil: no ratio limit.
    public var ratioLimit: Double? = 2.0
    /// Stop after seeding this many seconds; nil: no time limit.
    public var seedTimeLimit: Int64? = 2 * 60 * 60

    public init(enabled: Bool = true, ratioLimit: Double? = 2.0, seedTimeLimit: Int64? = 2 * 60 * 60) {
        self.enabled = enabled
        self.ratioLimit = ratioLimit
        self.seedTimeLimit = seedTimeLimit
    }

    public enum Decision: Equatable, Sendable {
        case keepSharing
        case stop(reason: String)
    }

    /// Applies to torrents whose wanted data is complete; a torrent still
    /// downloading always shares (within the upload cap), as BitTorrent expects.
    public func decide(_ s: TorrentStatus) -> Decision {
        guard s.isFinished || s.isSeeding else { return .keepSharing }
        guard enabled else { return .stop(reason: "sharing is off (--no-seed)") }
        if let r = ratioLimit {
            // A torrent we created (or had whole) downloaded nothing: the ratio
            // counts against its size, as other clients do.
            let base = max(s.allTimeDownload, s.totalWanted)
            if base > 0, Double(s.allTimeUpload) / Double(base) >= r {
                return .stop(reason: "share ratio \(r) reached")
            }
        }
        if let t = seedTimeLimit, s.seedingSeconds >= t {
            return .stop(reason: "seeding time limit reached")
        }
        return .keepSharing
    }
}
