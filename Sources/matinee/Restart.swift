import Daemon
import Foundation
import Updates

/// Starting again on the version now current, after the daemon installed an
/// update or rolled one back: this process becomes the launcher (exec), so
/// the new version's first start is counted on trial as any other start,
/// with the same command line, on the same web UI port (the page open in
/// the browser finds the new version where the old one was).
enum Restart {
    /// The web UI port a restarted daemon takes again (set here, read once
    /// by the daemon it starts; no option a user passes).
    static let portVariable = "MATINEE_RESTART_PORT"

    /// The port this process was restarted with, if it was; cleared, so
    /// that the players it starts do not see it.
    static let inheritedPort: Int? = {
        guard let raw = ProcessInfo.processInfo.environment[portVariable], let p = Int(raw), (1...65535).contains(p) else {
            return nil
        }
        unsetenv(portVariable)
        return p
    }()

    /// The descriptors past stderr that this process was started with:
    /// its parent's (a supervisor's pipe that tells it we ended, a socket
    /// handed on). They stay open across a restart, as the parent expects of
    /// a process that has not ended; only what this process opened closes.
    /// Read first thing in `main`, before anything opens a file.
    /// (Listing /proc/self/fd opens a descriptor of its own, closed by
    /// then: only those still open count, or a file opened later on that
    /// number would be handed on.)
    static let inheritedDescriptors: Set<Int32> = Set(openDescriptors().filter { fcntl($0, F_GETFD) >= 0 })

    private static func openDescriptors() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap(Int32.init).filter { $0 > 2 }
    }

    /// Replaces this process with the launcher. Returns only if that failed.
    static func exec(port: Int?) -> Never {
        let launcher = Installation.running?.launcher
        let path =
            launcher.flatMap { FileManager.default.isExecutableFile(atPath: $0) ? $0 : nil }
            ?? Installation.running.map { $0.currentLink + "/bin/matinee" } ?? RunningBinary.path
        if let port { setenv(portVariable, String(port), 1) }
        // Nothing this process opened is handed on: every descriptor it
        // opened closes on exec (the engine's lock, sockets), signals are as
        // new. What its parent gave it stays (closing that told a parent
        // watching for our end that we had ended while we still ran).
        let inherited = inheritedDescriptors
        for fd in openDescriptors() where !inherited.contains(fd) {
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
        for sig in [SIGINT, SIGTERM, SIGPIPE] { signal(sig, SIG_DFL) }
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
        let args = [path] + CommandLine.arguments.dropFirst()
        let argv = args.map { strdup($0) } + [nil]
        execv(path, argv)
        Console.info("matinee: cannot start \(path) again: \(String(cString: strerror(errno))); start Matinee again by hand")
        exit(1)
    }
}
