/// Decides which pieces of one file get deadlines and which wait. A pure
/// state machine: it is told about readers, verified pieces and the rates it
/// should plan for, and returns what to tell the engine; `FileStream`
/// carries the actions out.
///
/// - At the start, the file's first and last pieces are wanted soon, ahead of
///   everything but the readers' deadlines: containers keep their headers
///   and indexes there. They get no deadline: a player that needs them opens
///   a reader there, and a deadline on a guess takes bandwidth from the
///   pieces a reader waits for.
/// - During start-up, ahead of every reader lies a window, sized in seconds
///   of playback (`windowSeconds` x the rate) and clamped to a piece count.
///   Its first `urgentPieces` (`urgentBytes`, or what the swarm was measured
///   delivering in `urgentSeconds`) get deadlines that grow with their
///   distance from the reader; the rest of it is wanted soon without one,
///   in priority bands that follow playback order (`soonPriority`).
///   libtorrent's normal picker takes pieces of one priority in random order
///   and its time-critical pass runs once a second, so deadlines on the
///   whole window, head and tail spread a start's first requests over all of
///   them: a fresh seek's first went to the tail (docs/streaming.md).
/// - Once playing (start-up over, the torrent in sequential mode, where
///   libtorrent takes the deadline pieces first and then the rest in index
///   order), only a reader that starts somewhere new (a seek) gets
///   deadlines, on its first `seekBytes`; one that reads on, or opens where
///   another reader was, gets none. Deadlines at the swarm's capacity cost
///   throughput that sequential order does not (docs/benchmarks.md: 10.6%
///   of playback stalled with a 16-piece window, 9.1% with 4, 4.4% with none).
/// - While playing, the missing pieces *behind* the first reader are held at
///   priority 0 while less than `bufferSeconds` of playback is in ahead of
///   it. So after a seek the swarm sends what the player needs next, in
///   playback order, rather than filling the part before the seek first.
///   Once twice that is in, they are wanted again (the file completes, for
///   sharing); below `bufferSeconds` they wait again. See docs/streaming.md.
/// - The rate is the larger of the bitrate (probed, or assumed) and the
///   rate the player was measured reading at (`PlaybackRate`).
public struct StreamWindowPlanner: Sendable {
    public struct Configuration: Sendable {
        public var windowSeconds: Double = 20
        public var minPieces = 4
        public var maxPieces = 16
        /// While playing, a reader that starts somewhere new (a seek) has
        /// deadlines on the pieces of its first this many bytes (within
        /// `minPieces...maxPieces`); one that reads on has none.
        public var seekBytes: Int64 = 4 << 20
        /// Seconds of playback ahead of the first reader wanted before
        /// anything behind it (while playing).
        public var bufferSeconds: Double = 30
        /// Bytes at each end of the file that are urgent at the start, and at
        /// most this many pieces each (deadlines scale poorly with many pieces).
        public var headBytes: Int64 = 1 << 20
        public var tailBytes: Int64 = 1 << 20
        public var maxEndPieces = 8
        /// During start-up, a reader's window has deadlines on its first this
        /// many bytes, or on what the swarm delivers in `urgentSeconds` at the
        /// measured download rate if that is more (at least one piece, at
        /// most the window); the rest of the window is wanted soon.
        public var urgentBytes: Int64 = 1 << 20
        public var urgentSeconds: Double = 1
        /// Past its deadlines, the rest of a start-up reader's first this
        /// many bytes (what the start-up phase waits for) is wanted at
        /// `soonPriority`, the rest of its window at `laterPriority`.
        public var soonBytes: Int64 = 4 << 20
        /// The bitrate assumed until one is known: 8 Mbit/s, a typical HD film.
        public var defaultBytesPerSecond = 1_000_000
        public init() {}
    }

    public enum Action: Sendable, Equatable {
        case setDeadline(piece: Int, milliseconds: Int)
        case clearDeadline(piece: Int, priority: Int)
        /// A piece without a deadline held back (0) or wanted again (normal).
        case setPriority(piece: Int, priority: Int)
    }

