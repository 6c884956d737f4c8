import Foundation
import TestSupport
import Testing

/// A swarm whose only peer sends bad data (issue 12: it hung at "peers 0"
/// without a word).
@Suite("A swarm with only a corrupt peer", .serialized)
struct SwarmTroubleTests {
    @Test("the corrupt peer is banned, the daemon and the status say so, and a good peer found later finishes the film byte for byte")
    func onlyCorruptPeer() async throws {
        let dir = TempDir()
        let data = try Fixtures.writeRandomFile(dir.path + "/data/film.mp4", size: 4 << 20, seed: 21)
        let bad = try await LibtorrentSeeder.start(
            data: dir.path + "/data/film.mp4", torrentOut: dir.path + "/film.torrent", pieceSize: 256 << 10, corrupt: true)
        defer { bad.process.kill() }
        let cli = MatineeCLI(home: dir.sub("home"))
        let serve = try cli.start(["serve", "--dht-node", "127.0.0.1:1"])
        defer { serve.kill() }
        _ = try await serve.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }
        let play = try cli.start(["play", dir.path + "/film.torrent", "--peer", bad.peer, "--dht-node", "127.0.0.1:1"])
        defer { play.kill() }
        let url = try await play.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://") ? $0 : nil }
        let status = url.components(separatedBy: "?")[0].replacingOccurrences(of: "/stream/", with: "/api/streams/")

        let banned = try await serve.waitForStderr(timeout: .seconds(60)) { text in
            text.split(separator: "\n").first { $0.contains("banned the peer") }.map(String.init)
        }
        #expect(banned.contains("127.0.0.1") && banned.contains("failed the hash check"), "\(banned)")
        var st: [String: Any] = [:]
        let deadline = ContinuousClock.now + .seconds(30)
        repeat {
            try await Task.sleep(for: .milliseconds(300))
            st = try JSONSerialization.jsonObject(with: Data(try await HTTP.request(status).body)) as? [String: Any] ?? [:]
        } while (st["problem"] as? String) == nil && ContinuousClock.now < deadline
        #expect((st["problem"] as? String ?? "").contains("the only peer sent data that failed its hash check and was banned"), "\(st)")
        #expect(st["bufferedBytes"] as? Int == 0, "no bad byte kept: \(st)")
        _ = try await play.waitForStderr(timeout: .seconds(10)) { $0.contains("Stopped: the only peer") ? true : nil }

        // A good peer turns up: the problem goes, and every byte is right.
        let good = try await LibtorrentSeeder.start(data: dir.path + "/data/film.mp4", torrentIn: dir.path + "/film.torrent")
        defer { good.process.kill() }
        let again = try cli.start(["play", dir.path + "/film.torrent", "--peer", good.peer, "--dht-node", "127.0.0.1:1"])
        defer { again.kill() }
        _ = try await again.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://") ? $0 : nil }
        let body = try await HTTP.request(url, timeout: 120)
        #expect(body.status == 200 && body.body == data)
        let after = try JSONSerialization.jsonObject(with: Data(try await HTTP.request(status).body)) as? [String: Any]
        #expect(after?["problem"] == nil, "\(after ?? [:])")
    }
}
