import Foundation

/// A small file system of its own (tmpfs; the tests run as root, as the
/// netns ones do): a disk that fills up, and that a test can grow again.
public final class SmallDisk: @unchecked Sendable {
    public let path: String

    /// Mounts a tmpfs of `mib` MiB at `path` (created if missing).
    public init(at path: String, mib: Int) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try Fixtures.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(mib)m,mode=0755", "tmpfs", path])
    }

    /// Makes room: the same files, a larger disk.
    public func resize(mib: Int) throws {
        try Fixtures.run("/bin/mount", ["-o", "remount,size=\(mib)m", path])
    }

    deinit { _ = try? Fixtures.run("/bin/umount", ["-l", path]) }
}