    /// The priority libtorrent gives a wanted piece with no deadline.
    public static let normalPriority = 4
    /// Wanted soon, with no deadline, in bands below the deadlines' 7: the
    /// picker takes a band only once every block above it is requested, and
    /// the pieces of one band in a shuffled order, so the bands follow
    /// playback order. 6: the rest of a start-up reader's first
    /// `soonBytes`; 5: the rest of its window, and the head of the file; 4:
    /// the tail.
    public static let soonPriority = 6
    public static let laterPriority = 5
    public static let tailPriority = 4

    public let map: PieceMap
    public let configuration: Configuration
    /// The bitrate: probed, or the assumed default.
    public private(set) var bitrate: Int
    /// The rate the player was measured reading at, if known.
    public private(set) var measuredRate: Int?
    public private(set) var readers: [Int: Int64] = [:]
    /// Pieces that currently carry a deadline we set.
    public private(set) var deadlines: Set<Int> = []
    /// Pieces behind the first reader held at priority 0.
    public private(set) var held: Set<Int> = []
    /// Pieces wanted soon without a deadline, with their priority.
    public private(set) var soon: [Int: Int] = [:]
    /// The torrent's download rate, bytes/s, as last measured.
    public private(set) var downloadRate = 0
    /// Start-up is over: the whole file is wanted, in sequential mode.
    public private(set) var playing = false
    private var holding = false
    /// While playing: the last piece with a deadline for each reader that
    /// started somewhere new.
    private var urgentThrough: [Int: Int] = [:]
    /// Where the last readers were when they went away: a reader opening
    /// there reads on rather than seeks.
    private var recentEnds: [Int64] = []
    private var pinned: [Int: Int] = [:]  // head/tail piece -> priority, until verified

    public init(map: PieceMap, configuration: Configuration = Configuration(), bytesPerSecond: Int? = nil) {
        self.map = map
        self.configuration = configuration
        self.bitrate = max(1, bytesPerSecond ?? configuration.defaultBytesPerSecond)
    }

    /// The rate the windows are sized for: bytes per second of playback.
    public var bytesPerSecond: Int { max(bitrate, measuredRate ?? 0) }

    /// True once the head and tail pins are verified.
    public func pinsVerified(have: (Int) -> Bool) -> Bool { pinned.keys.allSatisfy(have) }

    /// Milliseconds of playback one piece holds at the current bitrate.
    public var millisecondsPerPiece: Int { Int(map.pieceLength * 1000 / Int64(bytesPerSecond)) }

    /// Pieces in a reader's window.
    public var windowPieces: Int {
        let n = Int(configuration.windowSeconds * Double(bytesPerSecond) / Double(map.pieceLength))
        return min(configuration.maxPieces, max(configuration.minPieces, n))
    }

    /// Pieces at the start of a start-up window that get deadlines.
    public var urgentPieces: Int {
        let bytes = max(configuration.urgentBytes, Int64(Double(downloadRate) * configuration.urgentSeconds))
        let n = bytes / map.pieceLength + (bytes % map.pieceLength == 0 ? 0 : 1)
        return Int(max(1, min(Int64(windowPieces), n)))
    }

    /// The torrent's download rate was measured (takes effect at the next replan).
    public mutating func setDownloadRate(_ bytesPerSecond: Int) { downloadRate = max(0, bytesPerSecond) }

    /// Pieces of playback `bufferSeconds` stands for.
    public var bufferPieces: Int {
        max(1, Int(configuration.bufferSeconds * Double(bytesPerSecond) / Double(map.pieceLength)))
    }

    /// Wants the head and tail of the file soon.
    public mutating func start(have: (Int) -> Bool) -> [Action] {
        guard let ps = map.pieces else { return [] }
        let cap = max(1, configuration.maxEndPieces) - 1
        var head = map.pieces(covering: 0..<min(map.fileSize, configuration.headBytes)) ?? ps.lowerBound...ps.lowerBound
        head = head.lowerBound...min(head.upperBound, head.lowerBound + cap)
        let tailStart = max(0, map.fileSize - configuration.tailBytes)
        var tail = map.pieces(covering: tailStart..<map.fileSize) ?? ps.upperBound...ps.upperBound
        tail = max(tail.lowerBound, tail.upperBound - cap)...tail.upperBound
        // The index at the end is read right after the header, but below the
        // window, which the player needs first; the head below the readers'
        // own bands, since a reader elsewhere (a resumed position) waits now.
        for p in tail { pinned[p] = Self.tailPriority }
        for p in head { pinned[p] = Self.laterPriority }
        return replan(have: have)
    }

