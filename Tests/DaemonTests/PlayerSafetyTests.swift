import Daemon
import Foundation
import TestSupport
import Testing

/// "Open in mpv" hands mpv a stranger's file (issue 12): one that is really a
/// playlist must not make it fetch anything else.
@Suite("A stranger's file in mpv", .serialized)
struct PlayerSafetyTests {
    static func playlists(_ port: Int) -> [String: String] {
        [
            "m3u": "#EXTM3U\nhttp://127.0.0.1:\(port)/canary-m3u.mp4\n",
            "hls":
                "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nhttp://127.0.0.1:\(port)/canary-hls.ts\n#EXT-X-ENDLIST\n",
        ]
    }

    /// Runs mpv headless on each "film" with `args` and returns what the server was asked.
    func requests(_ args: (String, String) -> [String]) async throws -> String {
        let dir = TempDir()
        let server = try TestProcess(
            "/usr/bin/python3", [Fixtures.packageRoot + "/Tests/Fixtures/web_seed.py", "--root", dir.path], name: "web")
        defer { server.kill() }
        let port: Int = try await server.waitForLine { line in
            ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any])?["port"] as? Int
        }
        // A real film plays to its end with the same arguments (MP4 and Matroska).
        try Fixtures.makeVideo(dir.path + "/real.mp4", seconds: 2, faststart: false)
        try Fixtures.run("/usr/bin/ffmpeg", ["-loglevel", "error", "-i", dir.path + "/real.mp4", "-c", "copy", dir.path + "/real.mkv"])
        for real in ["real.mp4", "real.mkv"] {
            let mpv = try TestProcess(
                "/usr/bin/mpv", ["--vo=null", "--ao=null", "--no-config"] + args("http://127.0.0.1:\(port)/\(real)", real), name: "mpv")
            let status = try await mpv.waitForExit(timeout: .seconds(30))
            #expect(status == 0, "\(real): \(mpv.stderr.suffix(800)) \(mpv.lines.suffix(10))")
        }
        for (name, body) in Self.playlists(port) {
            try Data(body.utf8).write(to: URL(fileURLWithPath: dir.path + "/\(name)-film.mp4"))
            let url = "http://127.0.0.1:\(port)/\(name)-film.mp4"
            let mpv = try TestProcess("/usr/bin/mpv", ["--vo=null", "--ao=null", "--no-config", "--end=2"] + args(url, name), name: "mpv")
            _ = try? await mpv.waitForExit(timeout: .seconds(30))
            mpv.kill(SIGKILL)
        }
        try await Task.sleep(for: .milliseconds(300))
        return server.stderr
    }

    @Test("with Matinee's arguments mpv follows neither an m3u nor an HLS playlist; with its defaults it follows both")
    func playlistsStayShut() async throws {
        let safe = try await requests { url, name in Player.arguments(for: "/usr/bin/mpv", url: url, title: name) }
        #expect(safe.contains("GET /m3u-film.mp4") && safe.contains("GET /hls-film.mp4"), "mpv read the films: \(safe)")
        #expect(!safe.contains("canary"), "\(safe)")
        // The same files with mpv's defaults: what the arguments prevent.
        let open = try await requests { url, _ in ["--", url] }
        #expect(open.contains("canary-m3u") && open.contains("canary-hls"), "\(open)")
    }
}
