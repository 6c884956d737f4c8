import Foundation
import NIOCore
import NIOPosix
import Synchronization
public import TorrentKit

/// One file of one torrent being streamed: the readers open on it, the
/// deadline window they imply, and reads from disk of verified pieces only.
public final class FileStream: Sendable {
    public let torrent: Torrent
    public let metadata: TorrentMetadata
    public let file: TorrentMetadata.File
    public let map: PieceMap
    /// Where libtorrent stores the torrent's files.
    public let savePath: String

    private struct State {
        var planner: StreamWindowPlanner
        var nextReader = 0
        var startupDone = false
        var rate = PlaybackRate()
    }

    /// Times for `PlaybackRate` are measured from here.
    private let origin = ContinuousClock.now

    /// Bytes each reader must have buffered before the start-up phase ends.
    static let startupBytes: Int64 = 4 << 20

    private let state: Mutex<State>
    private let threadPool: NIOThreadPool

    init(
        torrent: Torrent, metadata: TorrentMetadata, file: TorrentMetadata.File, savePath: String,
        configuration: StreamWindowPlanner.Configuration, threadPool: NIOThreadPool
    ) {
        self.torrent = torrent
        self.metadata = metadata
        self.file = file
        self.savePath = savePath
        self.threadPool = threadPool
        self.map = PieceMap(
            pieceLength: metadata.pieceLength, pieceCount: metadata.pieceCount, fileOffset: file.offset,
            fileSize: file.size)
        self.state = Mutex(State(planner: StreamWindowPlanner(map: map, configuration: configuration)))
    }

    public var size: Int64 { file.size }

    /// Wants the head and tail of the file soon (called once, when selected).
    func start() {
        let pieces = torrent.pieces
        apply(state.withLock { $0.planner.start(have: pieces.contains) })
    }

    /// The start-up phase: until the head and tail and each reader's first
    /// 4 MiB are verified, only those pieces are wanted, so they get all the
    /// bandwidth (with the whole file wanted, libtorrent's normal picking took
    /// most of it and the first 4 MiB arrived last of 55 pieces; see
    /// docs/benchmarks.md). Returns true once, when the phase ends.
    func finishStartupIfReady() -> Bool {
        let have = torrent.pieces.snapshot
        func has(_ p: Int) -> Bool { p < have.count && have[p] }
        return state.withLock { s in
            guard !s.startupDone, s.planner.pinsVerified(have: has) else { return false }
            for offset in s.planner.readers.values {
                let want = min(Self.startupBytes, file.size - offset)
                guard let ps = map.pieces(covering: offset..<offset + want), ps.allSatisfy(has) else { return false }
            }
            s.startupDone = true
            return true
        }
    }

    /// Ends the start-up phase regardless (it is taking too long).
    func forceStartupDone() -> Bool {
        state.withLock { s in
            defer { s.startupDone = true }
            return !s.startupDone
        }
    }

    public var isStartingUp: Bool { state.withLock { !$0.startupDone } }

    /// Sizes the window once the bitrate is known (bytes per second of playback).
    public func setBitrate(bytesPerSecond: Int) {
        let pieces = torrent.pieces
        apply(state.withLock { $0.planner.setBitrate(bytesPerSecond: bytesPerSecond, have: pieces.contains) })
    }

    public var bytesPerSecond: Int { state.withLock { $0.planner.bytesPerSecond } }

    /// Start-up is over and the file downloads in sequential mode: the
    /// planner may now hold back what lies behind the first reader.
    func startPlaying() {
        let pieces = torrent.pieces
        apply(state.withLock { $0.planner.startPlaying(have: pieces.contains) })
    }

    /// Re-plans with the pieces verified since (called once a second): the
    /// buffer ahead of a reader grows without the reader moving.
    func refresh() {
        let pieces = torrent.pieces
        let rate = torrent.latestStatus.downloadRate
        apply(
            state.withLock {
                $0.planner.setDownloadRate(rate)
                return $0.planner.replan(have: pieces.contains)
            })
    }

    /// Pieces that carry a deadline now (for status and tests).
    public var deadlinePieces: Set<Int> { state.withLock { $0.planner.deadlines } }
    /// Pieces behind the first reader held at priority 0.
    public var heldPieces: Set<Int> { state.withLock { $0.planner.held } }
    /// Pieces wanted soon without a deadline, with their priority.
    public var soonPieces: [Int: Int] { state.withLock { $0.planner.soon } }
    public var readerOffsets: [Int64] { state.withLock { Array($0.planner.readers.values) } }

    /// Carries out the planner's decisions (it knows the phase: during
    /// start-up a piece that leaves every window goes to 0, not to normal).
    private func apply(_ actions: [StreamWindowPlanner.Action]) {
        for a in actions {
            switch a {
            case let .setDeadline(p, ms): torrent.setDeadline(piece: p, milliseconds: ms)
            case let .clearDeadline(p, prio): torrent.clearDeadline(piece: p, priority: prio)
            case let .setPriority(p, prio): torrent.setPiecePriority(p, prio)
            }
        }
    }

    func openReader(at offset: Int64) -> Int {
        let pieces = torrent.pieces
        let (id, actions) = state.withLock { s -> (Int, [StreamWindowPlanner.Action]) in
            s.nextReader += 1
            var actions = s.planner.moveReader(s.nextReader, to: offset, have: pieces.contains)
            actions += observe(offset, &s, have: pieces.contains)
            return (s.nextReader, actions)
        }
        apply(actions)
        return id
    }

