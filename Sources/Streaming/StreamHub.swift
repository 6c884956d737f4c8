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
        /// Files past their start-up phase: wanted whole, at normal priority.
        var wanted: Set<Int> = []
        /// A stall watcher runs for this torrent.
        var watched = false
    }

    /// How long a start-up phase may last before the whole file is wanted anyway.
    public static let startupLimit: Duration = .seconds(15)

    private let entries = Mutex<[TorrentID: Entry]>([:])
    private let stalls = Mutex(0)
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
        let (stream, isNew): (FileStream, Bool) = entries.withLock { e in
            if let s = e[id]?.streams[fileIndex] { return (s, false) }
            e[id]?.streams[fileIndex] = candidate
            return (candidate, true)
        }
        if isNew {
            // The file is wanted (so its data goes to the file itself, not to
            // libtorrent's part file), but during start-up only the pieces with
            // deadlines are: see FileStream.finishStartupIfReady.
            setFilePriorities(of: torrent, including: fileIndex, files: meta.files.count)
            stream.start()
            await torrent.wake(freshHandshakes: true)
            applyPiecePriorities(torrent)
            Task { [weak self] in await self?.watchStartup(stream) }
            if entries.withLock({ e -> Bool in
                guard e[id] != nil, !e[id]!.watched else { return false }
                e[id]!.watched = true
                return true
            }) {
                Task { [weak self] in await self?.watchStalls(torrent) }
            }
        }
        return stream
    }

    /// How long readers may wait with peers connected and no piece arriving
    /// before the connections are made again.
    public static let stallLimit: Duration = .seconds(12)

    /// Watches a torrent while it has streams: if a reader waits for a piece,
    /// peers are connected, and for `stallLimit` no piece was verified and
    /// under 1 KiB/s arrived, every connection is closed and made again. Seen on a loaded machine:
    /// Transmission took us for a seed (our handshake said "upload only"
    /// during a moment when no piece was wanted) and never unchoked us.
    private func watchStalls(_ torrent: Torrent) async {
        var lastCount = torrent.pieces.count
        var lastChange = ContinuousClock.now
        while let streams = entries.withLock({ $0[torrent.id].map { Array($0.streams.values) } }) {
            try? await Task.sleep(for: .seconds(1))
            let count = torrent.pieces.count
            // Data flowing (a big piece on a slow swarm) is not a stall.
            if count != lastCount || torrent.latestStatus.downloadRate >= 1024 {
                lastCount = count
                lastChange = .now
                continue
            }
            let waiting = streams.contains { s in
                s.readerOffsets.contains { offset in
                    offset < s.size && !torrent.pieces.contains(s.map.piece(at: offset))
                }
            }
            guard waiting else {
                lastChange = .now
                continue
            }
            if ContinuousClock.now - lastChange >= Self.stallLimit, torrent.latestStatus.peers > 0 {
                lastChange = .now
                stalls.withLock { $0 += 1 }
                await torrent.reconnect()
            }
        }
    }

    /// How many times a stalled stream's connections were made again.
    public var stallRecoveries: Int { stalls.withLock { $0 } }

    private func setFilePriorities(of torrent: Torrent, including extra: Int?, files: Int) {
        let wanted = entries.withLock { e -> Set<Int> in
            var w = e[torrent.id]?.wanted ?? []
            if let extra { w.insert(extra) }
            return w
        }
        var priorities = Array(repeating: 0, count: files)
        for f in wanted { priorities[f] = StreamWindowPlanner.normalPriority }
        torrent.setFilePriorities(priorities)
    }

    /// Piece priorities: files past start-up at normal priority, deadline
    /// pieces urgent, everything else not wanted. Set piece by piece, because
    /// libtorrent ignores a file priority that did not change, leaving the
    /// zeroed pieces of a start-up phase at zero.
    private func applyPiecePriorities(_ torrent: Torrent) {
        let (streams, wanted) = entries.withLock { e in (Array(e[torrent.id]?.streams.values ?? [:].values), e[torrent.id]?.wanted ?? []) }
        guard let meta = streams.first?.metadata else { return }
        var priorities = Array(repeating: 0, count: meta.pieceCount)
        for f in wanted {
            let m = PieceMap(pieceLength: meta.pieceLength, pieceCount: meta.pieceCount, fileOffset: meta.files[f].offset, fileSize: meta.files[f].size)
            if let ps = m.pieces { for p in ps { priorities[p] = StreamWindowPlanner.normalPriority } }
        }
        for s in streams { for p in s.deadlinePieces where p < priorities.count { priorities[p] = 7 } }
        torrent.setPiecePriorities(priorities)
    }

    /// Wants the whole file once its start-up phase is over.
    private func watchStartup(_ stream: FileStream) async {
        let deadline = ContinuousClock.now + Self.startupLimit
        while ContinuousClock.now < deadline {
            if stream.finishStartupIfReady() { return want(stream) }
            try? await Task.sleep(for: .milliseconds(100))
        }
        if stream.forceStartupDone() { want(stream) }
    }

    private func want(_ stream: FileStream) {
        let id = stream.torrent.id
        let known: Bool = entries.withLock { e in
            guard e[id] != nil else { return false }
            e[id]!.wanted.insert(stream.file.index)
            return true
        }
        guard known else { return }
        setFilePriorities(of: stream.torrent, including: nil, files: stream.metadata.files.count)
        applyPiecePriorities(stream.torrent)
    }

    /// Open streams, for status listings.
    public var streams: [FileStream] { entries.withLock { $0.values.flatMap { $0.streams.values } } }
}
