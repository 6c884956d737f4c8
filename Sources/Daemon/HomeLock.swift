import Foundation

/// One engine per home: the engine's process holds an exclusive lock on
/// MATINEE_HOME/engine.lock while it runs, and writes there who it is. A
/// second engine on the same home (two daemons, or a `play` beside a daemon
/// it could not reach) would fight over the download folder and the resume
/// data; it is refused with a line naming the first. The kernel drops the
/// lock when the process dies, so a crash never leaves the home locked.
public final class HomeLock: Sendable {
    private let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// Takes the lock for `what` ("matinee serve"), or throws naming the
    /// process that holds it.
    public static func acquire(_ home: Home, for what: String) throws -> HomeLock {
        try home.prepare()
        let fd = open(home.lockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw DaemonError("cannot open \(home.lockFile): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder =
                (try? String(contentsOfFile: home.lockFile, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            let who = holder.isEmpty ? "another Matinee" : holder
            throw DaemonError(
                "Matinee is already running on \(home.data) (\(who)): one engine per home; stop it first, or give this one its own MATINEE_HOME"
            )
        }
        let line = Array("\(what), pid \(getpid())\n".utf8)
        ftruncate(fd, 0)
        _ = line.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return HomeLock(fd: fd)
    }

    /// Who holds the lock of `home`, if anyone does (for messages).
    public static func holder(_ home: Home) -> String? {
        let fd = open(home.lockFile, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        return (try? String(contentsOfFile: home.lockFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit { close(fd) }
}