    public mutating func setBitrate(bytesPerSecond: Int, have: (Int) -> Bool) -> [Action] {
        bitrate = max(1, bytesPerSecond)
        return replan(have: have)
    }

    /// The player was measured reading at this rate (nil: not known now).
    public mutating func setMeasuredRate(_ rate: Int?, have: (Int) -> Bool) -> [Action] {
        let before = windowPieces
        measuredRate = rate.map { max(1, $0) }
        return windowPieces == before ? [] : replan(have: have)
    }

    /// Start-up is over: from now on pieces behind the first reader may be
    /// held, and only readers that start somewhere new get deadlines. The
    /// readers open now keep theirs on what is left of their first `seekBytes`.
    public mutating func startPlaying(have: (Int) -> Bool) -> [Action] {
        playing = true
        for (id, offset) in readers { urgentThrough[id] = seekEnd(offset) }
        return replan(have: have)
    }

    /// Pieces a seek to `offset` gets deadlines on, within the piece bounds: the last one.
    private func seekEnd(_ offset: Int64) -> Int {
        let first = map.piece(at: offset)
        let covering = map.pieces(covering: offset..<min(map.fileSize, offset + configuration.seekBytes))?.count ?? 1
        return first + min(configuration.maxPieces, max(configuration.minPieces, covering)) - 1
    }

    /// A reader is at `offset` (new, or moved by reading or seeking).
    public mutating func moveReader(_ id: Int, to offset: Int64, have: (Int) -> Bool) -> [Action] {
        let old = readers[id]
        readers[id] = offset
        if playing {
            // Reading on: a reader moving forward (an HTTP reader only moves
            // by reading), or opening where a reader is or just was.
            // Anything else is a seek.
            let piece = map.pieceLength
            let near = { (x: Int64) in offset >= x - piece && offset <= x + piece }
            let readsOn =
                if let old { offset >= old } else {
                    recentEnds.contains(where: near) || readers.contains { $0.key != id && near($0.value) }
                }
            if !readsOn { urgentThrough[id] = seekEnd(offset) }
        }
        if let old, map.piece(at: old) == map.piece(at: offset) { return [] }
        return replan(have: have)
    }

    public mutating func removeReader(_ id: Int, have: (Int) -> Bool) -> [Action] {
        guard let offset = readers.removeValue(forKey: id) else { return [] }
        urgentThrough[id] = nil
        recentEnds.append(offset)
        if recentEnds.count > 8 { recentEnds.removeFirst() }
        return replan(have: have)
    }

