import Foundation
import TestSupport
import Testing

/// Peer traffic through a SOCKS5 proxy (issue 14, item 4): Debian's
/// microsocks on loopback between Matinee and a python3-libtorrent seeder.
/// The proxy's outgoing connections leave from 127.0.0.2, so the seeder can
/// tell a connection through the proxy (from 127.0.0.2) from a direct one
/// (from 127.0.0.1).
@Suite("Peers through a SOCKS5 proxy", .serialized)
struct ProxyTests {
    struct PeerLog {
        let path: String
        var lines: [[String: String]] {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: String]
            }
        }
        var incoming: [String] { lines.compactMap { $0["incoming"] } }
        var clients: [String] { lines.compactMap { $0["client"] } }
    }

    static func startProxy(port: Int) async throws -> TestProcess {
        // A user name and a password with characters that must be percent-encoded in the URL.
        let p = try TestProcess(
            "/usr/bin/microsocks", ["-i", "127.0.0.1", "-p", String(port), "-u", "viewer", "-P", "pa:ss@word", "-b", "127.0.0.2"],
            name: "microsocks")
        let deadline = ContinuousClock.now + .seconds(10)
        while !canConnect(port: port), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        return p
    }

    @Test(
        "the default configuration through the proxy: byte-exact, the seeder sees only the proxy, anonymous mode hides the client; with 'proxy only' and the proxy stopped, nothing reaches the seeder and the status says why"
    )
    func throughTheProxy() async throws {
        let dir = TempDir()
        let data = try Fixtures.writeRandomFile(dir.path + "/data/film.mp4", size: 6 << 20, seed: 41)
        let log = PeerLog(path: dir.path + "/peers.jsonl")
        let seeder = try await LibtorrentSeeder.start(
            data: dir.path + "/data/film.mp4", torrentOut: dir.path + "/film.torrent", pieceSize: 256 << 10, peersLog: log.path)
        defer { seeder.process.kill() }
        let proxyPort = Ports.free()
        let proxy = try await Self.startProxy(port: proxyPort)
        defer { proxy.kill() }
        let proxyURL = "socks5://viewer:pa%3Ass%40word@127.0.0.1:\(proxyPort)"

        // As users run it (every interface, the public DHT routers, which
        // "proxy only" does not even look up), told only the seeder's address.
        let viewer = MatineeCLI(home: dir.sub("viewer"))
        let play = try viewer.start([
            "play", dir.path + "/film.torrent", "--peer", seeder.peer, "--proxy", proxyURL, "--proxy-only", "--anonymous-mode",
        ])
        defer { play.kill() }
        let url = try await play.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://") ? $0 : nil }
        let whole = try await HTTP.request(url, timeout: 120)
        #expect(whole.status == 200 && whole.body == data, "status \(whole.status), \(whole.body.count) bytes")
        try await Task.sleep(for: .milliseconds(300))  // the seeder's log is written every 0.1 s
        #expect(!log.incoming.isEmpty && log.incoming.allSatisfy { $0 == "127.0.0.2" }, "\(log.lines)")
        #expect(!log.clients.isEmpty, "\(log.lines)")
        for client in log.clients {
            #expect(!client.contains("Matinee") && !client.lowercased().contains("libtorrent"), "the client said who it is: \(client)")
        }
        play.kill()
        _ = try await play.waitForExit()

        // The same proxy without anonymous mode: the client's name shows
        // (so the check above could fail).
        let named = try MatineeCLI(home: dir.sub("named")).start([
            "play", dir.path + "/film.torrent", "--peer", seeder.peer, "--proxy", proxyURL, "--dht-node", "127.0.0.1:1",
        ])
        defer { named.kill() }
        let namedURL = try await named.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://") ? $0 : nil }
        let head = try await HTTP.request(namedURL, headers: ["Range": "bytes=0-1048575"], timeout: 60)
        #expect(head.status == 206 && head.body == Array(data[0..<(1 << 20)]))
        try await Task.sleep(for: .milliseconds(300))
        #expect(log.clients.contains { $0.contains("Matinee") }, "\(log.lines)")
        #expect(log.incoming.allSatisfy { $0 == "127.0.0.2" }, "\(log.lines)")
        named.kill()
        _ = try await named.waitForExit()

        // The proxy stops. "Proxy only": nothing goes around it.
        proxy.kill(SIGKILL)  // microsocks waits for its clients on SIGTERM
        _ = try await proxy.waitForExit()
        let seen = log.lines.count
        let stranded = try MatineeCLI(home: dir.sub("stranded")).start([
            "play", dir.path + "/film.torrent", "--peer", seeder.peer, "--proxy", proxyURL, "--proxy-only",
        ])
        defer { stranded.kill() }
        let strandedURL = try await stranded.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://") ? $0 : nil }
        let status = strandedURL.components(separatedBy: "?")[0].replacingOccurrences(of: "/stream/", with: "/api/streams/")
        var st: [String: Any] = [:]
        let deadline = ContinuousClock.now + .seconds(20)
        repeat {
            try await Task.sleep(for: .milliseconds(300))
            st = try JSONSerialization.jsonObject(with: Data(try await HTTP.request(status).body)) as? [String: Any] ?? [:]
        } while (st["problem"] as? String) == nil && ContinuousClock.now < deadline
        #expect((st["problem"] as? String ?? "").contains("cannot reach peers through the proxy socks5://viewer@127.0.0.1:\(proxyPort)"), "\(st)")
        #expect(!(st["problem"] as? String ?? "").contains("pa:ss"), "the password is never shown: \(st)")
        // Several of libtorrent's reconnect rounds (min_reconnect_time is 3 s).
        try await Task.sleep(for: .seconds(8))
        #expect(log.lines.count == seen, "the seeder was reached without the proxy: \(log.lines.dropFirst(seen))")
        #expect(st["bufferedBytes"] as? Int == 0, "\(st)")
    }

    @Test("a .torrent link is not fetched around a 'proxy only' proxy, and a bad proxy address or 'proxy only' without a proxy is one line")
    func refusals() async throws {
        let dir = TempDir()
        let cli = MatineeCLI(home: dir.sub("home"))
        let link = try await cli.run([
            "play", "http://127.0.0.1:1/film.torrent", "--proxy", "socks5://127.0.0.1:1", "--proxy-only", "--list",
        ])
        #expect(link.status != 0 && link.stderr.contains("does not fetch a .torrent URL itself"), "\(link.stderr)")
        #expect(link.stderr.split(separator: "\n").count == 1, "\(link.stderr)")
        let bad = try await cli.run(["play", "magnet:?xt=urn:btih:" + String(repeating: "a", count: 40), "--proxy", "http://127.0.0.1:3128"])
        #expect(bad.status != 0 && bad.stderr.contains("only SOCKS5 proxies are supported"), "\(bad.stderr)")
        let alone = try await cli.run(["play", "magnet:?xt=urn:btih:" + String(repeating: "a", count: 40), "--proxy-only"])
        #expect(alone.status != 0 && alone.stderr.contains("\"proxy only\" is on but no proxy is set"), "\(alone.stderr)")
    }
}
