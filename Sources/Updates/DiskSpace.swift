import Foundation

/// Room on the file system where a release is downloaded or unpacked: a full
/// disk is said in one line ("the disk holding … has n MiB free") and is never
/// taken for a bad release.
enum DiskSpace {
    /// Bytes an unprivileged user may still write on the file system holding
    /// `path`, or its nearest existing parent folder; nil when unknown.
    static func available(at path: String) -> Int64? {
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
    static func allocated(_ path: String) -> Int64 {
        var st = stat()
        guard stat(path, &st) == 0 else { return 0 }
        return Int64(st.st_blocks) * 512
    }

    /// "12 MiB": whole MiB, rounded up, so 1 byte is not "0 MiB".
    static func mib(_ n: Int64) -> String { "\((max(n, 0) + (1 << 20) - 1) >> 20) MiB" }

    /// Whether a failed write or mkdir means the disk (or the user's quota) is full.
    static func isFull(_ code: Int32) -> Bool { code == ENOSPC || code == EDQUOT }
}
