/// The decisions behind streaming a torrent, as pure types: each takes what
/// was observed and the time on some `Clock`, and returns what to do. The
/// shells that act on them (`StreamedTorrent`) only read the torrent, ask,
/// and apply; tests drive the policies with a manual clock.

/// When a stream has stalled: a reader waits for a piece, peers are
/// connected, and for `limit` no piece was verified and under 1 KiB/s
/// arrived. Then every connection is made again. Seen on a loaded machine:
/// Transmission took us for a seed (our handshake said "upload only" during a
/// moment when no piece was wanted) and never unchoked us.
public struct StallWatch<C: Clock>: Sendable where C.Duration == Duration {
    public enum Action: Sendable, Equatable {
        /// Close every peer connection and make them again.
        case reconnect
    }

    /// What the shell saw this round.
    public struct Observation: Sendable, Equatable {
        public var verifiedPieces: Int
        public var downloadRate: Int
        /// Some reader is at an offset whose piece is missing.
        public var readerWaiting: Bool
        public var peers: Int

        public init(verifiedPieces: Int, downloadRate: Int, readerWaiting: Bool, peers: Int) {
            self.verifiedPieces = verifiedPieces
            self.downloadRate = downloadRate
            self.readerWaiting = readerWaiting
            self.peers = peers
        }
    }

    public static var defaultLimit: Duration { .seconds(12) }
    /// Data arriving at least this fast (a big piece on a slow swarm) is not a stall.
    public static var flowing: Int { 1024 }

    public let limit: Duration
    private var lastCount: Int
    private var lastChange: C.Instant

    public init(limit: Duration = Self.defaultLimit, verifiedPieces: Int, now: C.Instant) {
        self.limit = limit
        lastCount = verifiedPieces
        lastChange = now
    }

    public mutating func observe(_ o: Observation, now: C.Instant) -> Action? {
        if o.verifiedPieces != lastCount || o.downloadRate >= Self.flowing {
            lastCount = o.verifiedPieces
            lastChange = now
            return nil
        }
        guard o.readerWaiting else {
            lastChange = now
            return nil
        }
        guard lastChange.duration(to: now) >= limit, o.peers > 0 else { return nil }
        lastChange = now
        return .reconnect
    }
}

/// The start-up phase of a new stream: only the pieces with deadlines (the
/// head, the tail, each reader's first bytes) are wanted, so the first
/// megabytes come first; once they are in, or after `limit` regardless, the
/// whole file is wanted at normal priority (docs/benchmarks.md).
public struct StartupPhase<C: Clock>: Sendable where C.Duration == Duration {
    public enum Action: Sendable, Equatable {
        /// Want the whole file; `forced`: the phase ran out of time.
        case wantWholeFile(forced: Bool)
    }

    public static var defaultLimit: Duration { .seconds(15) }

    public let limit: Duration
    private let started: C.Instant
    public private(set) var isOver = false

    public init(limit: Duration = Self.defaultLimit, now: C.Instant) {
        self.limit = limit
        started = now
    }

    /// `ready`: every reader has its first bytes and the pins are verified.
    public mutating func check(ready: Bool, now: C.Instant) -> Action? {
        guard !isOver else { return nil }
        if ready {
            isOver = true
            return .wantWholeFile(forced: false)
        }
        if started.duration(to: now) >= limit {
            isOver = true
            return .wantWholeFile(forced: true)
        }
        return nil
    }
}

/// Piece priorities for a torrent being streamed: the files past start-up at
/// normal priority, pieces wanted soon above that, deadline pieces urgent,
/// everything else not wanted.
public enum PiecePriorities {
    public static let urgent = 7

    public static func plan(
        pieceCount: Int, wholeFiles: [PieceMap], deadlines: [Int], held: [Int] = [], soon: [Int: Int] = [:]
    )
        -> [Int]
    {
        var priorities = Array(repeating: 0, count: pieceCount)
        for m in wholeFiles {
            if let ps = m.pieces { for p in ps where p < pieceCount { priorities[p] = StreamWindowPlanner.normalPriority } }
        }
        for (p, prio) in soon where p >= 0 && p < pieceCount { priorities[p] = max(priorities[p], prio) }
        for p in held where p >= 0 && p < pieceCount { priorities[p] = 0 }
        for p in deadlines where p >= 0 && p < pieceCount { priorities[p] = urgent }
        return priorities
    }
}
