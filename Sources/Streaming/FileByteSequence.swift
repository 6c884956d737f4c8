public import NIOCore
import TorrentKit

/// The bytes of a range of a file, chunk by chunk, each chunk read from disk
/// only once every piece under it is verified. Iterating it registers a reader
/// (its position moves the deadline window); the reader is released when the
/// iteration ends or is abandoned, such as when an HTTP client disconnects.
public struct FileByteSequence: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    let stream: FileStream
    let range: Range<Int64>
    let chunkSize: Int

    public func makeAsyncIterator() -> Iterator {
        Iterator(lease: ReaderLease(stream: stream, start: range.lowerBound), end: range.upperBound, chunkSize: chunkSize)
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

    init(stream: FileStream, start: Int64) {
        self.stream = stream
        self.offset = start
    }

    func next(end: Int64, chunkSize: Int) async throws -> ByteBuffer? {
        guard offset < end else {
            release()
            return nil
        }
        if let id {
            stream.moveReader(id, to: offset)
        } else {
            id = stream.openReader(at: offset)
        }
        let piece = stream.map.piece(at: offset)
        do {
            try await stream.torrent.pieces.wait(for: piece)
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
