import NIOPosix
import Synchronization
import TorrentKit

/// The torrents that can be streamed, and their open file streams. The HTTP
/// server and the CLI share one hub, so every reader of a file shares one
/// deadline window and one selection of files.
public final class StreamHub: Sendable {
    private struct Entry {
        let torrent: Torrent
        let savePath: String
        var streams: [Int: FileStream] = [:]
    }

    private let entries = Mutex<[TorrentID: Entry]>([:])
    private let configuration: StreamWindowPlanner.Configuration
    private let threadPool: NIOThreadPool

    public init(configuration: StreamWindowPlanner.Configuration = .init(), threadPool: NIOThreadPool = .singleton) {
        self.configuration = configuration
        self.threadPool = threadPool
    }

    public func register(_ torrent: Torrent, savePath: String) {
        entries.withLock { e in
            if e[torrent.id] == nil { e[torrent.id] = Entry(torrent: torrent, savePath: savePath) }
        }
    }

    public func unregister(_ id: TorrentID) {
        _ = entries.withLock { $0.removeValue(forKey: id) }
    }

    public func torrent(_ id: TorrentID) -> Torrent? { entries.withLock { $0[id]?.torrent } }
    public var torrents: [Torrent] { entries.withLock { $0.values.map(\.torrent) } }

    /// The stream of one file, selecting the file for download on first use.
    /// Throws `.notFound` for an unknown torrent or file index.
    public func stream(_ id: TorrentID, fileIndex: Int) async throws -> FileStream {
        guard let (torrent, savePath) = entries.withLock({ e in e[id].map { ($0.torrent, $0.savePath) } }) else {
            throw EngineError(.notFound, "no such torrent: \(id.hex)")
        }
        if let s = entries.withLock({ $0[id]?.streams[fileIndex] }) { return s }
        let meta = try await torrent.metadata()
        guard fileIndex >= 0, fileIndex < meta.files.count, !meta.files[fileIndex].isPadding else {
            throw EngineError(.notFound, "no file \(fileIndex) in torrent \(id.hex) (it has \(meta.visibleFiles.count))")
        }
        let candidate = FileStream(
            torrent: torrent, metadata: meta, file: meta.files[fileIndex], savePath: savePath,
            configuration: configuration, threadPool: threadPool)
        let (stream, isNew, selected): (FileStream, Bool, [Int]) = entries.withLock { e in
            if let s = e[id]?.streams[fileIndex] { return (s, false, []) }
            e[id]?.streams[fileIndex] = candidate
            return (candidate, true, Array(e[id]?.streams.keys ?? [:].keys))
        }
        if isNew {
            // Selected files at normal priority, the others not downloaded.
            var priorities = Array(repeating: 0, count: meta.files.count)
            for f in selected { priorities[f] = StreamWindowPlanner.normalPriority }
            torrent.setFilePriorities(priorities)
            stream.start()
            await torrent.wake()
        }
        return stream
    }

    /// Open streams, for status listings.
    public var streams: [FileStream] { entries.withLock { $0.values.flatMap { $0.streams.values } } }
}
