/// How a channel lookup keeps asking the DHT within its time budget.
///
/// One DHT lookup ends when every DHT node of the session has finished its
/// traversal, often within seconds, and "nothing found" then is no proof that
/// the channel does not exist: its publisher may still be hashing, or its
/// pointer may not have spread yet. So a lookup that found nothing is made
/// again, after a pause that doubles from `firstPause` up to `longestPause`,
/// until the budget is spent. Pure: the caller measures time.
public struct LookupRetry: Sendable, Equatable {
    /// The whole time allowed for looking (the user's `--timeout`).
    public var budget: Duration
    public var firstPause: Duration = .seconds(1)
    public var longestPause: Duration = .seconds(15)
    /// One lookup is cut off after this long (libtorrent's own traversal
    /// ends sooner unless nodes stop answering).
    public var longestLookup: Duration = .seconds(45)
    /// A lookup given less time than this is not worth starting.
    public var shortestLookup: Duration = .seconds(2)

    public init(budget: Duration) {
        self.budget = budget
    }

    /// How long the next lookup may run, started `elapsed` after looking
    /// began; nil when the budget is spent.
    public func lookupTimeout(elapsed: Duration) -> Duration? {
        let remaining = budget - elapsed
        guard remaining >= shortestLookup else { return nil }
        return min(longestLookup, remaining)
    }

    /// The pause before asking again after `emptyLookups` lookups (n >= 1)
    /// found nothing; nil when no lookup would fit in the budget after it.
    public func pause(afterEmptyLookups n: Int, elapsed: Duration) -> Duration? {
        var pause = firstPause
        for _ in 1..<max(n, 1) where pause < longestPause { pause *= 2 }
        pause = min(pause, longestPause)
        return budget - elapsed - pause >= shortestLookup ? pause : nil
    }

    /// The pause while the routing tables hold no node yet (a lookup would
    /// end at once and prove nothing); nil when the budget is spent.
    public func pauseForNodes(elapsed: Duration) -> Duration? {
        let remaining = budget - elapsed
        guard remaining >= shortestLookup else { return nil }
        return max(.milliseconds(50), min(.milliseconds(250), remaining - shortestLookup))
    }
}
