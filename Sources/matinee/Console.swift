import Daemon
import Foundation
import Synchronization

/// stdout for results (URLs, magnet links), stderr for everything else.
enum Console {
    static let stderrIsTTY = isatty(STDERR_FILENO) != 0
    private static let lock = Mutex(false)  // true while a live line is on screen

    /// A result line on stdout, flushed at once (scripts and tests wait for it).
    static func result(_ line: String) {
        lock.withLock { live in
            if live { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            live = false
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
    }

    /// A message line on stderr.
    static func info(_ line: String) {
        lock.withLock { live in
            let prefix = live ? "\r\u{1B}[K" : ""
            live = false
            FileHandle.standardError.write(Data((prefix + line + "\n").utf8))
        }
    }

    static func error(_ line: String) { info("matinee: " + line) }

    /// Rewrites the live progress line (TTY only).
    static func live(_ line: String) {
        guard stderrIsTTY else { return }
        lock.withLock { live in
            live = true
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        }
    }

    /// A daemon event, as a line or the live line.
    static func show(_ event: DaemonEvent) {
        switch event {
        case let .info(line): info(line)
        case let .problem(line): error(line)
        case let .progress(line): live(line)
        case .progressDone: endLive()
        }
    }

    /// Runs `body` with events rendered on stderr as they come; every event
    /// sent before `body` returns is shown before this returns.
    static func withEvents<T>(_ body: (Events) async throws -> T) async throws -> T {
        let (events, stream, finish) = Events.stream()
        let renderer = Task { for await e in stream { show(e) } }
        let outcome = await Result { try await body(events) }
        finish()
        await renderer.value
        return try outcome.get()
    }

    static func endLive() {
        lock.withLock { live in
            if live { FileHandle.standardError.write(Data("\n".utf8)) }
            live = false
        }
    }
}

/// Waits for SIGINT or SIGTERM.
enum Signals {
    /// Opens when SIGINT or SIGTERM arrives.
    private static let arrived = Latch()
    /// A command armed its clean stop (`expect`).
    private static let expected = Mutex(false)
    private static let sources = Mutex<[any DispatchSourceSignal]>([])

    /// Takes over SIGINT and SIGTERM (and ignores SIGPIPE) for the rest of
    /// the process. Called first thing in `main`. Until a command calls
    /// `expect()`, a signal ends the process at once (exit 130), as Ctrl-C
    /// should; after it, a signal is kept for `wait()`, even one that comes
    /// before the command gets there (seen: `seed` killed by a SIGINT sent
    /// right after it printed its magnet, before its clean stop was armed).
    static func install() {
        sources.withLock { list in
            guard list.isEmpty else { return }
            signal(SIGINT, SIG_IGN)
            signal(SIGTERM, SIG_IGN)
            signal(SIGPIPE, SIG_IGN)
            list = [SIGINT, SIGTERM].map { sig in
                let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                s.setEventHandler {
                    guard expected.withLock({ $0 }) else { exit(130) }
                    arrived.open()
                }
                s.resume()
                return s
            }
        }
    }

    /// Runs `body` (a daemon's run), stopping the daemon gracefully when
    /// SIGINT or SIGTERM arrives.
    static func stopping(_ daemon: MatineeDaemon, _ body: () async throws -> Void) async throws {
        let watcher = Task {
            await wait()
            if !Task.isCancelled { await daemon.stop() }
        }
        defer { watcher.cancel() }
        try await body()
    }

    /// From now on SIGINT and SIGTERM mean "stop cleanly": `wait()` returns.
    static func expect() {
        install()
        expected.withLock { $0 = true }
    }

    /// Returns once SIGINT or SIGTERM has arrived (at once if one already
    /// has), or when the waiting task is cancelled (a command that ended on
    /// its own cancels its signal watch).
    static func wait() async {
        expect()
        await arrived.wait()
    }
}
