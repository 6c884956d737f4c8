/// Decides which pieces of one file get deadlines. A pure state machine: it
/// is told about readers and verified pieces and returns what to tell the
/// engine; `FileStream` carries the actions out.
///
/// - At the start, the file's first and last pieces are urgent: containers
///   keep their headers and indexes there.
/// - Ahead of every reader lies a window, sized in seconds of playback
///   (`windowSeconds` x the bitrate) and clamped to a piece count, whose
///   missing pieces get deadlines that grow with their distance from the reader.
/// - Past the window lies the zone: `zoneSeconds` of playback more, at the
///   top priority without deadlines. After start-up the torrent downloads in
///   sequential mode, where libtorrent takes top-priority pieces first and
///   then the rest in index order, so what the player needs next is in
///   before anything behind it (docs/streaming.md).
/// - A piece that leaves every window and zone goes back to normal priority;
///   the rest of the file downloads at normal priority anyway.
public struct StreamWindowPlanner: Sendable {
    public struct Configuration: Sendable {
        public var windowSeconds: Double = 20
        public var minPieces = 4
        public var maxPieces = 16
        /// Seconds of playback past the window kept at the top priority.
        public var zoneSeconds: Double = 20
        public var maxZonePieces = 256
        /// Bytes at each end of the file that are urgent at the start, and at
        /// most this many pieces each (deadlines scale poorly with many pieces).
        public var headBytes: Int64 = 1 << 20
        public var tailBytes: Int64 = 1 << 20
        public var maxEndPieces = 8
        /// The bitrate assumed until one is known: 8 Mbit/s, a typical HD film.
        public var defaultBytesPerSecond = 1_000_000
        public init() {}
    }

    public enum Action: Sendable, Equatable {
        case setDeadline(piece: Int, milliseconds: Int)
        case clearDeadline(piece: Int, priority: Int)
        /// A piece without a deadline entering (7) or leaving (normal) the zone.
        case setPriority(piece: Int, priority: Int)
    }

    /// The priority of the zone's pieces.
    public static let zonePriority = 7

    /// The priority libtorrent gives a wanted piece with no deadline.
    public static let normalPriority = 4

    public let map: PieceMap
    public let configuration: Configuration
    public private(set) var bytesPerSecond: Int
    public private(set) var readers: [Int: Int64] = [:]
    /// Pieces that currently carry a deadline we set.
    public private(set) var deadlines: Set<Int> = []
    /// Pieces in some reader's zone (top priority, no deadline).
    public private(set) var zone: Set<Int> = []
    private var pinned: [Int: Int] = [:]  // head/tail piece -> deadline ms, until verified

    public init(map: PieceMap, configuration: Configuration = Configuration(), bytesPerSecond: Int? = nil) {
        self.map = map
        self.configuration = configuration
        self.bytesPerSecond = max(1, bytesPerSecond ?? configuration.defaultBytesPerSecond)
    }

    /// True once the head and tail pins are verified.
    public func pinsVerified(have: (Int) -> Bool) -> Bool { pinned.keys.allSatisfy(have) }

    /// Milliseconds of playback one piece holds at the current bitrate.
    public var millisecondsPerPiece: Int { Int(map.pieceLength * 1000 / Int64(bytesPerSecond)) }

    /// Pieces in a reader's window.
    public var windowPieces: Int {
        let n = Int(configuration.windowSeconds * Double(bytesPerSecond) / Double(map.pieceLength))
        return min(configuration.maxPieces, max(configuration.minPieces, n))
    }

    /// Pieces in a reader's zone, past its window.
    public var zonePieces: Int {
        let n = Int(configuration.zoneSeconds * Double(bytesPerSecond) / Double(map.pieceLength))
        return min(configuration.maxZonePieces, max(0, n))
    }