    func moveReader(_ id: Int, to offset: Int64) {
        let pieces = torrent.pieces
        apply(
            state.withLock { s in
                s.planner.moveReader(id, to: offset, have: pieces.contains) + observe(offset, &s, have: pieces.contains)
            })
    }

    /// Feeds a reader's position to the rate measurement, and a changed rate to the planner.
    private func observe(_ offset: Int64, _ s: inout State, have: (Int) -> Bool) -> [StreamWindowPlanner.Action] {
        s.rate.observe(offset: offset, at: ContinuousClock.now - origin)
        let measured = s.rate.bytesPerSecond
        guard measured != s.planner.measuredRate else { return [] }
        return s.planner.setMeasuredRate(measured, have: have)
    }

    func closeReader(_ id: Int) {
        let pieces = torrent.pieces
        apply(state.withLock { $0.planner.removeReader(id, have: pieces.contains) })
    }

    /// The bytes [range) of the file, produced as their pieces pass the hash
    /// check. Pull-based: nothing is read ahead of the consumer. The reader
    /// ends when `hangup` fires, even while it waits for a piece.
    public func bytes(_ range: Range<Int64>, chunkSize: Int = 256 << 10, hangup: Hangup? = nil) -> FileByteSequence {
        FileByteSequence(stream: self, range: range.clamped(to: 0..<file.size), chunkSize: chunkSize, hangup: hangup)
    }

    /// Verified bytes from `offset` on, without a gap: what a player at
    /// `offset` can read without waiting.
    public func bufferedAhead(of offset: Int64) -> Int64 {
        let have = torrent.pieces.snapshot
        var p = map.piece(at: offset)
        guard offset < file.size, p < have.count, have[p] else { return 0 }
        let last = map.pieces?.upperBound ?? p
        while p + 1 <= last, p + 1 < have.count, have[p + 1] { p += 1 }
        return map.fileRange(of: p).upperBound - offset
    }

    /// A status report for the UI and tests.
    public func status() -> StreamStatus {
        let st = torrent.latestStatus
        let ranges = map.verifiedRanges(have: torrent.pieces.snapshot)
        return StreamStatus(
            infoHash: torrent.id.hex, fileIndex: file.index, path: file.path, size: file.size,
            buffered: ranges.map { [$0.lowerBound, $0.upperBound] },
            bufferedBytes: ranges.reduce(0) { $0 + ($1.upperBound - $1.lowerBound) },
            readers: readerOffsets.sorted(), downloadRate: st.downloadRate, uploadRate: st.uploadRate,
            peers: st.peers, seeds: st.seeds, state: st.state.rawValue, bitrate: bytesPerSecond,
            downloaded: st.sessionDownload, uploaded: st.sessionUpload, paused: st.isPaused,
            problem: torrent.trouble)
    }

    // MARK: Disk

    /// The file's path on disk, refused if it resolves outside the download
    /// folder (a symlink planted in the way, say).
    func resolvedPath() throws -> String {
        guard let full = ContainedPath.resolve(savePath + "/" + file.path, under: savePath) else {
            throw EngineError(.unsafePath, "refusing to read \(file.path): it resolves outside the download folder")
        }
        return full
    }

    func read(fd: FileDescriptorBox, at offset: Int64, count: Int) async throws -> ByteBuffer {
        try await threadPool.runIfActive {
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            let n = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { ptr -> Int in
                var done = 0
                while done < count {
                    let r = pread(fd.fd, ptr.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                    if r < 0 {
                        if errno == EINTR { continue }
                        throw EngineError(.io, "cannot read \(self.file.path): \(String(cString: strerror(errno)))")
                    }
                    if r == 0 { break }
                    done += r
                }
                return done
            }
            guard n == count else {
                throw EngineError(.io, "\(self.file.path) is shorter on disk than the torrent says")
            }
            return buffer
        }
    }

    func openFile() async throws -> FileDescriptorBox {
        try await threadPool.runIfActive {
            let path = try self.resolvedPath()
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                throw EngineError(.io, "cannot open \(self.file.path): \(String(cString: strerror(errno)))")
            }
            return FileDescriptorBox(fd: fd)
        }
    }
}

/// An open file descriptor, closed when the last reader lets go of it.
final class FileDescriptorBox: Sendable {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}

/// What `/api/streams/...` reports about one stream.
public struct StreamStatus: Codable, Sendable, Equatable {
    public var infoHash: String
    public var fileIndex: Int
    public var path: String
    public var size: Int64
    /// Verified byte ranges of the file, [start, end) pairs.
    public var buffered: [[Int64]]
    public var bufferedBytes: Int64
    /// Offsets of the open readers (the playheads).
    public var readers: [Int64]
    public var downloadRate: Int
    public var uploadRate: Int
    public var peers: Int
    public var seeds: Int
    public var state: String
    /// Bytes per second of playback the window is sized for.
    public var bitrate: Int
    /// Payload bytes downloaded and uploaded by this run.
    public var downloaded: Int64
    public var uploaded: Int64
    /// True once sharing stopped (seeding limits reached, or --no-seed).
    public var paused: Bool
    /// Why nothing downloads, for people ("the disk holding … is full: …"); nil when all is well.
    public var problem: String?
}
