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

    static func endLive() {
        lock.withLock { live in
            if live { FileHandle.standardError.write(Data("\n".utf8)) }
            live = false
        }
    }
}

enum Format {
    static func bytes(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n)
        var i = 0
        while v >= 1024 && i < units.count - 1 {
            v /= 1024
            i += 1
        }
        return i == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[i])
    }

    static func rate(_ n: Int) -> String { bytes(Int64(n)) + "/s" }

    /// "1 node", "12 nodes".
    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    static func bar(_ fraction: Double, width: Int = 24) -> String {
        let f = max(0, min(1, fraction))
        let full = Int(f * Double(width))
        return "[" + String(repeating: "#", count: full) + String(repeating: "-", count: width - full) + "]"
    }
}

/// Waits for SIGINT or SIGTERM.
enum Signals {
    /// SIGINT or SIGTERM arrived; and who waits for it.
    private static let state = Mutex<(arrived: Bool, expected: Bool, next: Int, waiters: [Int: CheckedContinuation<Void, Never>])>((false, false, 0, [:]))
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
                    let (expected, waiters) = state.withLock { st in
                        st.arrived = true
                        defer { st.waiters = [:] }
                        return (st.expected, Array(st.waiters.values))
                    }
                    guard expected else { exit(130) }
                    waiters.forEach { $0.resume() }
                }
                s.resume()
                return s
            }
        }
    }

    /// From now on SIGINT and SIGTERM mean "stop cleanly": `wait()` returns.
    static func expect() {
        install()
        state.withLock { $0.expected = true }
    }

    /// Returns once SIGINT or SIGTERM has arrived (at once if one already
    /// has), or when the waiting task is cancelled (a command that ended on
    /// its own cancels its signal watch).
    static func wait() async {
        expect()
        let id = state.withLock { st -> Int in
            st.next += 1
            return st.next
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { st -> Bool in
                    if st.arrived || Task.isCancelled { return true }
                    st.waiters[id] = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
