import NIOPosix
import Synchronization
import TorrentKit

/// One torrent being streamed: its open file streams, the files wanted
/// whole, and the two watchers that apply the policies (`StartupPhase` for
/// each new stream, `StallWatch` for the torrent). Owned by `StreamHub`.
final class StreamedTorrent: Sendable {
    let torrent: Torrent
    let savePath: String
    private let state = Mutex<(streams: [Int: FileStream], wanted: Set<Int>, watched: Bool, gone: Bool)>(([:], [], false, false))
    private let onStall: @Sendable () -> Void

    init(torrent: Torrent, savePath: String, onStall: @escaping @Sendable () -> Void) {
        self.torrent = torrent
        self.savePath = savePath
        self.onStall = onStall
    }

    var streams: [FileStream] { state.withLock { Array($0.streams.values) } }

    /// Stops the watchers (the torrent left the hub).
    func close() { state.withLock { $0.gone = true } }

    /// The stream of one file, selecting the file for download on first use.
    func stream(fileIndex: Int, configuration: StreamWindowPlanner.Configuration, threadPool: NIOThreadPool) async throws -> FileStream {
        if let s = state.withLock({ $0.streams[fileIndex] }) { return s }
        let meta = try await torrent.metadata()
        guard fileIndex >= 0, fileIndex < meta.files.count, !meta.files[fileIndex].isPadding else {
            throw EngineError(.notFound, "no file \(fileIndex) in torrent \(torrent.id.hex) (it has \(meta.visibleFiles.count))")
        }
        let candidate = FileStream(
            torrent: torrent, metadata: meta, file: meta.files[fileIndex], savePath: savePath,
            configuration: configuration, threadPool: threadPool)
        let (stream, isNew, watch): (FileStream, Bool, Bool) = state.withLock { s in
            if let existing = s.streams[fileIndex] { return (existing, false, false) }
            s.streams[fileIndex] = candidate
            defer { s.watched = true }
            return (candidate, true, !s.watched)
        }
        guard isNew else { return stream }
        // The file is wanted (so its data goes to the file itself, not to
        // libtorrent's part file), but during start-up only the pieces the
        // planner wants are: see FileStream.finishStartupIfReady.
        setFilePriorities(including: fileIndex, files: meta.files.count)
        stream.start()
        await torrent.wake(freshHandshakes: true)
        applyPiecePriorities()
        Task { [weak self] in await self?.watchStartup(stream, clock: ContinuousClock()) }
        if watch { Task { [weak self] in await self?.watchStalls(clock: ContinuousClock()) } }
        return stream
    }

    /// Applies `StartupPhase`: wants the whole file once its first bytes are
    /// in, or once the phase has lasted too long.
    private func watchStartup<C: Clock>(_ stream: FileStream, clock: C) async where C.Duration == Duration {
        var phase = StartupPhase<C>(now: clock.now)
        while !state.withLock({ $0.gone }) {
            switch phase.check(ready: stream.finishStartupIfReady(), now: clock.now) {
            case .wantWholeFile(let forced)?:
                if !forced || stream.forceStartupDone() { want(stream) }
                return
            case nil:
                try? await clock.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Applies `StallWatch` once a second while the torrent is streamed.
    private func watchStalls<C: Clock>(clock: C) async where C.Duration == Duration {
        var watch = StallWatch<C>(verifiedPieces: torrent.pieces.count, now: clock.now)
        while !state.withLock({ $0.gone }) {
            try? await clock.sleep(for: .seconds(1))
            let streams = self.streams
            for s in streams { s.refresh() }
            let waiting = streams.contains { s in
                s.readerOffsets.contains { offset in offset < s.size && !torrent.pieces.contains(s.map.piece(at: offset)) }
            }
            let st = torrent.latestStatus
            let seen = StallWatch<C>.Observation(
                verifiedPieces: torrent.pieces.count, downloadRate: st.downloadRate, readerWaiting: waiting, peers: st.peers)
            if watch.observe(seen, now: clock.now) == .reconnect {
                onStall()
                await torrent.reconnect()
            }
        }
    }

    private func want(_ stream: FileStream) {
        let known = state.withLock { s -> Bool in
            guard !s.gone else { return false }
            s.wanted.insert(stream.file.index)
            return true
        }
        guard known else { return }
        setFilePriorities(including: nil, files: stream.metadata.files.count)
        // The planner first, so the priorities set next are its playing ones.
        stream.startPlaying()
        applyPiecePriorities()
        // Past start-up: the deadlines first, then the file in index order
        // (what lies behind the first reader held while its buffer is short).
        torrent.setSequential(true)
    }

    /// Wants one file whole with no stream open (kept for offline), or no
    /// longer (`on` false: a stream of it still wants it while it plays).
    func keepWhole(fileIndex: Int, _ on: Bool) async throws {
        let meta = try await torrent.metadata()
        guard fileIndex >= 0, fileIndex < meta.files.count, !meta.files[fileIndex].isPadding else {
            throw EngineError(.notFound, "no file \(fileIndex) in torrent \(torrent.id.hex) (it has \(meta.visibleFiles.count))")
        }
        let changed = state.withLock { s -> Bool in
            guard !s.gone else { return false }
            if on { return s.wanted.insert(fileIndex).inserted }
            guard s.streams[fileIndex] == nil else { return false }
            return s.wanted.remove(fileIndex) != nil
        }
        guard changed else { return }
        setFilePriorities(including: nil, files: meta.files.count)
        applyPiecePriorities(meta)
        if on { await torrent.wake() }
    }

    /// The files wanted whole.
    var wantedFiles: Set<Int> { state.withLock { $0.wanted } }

    private func setFilePriorities(including extra: Int?, files: Int) {
        var wanted = state.withLock { $0.wanted }
        if let extra { wanted.insert(extra) }
        var priorities = Array(repeating: 0, count: files)
        for f in wanted { priorities[f] = StreamWindowPlanner.normalPriority }
        torrent.setFilePriorities(priorities)
    }

    /// Set piece by piece (`PiecePriorities`), because libtorrent ignores a
    /// file priority that did not change, leaving the zeroed pieces of a
    /// start-up phase at zero.
    private func applyPiecePriorities(_ known: TorrentMetadata? = nil) {
        let (streams, wanted) = state.withLock { (Array($0.streams.values), $0.wanted) }
        guard let meta = known ?? streams.first?.metadata ?? torrent.knownMetadata else { return }
        let files = wanted.map { f in
            PieceMap(
                pieceLength: meta.pieceLength, pieceCount: meta.pieceCount, fileOffset: meta.files[f].offset, fileSize: meta.files[f].size)
        }
        torrent.setPiecePriorities(
            PiecePriorities.plan(
                pieceCount: meta.pieceCount, wholeFiles: files, deadlines: streams.flatMap(\.deadlinePieces),
                held: streams.flatMap(\.heldPieces),
                soon: streams.reduce(into: [:]) { all, s in all.merge(s.soonPieces, uniquingKeysWith: max) }))
    }
}
