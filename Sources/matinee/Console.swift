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

    static func bar(_ fraction: Double, width: Int = 24) -> String {
        let f = max(0, min(1, fraction))
        let full = Int(f * Double(width))
        return "[" + String(repeating: "#", count: full) + String(repeating: "-", count: width - full) + "]"
    }
}

/// Waits for SIGINT or SIGTERM.
enum Signals {
    /// Keeps the dispatch sources alive while someone waits.
    private final class Watch: @unchecked Sendable {
        var sources: [any DispatchSourceSignal] = []
        func cancel() { sources.forEach { $0.cancel() } }
    }

    static func wait() async {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        let watch = Watch()
        let stream = AsyncStream<Void> { c in
            watch.sources = [SIGINT, SIGTERM].map { sig in
                let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                s.setEventHandler { c.yield() }
                s.resume()
                return s
            }
            c.onTermination = { _ in watch.cancel() }
        }
        for await _ in stream { return }
    }
}
