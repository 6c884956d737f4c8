public import Foundation
public import TorrentKit

/// The cache limit as a pure decision: which finished downloads go, least
/// recently played first, until what is stored fits; never one being played,
/// still downloading, or kept for offline. `Library.upkeep` acts on it.
public enum CacheTrim {
    public struct Entry: Sendable, Equatable {
        public var id: TorrentID
        /// Bytes of it on disk.
        public var size: Int64
        public var finished: Bool
        public var playing: Bool
        public var lastPlayed: Date
        /// The user downloaded it for offline: only they remove it.
        public var kept: Bool

        public init(id: TorrentID, size: Int64, finished: Bool, playing: Bool, lastPlayed: Date, kept: Bool = false) {
            self.id = id
            self.size = size
            self.finished = finished
            self.playing = playing
            self.lastPlayed = lastPlayed
            self.kept = kept
        }
    }

    public enum Action: Sendable, Equatable {
        /// Remove the download and its files.
        case evict(TorrentID)
    }

    public static func plan(_ entries: [Entry], limit: Int64) -> [Action] {
        var total = entries.reduce(Int64(0)) { $0 + $1.size }
        var out: [Action] = []
        for e in entries.sorted(by: { $0.lastPlayed < $1.lastPlayed }) where total > limit {
            guard e.finished, !e.playing, !e.kept else { continue }
            out.append(.evict(e.id))
            total -= e.size
        }
        return out
    }
}
