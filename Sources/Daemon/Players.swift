import Foundation
import Streaming
import Synchronization

/// External players.
public enum Player {
    public static func locate(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw DaemonError("\(name) is not installed (not found on PATH)", badInput: true)
    }

    /// The players the web UI offers ("Open in mpv / VLC").
    public static let external = ["mpv", "vlc"]

    /// The player's arguments: the window titled after the file rather than the
    /// URL, where to start, the URL after "--" so nothing in it reads as an
    /// option, and a stranger's file kept from reaching anything else
    /// (`safety`).
    public static func arguments(for path: String, url: String, title: String, start: Double = 0) -> [String] {
        let from = String(format: "%.1f", start)
        switch URL(fileURLWithPath: path).lastPathComponent {
        case "mpv":
            return ["--force-media-title=\(title)"] + mpvSafety + (start > 0 ? ["--start=\(from)"] : []) + ["--", url]
        case "vlc", "cvlc":
            return ["--meta-title=\(title)"] + vlcSafety + (start > 0 ? ["--start-time=\(from)"] : []) + ["--", url]
        default: return [url]
        }
    }

    /// What a "film" from a stranger may not make mpv do (issue 12: one that
    /// was really an HLS playlist, or an m3u, had mpv fetch other hosts):
    /// no youtube-dl, no playlists or references to follow, no ordered
    /// chapters or side files to open, and FFmpeg's demuxers limited to media
    /// containers over our own HTTP (the list ffprobe gets, `MediaProbe`).
    static let mpvSafety = [
        "--ytdl=no", "--load-unsafe-playlists=no", "--access-references=no", "--ordered-chapters=no",
        "--sub-auto=no", "--audio-file-auto=no", "--cover-art-auto=no", "--demuxer=lavf",
        "--demuxer-lavf-o=protocol_whitelist=[http,tcp],format_whitelist=[\(MediaProbe.formatWhitelist)]",
        "--stream-lavf-o=protocol_whitelist=[http,tcp]",
    ]

    /// The same for VLC: no Lua (its playlist and site scripts), nothing a
    /// playlist lists started, no subtitle files looked for.
    static let vlcSafety = ["--no-lua", "--no-playlist-autostart", "--no-sub-autodetect-file", "--no-auto-preparse"]

    /// Starts a player and returns at once (the web UI's "Open in mpv"); it
    /// is reaped when it exits.
    public static func launch(_ path: String, url: String, title: String, start: Double) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments(for: path, url: url, title: title, start: start)
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        p.terminationHandler = { _ in }
        do {
            try p.run()
        } catch {
            throw DaemonError("cannot start \(path): \(error.localizedDescription)")
        }
    }

    public static func run(_ path: String, url: String, title: String) async throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments(for: path, url: url, title: title)
        p.standardInput = FileHandle.nullDevice
        let failure = Mutex<(any Error)?>(nil)
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                // Set before run(): a player that exits at once still resumes us, once.
                p.terminationHandler = { _ in c.resume() }
                do {
                    try p.run()
                } catch {
                    p.terminationHandler = nil
                    failure.withLock { $0 = error }
                    c.resume()
                }
            }
        } onCancel: {
            if p.isRunning { p.terminate() }
        }
        if let e = failure.withLock({ $0 }) {
            throw DaemonError("cannot start \(path): \(e.localizedDescription)")
        }
        // A player closed by its user exits 0; anything else is worth a line.
        if !Task.isCancelled, p.terminationReason == .exit, p.terminationStatus != 0 {
            throw DaemonError("\(URL(fileURLWithPath: path).lastPathComponent) exited with status \(p.terminationStatus)")
        }
    }
}