    /// What the deadlines and priorities should be now, as changes to the current ones.
    public mutating func replan(have: (Int) -> Bool) -> [Action] {
        var wanted: [Int: Int] = [:]
        var soonNow: [Int: Int] = [:]
        for (p, prio) in pinned {
            if have(p) { pinned[p] = nil } else { soonNow[p] = prio }
        }
        let step = millisecondsPerPiece
        let n = windowPieces
        let urgent = urgentPieces
        if let last = map.pieces?.upperBound {
            for (id, offset) in readers {
                let first = map.piece(at: offset)
                let through = playing ? min(urgentThrough[id] ?? first - 1, first + configuration.maxPieces - 1) : first + n - 1
                let soonEnd = map.piece(at: min(map.fileSize - 1, offset + configuration.soonBytes - 1))
                for k in 0..<max(0, through - first + 1) {
                    let p = first + k
                    if p > last { break }
                    if have(p) { continue }
                    if playing || k < urgent {
                        wanted[p] = min(wanted[p] ?? Int.max, k * step)
                    } else {
                        soonNow[p] = max(soonNow[p] ?? 0, p <= soonEnd ? Self.soonPriority : Self.laterPriority)
                    }
                }
            }
        }
        for p in wanted.keys { soonNow[p] = nil }
        let hold = holdBack(have: have, wanted: wanted)
        for p in hold { soonNow[p] = nil }
        // Without a deadline or a reason to want it soon: not wanted during
        // start-up (only what the readers need is), normal once playing.
        let rest = playing ? Self.normalPriority : 0
        func priority(_ p: Int, held: Set<Int>, soon: [Int: Int]) -> Int { held.contains(p) ? 0 : soon[p] ?? rest }
        var actions = [Action]()
        var cleared = Set<Int>()
        for p in deadlines.sorted() where wanted[p] == nil {
            deadlines.remove(p)
            // A verified piece needs nothing; an abandoned one goes to what it is now.
            if !have(p) {
                cleared.insert(p)
                actions.append(.clearDeadline(piece: p, priority: priority(p, held: hold, soon: soonNow)))
            }
        }
        for (p, ms) in wanted.sorted(by: { $0.value == $1.value ? $0.key < $1.key : $0.value < $1.value })
        where !deadlines.contains(p) {
            deadlines.insert(p)
            actions.append(.setDeadline(piece: p, milliseconds: ms))
        }
        // The pieces with no deadline whose priority changed: held, let go,
        // wanted soon, or no longer.
        let touched = held.union(hold).union(soon.keys).union(soonNow.keys)
        for p in touched.sorted() where !have(p) && wanted[p] == nil && !cleared.contains(p) {
            let now = priority(p, held: hold, soon: soonNow)
            if now != priority(p, held: held, soon: soon) { actions.append(.setPriority(piece: p, priority: now)) }
        }
        held = hold
        soon = soonNow
        return actions
    }

    /// The pieces to hold at 0 now: while playing, the missing pieces before
    /// the first reader, as long as less than `bufferSeconds` is in ahead of
    /// it (with hysteresis: held again below that, wanted at twice that).
    private mutating func holdBack(have: (Int) -> Bool, wanted: [Int: Int]) -> Set<Int> {
        guard playing, let first = readers.values.min(), let ps = map.pieces else {
            holding = false
            return []
        }
        let reader = map.piece(at: first)
        var ahead = 0
        var p = reader
        let enough = 2 * bufferPieces
        while p <= ps.upperBound, have(p), ahead < enough {
            ahead += 1
            p += 1
        }
        if p > ps.upperBound || ahead >= enough {
            holding = false
        } else if ahead < bufferPieces {
            holding = true
        }
        guard holding else { return [] }
        var hold = Set<Int>()
        for q in ps.lowerBound..<reader where !have(q) && wanted[q] == nil { hold.insert(q) }
        return hold
    }
}

/// The rate a player reads a file at, from where its readers are over time:
/// the bytes it moved forward over the last `span` of reading, once at least
/// `minimumSpan` of it was seen. A step back or a jump far ahead is a seek,
/// which starts the measurement again. Pure: times come from the caller.
public struct PlaybackRate: Sendable {
    public var span: Duration = .seconds(15)
    public var minimumSpan: Duration = .seconds(4)
    /// A forward move larger than this is a seek, not reading.
    public var seekBytes: Int64 = 64 << 20
    private var samples: [(t: Duration, offset: Int64)] = []

    public init() {}

    /// Bytes per second over the samples kept, or nil when too few.
    public var bytesPerSecond: Int? {
        guard let first = samples.first, let last = samples.last, last.t - first.t >= minimumSpan else { return nil }
        let seconds = Double((last.t - first.t).components.seconds) + Double((last.t - first.t).components.attoseconds) / 1e18
        return Int(Double(last.offset - first.offset) / seconds)
    }

    /// A reader is at `offset` at time `t` (since any fixed origin).
    public mutating func observe(offset: Int64, at t: Duration) {
        if let last = samples.last {
            if offset < last.offset || offset - last.offset > seekBytes {
                samples = [(t, offset)]
                return
            }
            if offset == last.offset { return }
        }
        samples.append((t, offset))
        while let first = samples.first, samples.count > 2, t - first.t > span { samples.removeFirst() }
    }
}
