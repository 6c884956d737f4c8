public import NIOPosix
import Synchronization
public import TorrentKit

/// The torrents that can be streamed, and their open file streams: a
/// registry. The HTTP server and `play` share one hub, so every reader of a
/// file shares one deadline window and one selection of files; what each
/// torrent does is `StreamedTorrent`'s.
public final class StreamHub: Sendable {
    private let entries = Mutex<[TorrentID: StreamedTorrent]>([:])
    private let stalls = Mutex(0)
    private let configuration: StreamWindowPlanner.Configuration
    private let threadPool: NIOThreadPool

    public init(configuration: StreamWindowPlanner.Configuration = .init(), threadPool: NIOThreadPool = .singleton) {
        self.configuration = configuration
        self.threadPool = threadPool
    }

    public func register(_ torrent: Torrent, savePath: String) {
        entries.withLock { e in
            if e[torrent.id] == nil {
                e[torrent.id] = StreamedTorrent(torrent: torrent, savePath: savePath) { [weak self] in self?.stalls.withLock { $0 += 1 } }
            }
        }
    }

    public func unregister(_ id: TorrentID) {
        entries.withLock { $0.removeValue(forKey: id) }?.close()
    }

    public func torrent(_ id: TorrentID) -> Torrent? { entries.withLock { $0[id]?.torrent } }
    public var torrents: [Torrent] { entries.withLock { $0.values.map(\.torrent) } }

    /// The stream of one file, selecting the file for download on first use.
    /// Throws `.notFound` for an unknown torrent or file index.
    public func stream(_ id: TorrentID, fileIndex: Int) async throws -> FileStream {
        guard let entry = entries.withLock({ $0[id] }) else { throw EngineError(.notFound, "no such torrent: \(id.hex)") }
        return try await entry.stream(fileIndex: fileIndex, configuration: configuration, threadPool: threadPool)
    }

    /// Wants one file of a registered torrent whole with no stream open (a
    /// film kept for offline), or no longer. Throws `.notFound` for an
    /// unknown torrent or file index.
    public func keepWhole(_ id: TorrentID, fileIndex: Int, _ on: Bool = true) async throws {
        guard let entry = entries.withLock({ $0[id] }) else { throw EngineError(.notFound, "no such torrent: \(id.hex)") }
        try await entry.keepWhole(fileIndex: fileIndex, on)
    }

    /// How many times a stalled stream's connections were made again.
    public var stallRecoveries: Int { stalls.withLock { $0 } }

    /// Open streams, for status listings.
    public var streams: [FileStream] { entries.withLock { $0.values.flatMap(\.streams) } }
}