    /// Makes the head and tail of the file urgent.
    public mutating func start(have: (Int) -> Bool) -> [Action] {
        guard let ps = map.pieces else { return [] }
        let cap = max(1, configuration.maxEndPieces) - 1
        var head = map.pieces(covering: 0..<min(map.fileSize, configuration.headBytes)) ?? ps.lowerBound...ps.lowerBound
        head = head.lowerBound...min(head.upperBound, head.lowerBound + cap)
        let tailStart = max(0, map.fileSize - configuration.tailBytes)
        var tail = map.pieces(covering: tailStart..<map.fileSize) ?? ps.upperBound...ps.upperBound
        tail = max(tail.lowerBound, tail.upperBound - cap)...tail.upperBound
        let step = millisecondsPerPiece
        for (k, p) in head.enumerated() { pinned[p] = k * step }
        // The index at the end is read right after the header, but after the
        // first window's worth of pieces from the start, which the player
        // needs first.
        for (k, p) in tail.enumerated() where pinned[p] == nil { pinned[p] = (max(head.count, windowPieces) + k) * step }
        return replan(have: have)
    }

    public mutating func setBitrate(bytesPerSecond: Int, have: (Int) -> Bool) -> [Action] {
        self.bytesPerSecond = max(1, bytesPerSecond)
        return replan(have: have)
    }

    /// A reader is at `offset` (new, or moved by reading or seeking).
    public mutating func moveReader(_ id: Int, to offset: Int64, have: (Int) -> Bool) -> [Action] {
        let old = readers[id]
        readers[id] = offset
        if let old, map.piece(at: old) == map.piece(at: offset) { return [] }
        return replan(have: have)
    }

    public mutating func removeReader(_ id: Int, have: (Int) -> Bool) -> [Action] {
        guard readers.removeValue(forKey: id) != nil else { return [] }
        return replan(have: have)
    }

    /// What the deadlines should be now, as changes to the current ones.
    public mutating func replan(have: (Int) -> Bool) -> [Action] {
        var wanted: [Int: Int] = [:]
        for (p, ms) in pinned {
            if have(p) { pinned[p] = nil } else { wanted[p] = ms }
        }
        let step = millisecondsPerPiece
        let n = windowPieces
        if let last = map.pieces?.upperBound {
            for offset in readers.values {
                let first = map.piece(at: offset)
                for k in 0..<n {
                    let p = first + k
                    if p > last { break }
                    if have(p) { continue }
                    let ms = k * step
                    wanted[p] = min(wanted[p] ?? Int.max, ms)
                }
            }
        }
        var inZone = Set<Int>()
        if let last = map.pieces?.upperBound, zonePieces > 0 {
            for offset in readers.values {
                let first = map.piece(at: offset) + n
                guard first <= last else { continue }
                for p in first..<min(last + 1, first + zonePieces) where !have(p) && wanted[p] == nil { inZone.insert(p) }
            }
        }
        var actions = [Action]()
        for p in deadlines.sorted() where wanted[p] == nil {
            deadlines.remove(p)
            // A verified piece needs nothing; an abandoned one goes back to normal.
            if !have(p) { actions.append(.clearDeadline(piece: p, priority: Self.normalPriority)) }
        }
        for (p, ms) in wanted.sorted(by: { $0.value == $1.value ? $0.key < $1.key : $0.value < $1.value })
        where !deadlines.contains(p) {
            deadlines.insert(p)
            actions.append(.setDeadline(piece: p, milliseconds: ms))
        }
        // The zone after the deadlines: a piece that became one has its
        // priority from the deadline; one that left both goes back to normal.
        for p in zone.subtracting(inZone).sorted() {
            zone.remove(p)
            if !have(p) && wanted[p] == nil { actions.append(.setPriority(piece: p, priority: Self.normalPriority)) }
        }
        for p in inZone.subtracting(zone).sorted() {
            zone.insert(p)
            actions.append(.setPriority(piece: p, priority: Self.zonePriority))
        }
        return actions
    }
}
