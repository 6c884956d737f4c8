import Foundation
import TestSupport
import Testing

/// A download folder on a disk that fills up (issue 12: a full disk stopped
/// the download without a word, and for good, even after a restart).
@Suite("A full disk", .serialized)
struct DiskFullTests {
    @Test(
        "a full download folder is said in one line and in the status; the download goes on by itself once there is room, and after a restart in a full state"
    )
    func fullDisk() async throws {
        let dir = TempDir()
        let data = try Fixtures.writeRandomFile(dir.path + "/data/film.mp4", size: 48 << 20, seed: 9)
        let seeder = try await LibtorrentSeeder.start(data: dir.path + "/data/film.mp4", torrentOut: dir.path + "/film.torrent")
        defer { seeder.process.kill() }
        let disk = try SmallDisk(at: dir.path + "/downloads", mib: 12)
        let folder = (disk.path as NSString).standardizingPath
        let cli = MatineeCLI(home: dir.sub("home"))
        let daemonArgs = ["serve", "--download-dir", disk.path, "--dht-node", "127.0.0.1:1"]
        let playArgs = ["play", dir.path + "/film.torrent", "--peer", seeder.peer, "--dht-node", "127.0.0.1:1"]

        var serve = try cli.start(daemonArgs)
        _ = try await serve.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }
        var play = try cli.start(playArgs)
        var url = try await play.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://") ? $0 : nil }
        let status = { (url: String) in url.components(separatedBy: "?")[0].replacingOccurrences(of: "/stream/", with: "/api/streams/") }

        // Full: one line from the daemon, one from play, and the status says why.
        let full = try await serve.waitForStderr(timeout: .seconds(90)) { text in
            text.split(separator: "\n").first { $0.contains(" is full: ") }.map(String.init)
        }
        #expect(full.contains("the disk holding \(folder) is full") && full.contains("goes on by itself once there is room"), "\(full)")
        #expect(!full.contains("Error") && !full.contains("0x"), "\(full)")
        let told = try await play.waitForStderr(timeout: .seconds(10)) { text in
            text.split(separator: "\n").first { $0.contains("Stopped: the disk holding") }.map(String.init)
        }
        #expect(told.contains(folder), "\(told)")
        let st = try JSONSerialization.jsonObject(with: Data(try await HTTP.request(status(url)).body)) as? [String: Any]
        #expect((st?["problem"] as? String ?? "").contains("is full"), "\(st ?? [:])")

        // Room for a few more pieces: it goes on by itself, and fills the disk again.
        try disk.resize(mib: 36)
        _ = try await serve.waitForStderr(timeout: .seconds(30)) { $0.contains("downloading again") ? true : nil }
        _ = try await serve.waitForStderr(timeout: .seconds(90)) { text in
            text.components(separatedBy: " is full: ").count >= 3 ? true : nil
        }

        // Stopped while full (its resume data saved so), then room, then a
        // new run: the download finishes, byte for byte.
        play.kill()
        _ = try await play.waitForExit()
        serve.kill()
        _ = try await serve.waitForExit(timeout: .seconds(60))
        try disk.resize(mib: 96)
        serve = try cli.start(daemonArgs)
        defer { serve.kill() }
        _ = try await serve.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }
        play = try cli.start(playArgs)
        defer { play.kill() }
        url = try await play.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://") ? $0 : nil }
        let body = try await HTTP.request(url, timeout: 120)
        #expect(body.status == 200 && body.body == data, "\(serve.stderr.suffix(1500))")
        let after = try JSONSerialization.jsonObject(with: Data(try await HTTP.request(status(url)).body)) as? [String: Any]
        #expect(after?["problem"] == nil, "\(after ?? [:])")
    }
}
