import Foundation

/// A torrent that stopped downloading because its disk is full: libtorrent
/// put it in upload mode on a failed write (it keeps what was verified and
/// keeps sharing) and, as our torrents are not auto-managed, would never
/// take it out again by itself.
public struct DiskTrouble: Sendable, Equatable {
    /// The download folder, on the disk that is full.
    public var folder: String
    /// The file whose write failed.
    public var file: String
    /// Free bytes on that disk, as last measured.
    public var freeBytes: Int64

    public init(folder: String, file: String, freeBytes: Int64) {
        self.folder = folder
        self.file = file
        self.freeBytes = freeBytes
    }

    /// One line for people: "the disk holding /media/films is full: 3 MiB free".
    public var summary: String { "the disk holding \(folder) is full: \(DiskSpace.mib(freeBytes)) free" }
}

/// When to let a torrent stopped by a full disk try writing again. Pure: the
/// caller measures the free space and the time (`DiskFullRetry.check`).
///
/// It retries once the disk has room for a few pieces (`room`), and also
/// every `optimisticInterval` whatever the measure says (a quota, or a
/// file system that reports its space loosely, may allow more than it shows).
/// A retry that fails again is a new episode: libtorrent reports it and puts
/// the torrent back in upload mode, and nothing is lost either way.
public struct DiskFullRetry<C: Clock>: Sendable where C.Duration == Duration, C.Instant: Sendable {
    /// Free bytes enough to start writing again.
    public let room: Int64
    public var optimisticInterval: Duration = .seconds(300)
    private var lastTry: C.Instant

    /// `pieceLength`: the torrent's; the room asked for is four pieces, at least 16 MiB.
    public init(pieceLength: Int, now: C.Instant) {
        room = max(16 << 20, 4 * Int64(pieceLength))
        lastTry = now
    }

    public enum Decision: Equatable, Sendable { case wait, retry }

    public mutating func check(freeBytes: Int64, now: C.Instant) -> Decision {
        guard freeBytes >= room || lastTry.duration(to: now) >= optimisticInterval else { return .wait }
        lastTry = now
        return .retry
    }
}

/// Room on a file system: a full disk is said in one line ("the disk
/// holding … has n MiB free"), for downloads and for releases alike.
public enum DiskSpace {
    /// Bytes an unprivileged user may still write on the file system holding
    /// `path`, or its nearest existing parent folder; nil when unknown.
    /// Blocking: call it off the concurrency threads.
    public static func available(at path: String) -> Int64? {
        var p = path
        while !p.isEmpty, !FileManager.default.fileExists(atPath: p) {
            let up = (p as NSString).deletingLastPathComponent
            if up == p { break }
            p = up
        }
        var s = statvfs()
        guard statvfs(p.isEmpty ? "/" : p, &s) == 0 else { return nil }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }

    /// Bytes a file takes on disk now (a partial download is sparse).
    public static func allocated(_ path: String) -> Int64 {
        var st = stat()
        guard stat(path, &st) == 0 else { return 0 }
        return Int64(st.st_blocks) * 512
    }

    /// "12 MiB": whole MiB, rounded up, so 1 byte is not "0 MiB".
    public static func mib(_ n: Int64) -> String { "\((max(n, 0) + (1 << 20) - 1) >> 20) MiB" }

    /// Whether a failed write or mkdir means the disk (or the user's quota) is full.
    public static func isFull(_ code: Int32) -> Bool { code == ENOSPC || code == EDQUOT }
}
