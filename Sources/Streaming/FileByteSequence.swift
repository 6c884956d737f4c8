public import NIOCore
import TorrentKit

/// The bytes of a range of a file, chunk by chunk, each chunk read from disk
/// only once every piece under it is verified. Iterating it registers a reader
/// (its position moves the deadline window); the reader is released when the
/// iteration ends or is abandoned, and at once when its `hangup` fires (the
/// HTTP client went away), even while it waits for a piece.
public struct FileByteSequence: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    let stream: FileStream
    let range: Range<Int64>
    let chunkSize: Int
    let hangup: Hangup?

    public func makeAsyncIterator() -> Iterator {
        Iterator(
            lease: ReaderLease(stream: stream, start: range.lowerBound, hangup: hangup), end: range.upperBound, chunkSize: chunkSize)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let lease: ReaderLease
        let end: Int64
        let chunkSize: Int

        public mutating func next() async throws -> ByteBuffer? {
            try await lease.next(end: end, chunkSize: chunkSize)
        }
    }
}

/// A reader's registration with its FileStream; its deinit is the release.
final class ReaderLease: @unchecked Sendable {
    // Touched only by the one task iterating (AsyncIteratorProtocol is not shared).
    private let stream: FileStream
    private var offset: Int64
    private var id: Int?
    private var fd: FileDescriptorBox?
    private let hangup: Hangup?

    init(stream: FileStream, start: Int64, hangup: Hangup?) {
        self.stream = stream
        self.offset = start
        self.hangup = hangup
    }

    func next(end: Int64, chunkSize: Int) async throws -> ByteBuffer? {
        guard offset < end else {
            release()
            return nil
        }
        if hangup?.hasFired == true {
            release()
            throw CancellationError()
        }
        if let id {
            stream.moveReader(id, to: offset)
        } else {
            id = stream.openReader(at: offset)
        }
        let piece = stream.map.piece(at: offset)
        do {
            let pieces = stream.torrent.pieces
            if let hangup, !pieces.contains(piece) {
                try await hangup.cancellingOnFire { try await pieces.wait(for: piece) }
            } else {
                try await pieces.wait(for: piece)
            }
        } catch {
            release()
            throw error
        }
        if fd == nil { fd = try await stream.openFile() }
        let pieceEnd = stream.map.fileRange(of: piece).upperBound
        let count = Int(min(end, pieceEnd, offset + Int64(chunkSize)) - offset)
        let buffer = try await stream.read(fd: fd!, at: offset, count: count)
        offset += Int64(count)
        return buffer
    }

    private func release() {
        if let id { stream.closeReader(id) }
        id = nil
        fd = nil
    }

    deinit { if let id { stream.closeReader(id) } }
}
