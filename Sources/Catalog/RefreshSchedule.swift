/// When a running Matinee looks for new versions of the channels it follows
/// and puts their signed pointers back on the DHT.
///
/// Viewers learn of a new version only by asking, so the refresh interval
/// bounds how long a new version takes to reach them: with daemons started
/// at unrelated times, the share that has it grows about linearly over one
/// interval (docs/benchmarks.md, propagation). Jitter keeps daemons that
/// started together (after a network outage, a reboot of many machines)
/// from asking the same DHT nodes at the same moment. Pure: the caller
/// sleeps.
public struct RefreshSchedule: Sendable, Equatable {
    /// The mean time between two refreshes of one channel.
    public var interval: Duration
    /// Each wait is `interval` times a factor drawn from 1 ± `jitter`.
    public var jitter: Double
    /// How often pointers are put back on the DHT (items expire after about
    /// two hours), besides once right after a new version arrives.
    public var republishInterval: Duration

    /// The daemon's defaults: a refresh about every 8 minutes (6 to 10), a
    /// re-put every 30 minutes and on every new version.
    public static let daemon = RefreshSchedule(interval: .seconds(8 * 60), jitter: 0.25, republishInterval: .seconds(30 * 60))

    public init(interval: Duration, jitter: Double = 0.25, republishInterval: Duration = .seconds(30 * 60)) {
        self.interval = interval
        self.jitter = min(max(jitter, 0), 0.9)
        self.republishInterval = republishInterval
    }

    /// The wait before the next refresh; `unit` is a draw from [0, 1).
    public func nextRefresh(unit: Double) -> Duration {
        interval * (1 - jitter + 2 * jitter * min(max(unit, 0), 1))
    }

    /// The wait before the first refresh after start: soon (whatever was
    /// published while Matinee was off is fetched within a minute), at a
    /// random point so that daemons started together do not ask at once.
    public func firstRefresh(unit: Double) -> Duration {
        min(interval, .seconds(60)) * min(max(unit, 0), 1)
    }

    /// The wait before the next refresh, drawn from `generator`.
    public func nextRefresh(using generator: inout some RandomNumberGenerator) -> Duration {
        nextRefresh(unit: Double.random(in: 0..<1, using: &generator))
    }
}
