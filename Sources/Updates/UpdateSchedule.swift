/// When a running Matinee looks at its release channel, and whether it may
/// install what it found by itself. Pure: the daemon sleeps and acts.
///
/// Releases are rare, so checks are hours apart; jitter keeps daemons that
/// started together (a reboot of many machines) from asking the same DHT
/// nodes at once. The first check comes a few minutes after start, not at
/// once: start-up (seeding, the channels' first refresh) goes first.
public struct UpdateSchedule: Sendable, Equatable {
    /// The mean time between two checks.
    public var interval: Duration
    /// Each wait is `interval` times a factor drawn from 1 ± `jitter`.
    public var jitter: Double
    /// The first check comes within this long of the start.
    public var firstWithin: Duration
    /// How often an automatic update waiting for the player to stop looks again.
    public var whilePlaying: Duration

    /// About every 4 hours (3 to 5), the first within 10 minutes of start.
    public static let daemon = UpdateSchedule(interval: .seconds(4 * 3600), jitter: 0.25, firstWithin: .seconds(600))

    public init(interval: Duration, jitter: Double = 0.25, firstWithin: Duration = .seconds(600), whilePlaying: Duration = .seconds(60)) {
        self.interval = interval
        self.jitter = min(max(jitter, 0), 0.9)
        self.firstWithin = firstWithin
        self.whilePlaying = whilePlaying
    }

    /// The wait before the first check; `unit` is a draw from [0, 1). Never
    /// under a minute: the DHT's routing table fills first.
    public func first(unit: Double) -> Duration {
        let floor = min(Duration.seconds(60), firstWithin)
        return floor + (firstWithin - floor) * min(max(unit, 0), 1)
    }

    /// The wait after a check; `unit` is a draw from [0, 1).
    public func next(unit: Double) -> Duration {
        interval * (1 - jitter + 2 * jitter * min(max(unit, 0), 1))
    }

    /// What to do with a release that is downloaded, checked and ready.
    public enum Action: Sendable, Equatable {
        /// Tell the user ("Version X is ready") and wait for them.
        case offer
        /// Install it and restart into it now.
        case install
        /// Install it once nothing plays; look again after `whilePlaying`.
        case waitForPlayer
    }

    /// Automatic updates install only into an installed bundle (a build
    /// tree has nowhere to switch), and never under someone watching.
    public static func action(automatic: Bool, installable: Bool, playing: Bool) -> Action {
        guard automatic, installable else { return .offer }
        return playing ? .waitForPlayer : .install
    }
}
