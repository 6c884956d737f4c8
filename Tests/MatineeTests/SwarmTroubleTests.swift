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
            data: dir.path + "/data/film.mp4", torrentOut: dir.path + "/film.torrent", pieceSize: 256 << 10, corrupt: true,
            // Its own address: libtorrent drops every connection from a banned peer's address.
            host: "127.0.0.2")
        defer { bad.process.kill() }
        let cli = MatineeCLI(home: dir.sub("home"))
        let serve = try cli.start(["serve", "--dht-node", "127.0.0.1:1"])
        defer { serve.kill() }
        let base = try await serve.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }
        func metric(_ name: String) async throws -> Double? {
            let text = String(decoding: try await HTTP.request(base + "/metrics").body, as: UTF8.self)
            return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
        }
        func peers(_ status: String) async throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(try await HTTP.request(status + "/peers").body)) as? [String: Any] ?? [:]
        }
        let play = try cli.start(["play", dir.path + "/film.torrent", "--peer", bad.peer, "--dht-node", "127.0.0.1:1"])
        defer { play.kill() }
        let url = try await play.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://") ? $0 : nil }
        let status = url.components(separatedBy: "?")[0].replacingOccurrences(of: "/stream/", with: "/api/streams/")

        let banned = try await serve.waitForStderr(timeout: .seconds(60)) { text in
            text.split(separator: "\n").first { $0.contains("banned the peer") }.map(String.init)
        }
        #expect(banned.contains(bad.peer) && banned.contains("failed the hash check"), "\(banned)")
        var st: [String: Any] = [:]
        let deadline = ContinuousClock.now + .seconds(30)
        repeat {
            try await Task.sleep(for: .milliseconds(300))
            st = try JSONSerialization.jsonObject(with: Data(try await HTTP.request(status).body)) as? [String: Any] ?? [:]
        } while (st["problem"] as? String) == nil && ContinuousClock.now < deadline
        #expect((st["problem"] as? String ?? "").contains("the only peer sent data that failed its hash check and was banned"), "\(st)")
        #expect(st["bufferedBytes"] as? Int == 0, "no bad byte kept: \(st)")
        _ = try await play.waitForStderr(timeout: .seconds(10)) { $0.contains("Stopped: the only peer") ? true : nil }
        // The per-peer view names it and why; the metrics count it.
        let view = try await peers(status)
        let bans = view["banned"] as? [[String: Any]] ?? []
        #expect(bans.count == 1 && bans.first?["address"] as? String == bad.peer, "\(view)")
        #expect((bans.first?["reason"] as? String ?? "").contains("failed the hash check"), "\(view)")
        let banCount = try await metric("matinee_peer_bans_total")
        #expect(banCount ?? 0 >= 1, "\(String(describing: banCount))")
        #expect(try await metric("matinee_hash_failures_total") ?? 0 >= 1)

        // A good peer turns up: the problem goes, and every byte is right.
        let good = try await LibtorrentSeeder.start(
            data: dir.path + "/data/film.mp4", torrentIn: dir.path + "/film.torrent", uploadLimit: 1 << 20)
        defer { good.process.kill() }
        let again = try cli.start(["play", dir.path + "/film.torrent", "--peer", good.peer, "--dht-node", "127.0.0.1:1"])
        defer { again.kill() }
        _ = try await again.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://") ? $0 : nil }
        var connected: [[String: Any]] = []
        let found = ContinuousClock.now + .seconds(20)
        // Listed once connected, a seed once its bitfield has come.
        while !connected.contains(where: { $0["address"] as? String == good.peer && $0["isSeed"] as? Bool == true }),
            ContinuousClock.now < found
        {
            try await Task.sleep(for: .milliseconds(200))
            connected = try await peers(status)["connected"] as? [[String: Any]] ?? []
        }
        let seen = connected.first { $0["address"] as? String == good.peer }
        #expect(seen?["isSeed"] as? Bool == true && seen?["incoming"] as? Bool == false, "\(connected)")
        #expect((seen?["client"] as? String ?? "").contains("libtorrent"), "\(connected)")
        let body = try await HTTP.request(url, timeout: 120)
        #expect(body.status == 200 && body.body == data)
        let after = try JSONSerialization.jsonObject(with: Data(try await HTTP.request(status).body)) as? [String: Any]
        #expect(after?["problem"] == nil, "\(after ?? [:])")
        #expect(try await metric("matinee_stream_first_byte_seconds_count") ?? 0 >= 1)
        #expect(try await metric("matinee_torrents") == 1)
    }
}
