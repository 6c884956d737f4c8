import Foundation
import TestSupport
import Testing

/// The stream server against clients that go away, stall or crowd it
/// (issue 12), on the daemon as `matinee` starts it.
@Suite("Clients that go away, stall or crowd the server", .serialized)
struct ConnectionTests {
    /// A daemon with one torrent whose swarm is dead: every range waits.
    static func deadStream(_ dir: TempDir) async throws -> (serve: TestProcess, play: TestProcess, url: String, status: String) {
        _ = try Fixtures.writeRandomFile(dir.path + "/data/film.mp4", size: 24 << 20, seed: 7)
        let seeder = try await LibtorrentSeeder.start(data: dir.path + "/data/film.mp4", torrentOut: dir.path + "/film.torrent")
        seeder.process.kill()
        let cli = MatineeCLI(home: dir.sub("home"))
        let serve = try cli.start(["serve", "--dht-node", "127.0.0.1:1"])
        _ = try await serve.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }
        let play = try cli.start(["play", dir.path + "/film.torrent", "--dht-node", "127.0.0.1:1"])
        let url = try await play.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://") ? $0 : nil }
        let status = url.components(separatedBy: "?")[0].replacingOccurrences(of: "/stream/", with: "/api/streams/")
        return (serve, play, url, status)
    }

    static func openDescriptors(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    static func readers(_ status: String) async throws -> [Int] {
        let reply = try await HTTP.request(status)
        let object = try JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any]
        return object?["readers"] as? [Int] ?? [-1]
    }

    static func clients(_ args: [String], timeout: Duration = .seconds(90)) async throws -> [String: Any] {
        let p = try TestProcess("/usr/bin/python3", [Fixtures.packageRoot + "/Tests/Fixtures/http_clients.py"] + args, name: "http_clients")
        let line: [String: Any] = try await p.waitForLine(timeout: timeout) { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        _ = try await p.waitForExit()
        return line
    }

    @Test("readers waiting for pieces end the moment their clients close or reset, with their descriptors")
    func abandonedReaders() async throws {
        let dir = TempDir()
        let (serve, play, url, status) = try await Self.deadStream(dir)
        defer {
            play.kill()
            serve.kill()
        }
        let before = Self.openDescriptors(serve.process.processIdentifier)
        let seen = try await Self.clients(["abandon", url, status, "60"])
        // All 60 were waiting, and none was cut while it waited.
        #expect((seen["readers"] as? Int ?? 0) >= 60 && seen["open_after"] as? Int == 60, "\(seen)")
        // Theirs, by offset (the daemon's own probe of the file may wait at 0).
        let offsets = Set((1...60).map { $0 * 65537 })
        func theirs() async throws -> [Int] { try await Self.readers(status).filter(offsets.contains) }
        let deadline = ContinuousClock.now + .seconds(5)
        var left = try await theirs()
        while !left.isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            left = try await theirs()
        }
        #expect(left.isEmpty, "readers left: \(left.count)")
        let after = Self.openDescriptors(serve.process.processIdentifier)
        #expect(after <= before + 4, "descriptors before \(before), after \(after)")
    }

    @Test("a client sending its request a byte a second is closed after the header timeout; a crowd past the limit gets 503")
    func slowAndCrowded() async throws {
        let dir = TempDir()
        let (serve, play, url, status) = try await Self.deadStream(dir)
        defer {
            play.kill()
            serve.kill()
        }
        let port = URLComponents(string: url)?.port ?? 0
        // A player waiting for a piece is not a slow client: its request is whole.
        let waiting = Task { try await HTTP.request(url, headers: ["Range": "bytes=5000000-"], timeout: 120) }
        let slow = try await Self.clients(["slow", "127.0.0.1", String(port), "40", "25"])
        #expect(slow["closed"] as? Int == 40, "\(slow)")
        #expect((slow["after"] as? Double ?? 99) < 20, "\(slow)")
        let waitingReaders = try await Self.readers(status)
        #expect(waitingReaders.contains(5_000_000), "\(waitingReaders)")
        waiting.cancel()

        let crowd = try await Self.clients(["crowd", "127.0.0.1", String(port), "520", "/api/streams"])
        #expect(crowd["status"] as? Int == 503 && (crowd["body"] as? String ?? "").contains("too many connections"), "\(crowd)")
        // Once the crowd has gone, requests are served again.
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await HTTP.request(status).status == 200)
    }
}
