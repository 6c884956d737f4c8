import Foundation
import Testing
import TestSupport

@Suite("Encryption and players", .serialized)
struct PolicyTests {
    @Test("--require-encryption refuses a plaintext-only peer and streams from an encrypting one")
    func requireEncryption() async throws {
        let dir = TempDir()
        let data = try Fixtures.writeRandomFile(dir.path + "/data/e.mp4", size: 1 << 20, seed: 61)
        try Fixtures.run("/usr/bin/transmission-create", ["-o", dir.path + "/e.torrent", "-s", "32", dir.path + "/data/e.mp4"])
        let plain = try await LibtorrentSeeder.start(data: dir.path + "/data/e.mp4", torrentIn: dir.path + "/e.torrent", encryption: "disabled")

        let strict = MatineeCLI(home: dir.sub("strict"))
        let (p1, url1) = try await strict.play(dir.path + "/e.torrent", ["--peer", plain.peer, "--require-encryption"])
        try await Task.sleep(for: .seconds(4))
        let st = try await HTTP.status(url1)
        #expect(st["bufferedBytes"] as? Int == 0, "got data over a plaintext connection")
        p1.kill()
        try await p1.waitForExit()

        // The same peer serves a client that only prefers encryption...
        let relaxed = MatineeCLI(home: dir.sub("relaxed"))
        let (p2, url2) = try await relaxed.play(dir.path + "/e.torrent", ["--peer", plain.peer])
        try await expectByteExact(url2, data)
        p2.kill()
        try await p2.waitForExit()

        // ...and an encrypting peer serves the strict one.
        let encrypted = try await LibtorrentSeeder.start(data: dir.path + "/data/e.mp4", torrentIn: dir.path + "/e.torrent", encryption: "forced")
        let (p3, url3) = try await strict.play(dir.path + "/e.torrent", ["--peer", encrypted.peer, "--require-encryption"])
        try await expectByteExact(url3, data)
        p3.kill()
        try await p3.waitForExit()
    }

    @Test("--player names a player that is not installed: one clear line")
    func missingPlayer() async throws {
        let dir = TempDir()
        let empty = dir.sub("empty-bin")
        let p = try MatineeCLI(home: dir.sub("home")).start(
            ["play", "0123456789abcdef0123456789abcdef01234567", "--player", "vlc"], environment: ["PATH": empty])
        #expect(try await p.waitForExit() == 1)
        #expect(p.stderr == "matinee: vlc is not installed (not found on PATH)\n")
    }
}

/// The torrent behind a stream is paused (status updates come once a second).
func expectPaused(_ url: String) async throws {
    var paused = false
    for _ in 0..<30 where !paused {
        paused = try await HTTP.status(url)["paused"] as? Bool ?? false
        if !paused { try await Task.sleep(for: .milliseconds(200)) }
    }
    #expect(paused)
}

@Suite("Sharing back", .serialized)
struct SharingTests {
    @Test("play shares a finished download with a new peer, then stops at --seed-ratio")
    func ratioLimit() async throws {
        let dir = TempDir()
        let data = try Fixtures.writeRandomFile(dir.path + "/data/s.mp4", size: 1 << 20, seed: 71)
        try Fixtures.run("/usr/bin/transmission-create", ["-o", dir.path + "/s.torrent", "-s", "32", dir.path + "/data/s.mp4"])
        let seeder = try await LibtorrentSeeder.start(data: dir.path + "/data/s.mp4", torrentIn: dir.path + "/s.torrent")
        let port = Ports.free()
        let cli = MatineeCLI(home: dir.sub("home"))
        let p = try cli.start([
            "play", dir.path + "/s.torrent", "--peer", seeder.peer, "--seed-ratio", "0.5",
            "--listen", "127.0.0.1:\(port)", "--dht-node", "127.0.0.1:1",
        ])
        let url = try await p.waitForLine { $0.hasPrefix("http://") ? $0 : nil }
        _ = try await HTTP.waitUntilComplete(url)
        seeder.process.kill()
        // An independent client that knows only Matinee downloads the file from it.
        let leecher = try TestProcess("/usr/bin/python3", [
            Fixtures.seederScript, "leech", "--torrent-in", dir.path + "/s.torrent", "--save", dir.sub("got"),
            "--peer", "127.0.0.1:\(port)",
        ], name: "lt leecher")
        _ = try await leecher.waitForLine(timeout: .seconds(60)) { line -> Bool? in
            guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else { return nil }
            return (o["have"] as? Int) == 32 ? true : nil
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.path + "/got/s.mp4")) == Data(data))
        let deadline = ContinuousClock.now + .seconds(20)
        while !p.stderr.contains("Stopped sharing"), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(200)) }
        #expect(p.stderr.contains("Stopped sharing: share ratio 0.5 reached"))
        try await expectPaused(url)
        p.kill()
        #expect(try await p.waitForExit() == 0)
    }

    @Test("--no-seed stops sharing as soon as the download is complete")
    func noSeed() async throws {
        let dir = TempDir()
        try Fixtures.writeRandomFile(dir.path + "/data/n.mp4", size: 512 << 10, seed: 72)
        try Fixtures.run("/usr/bin/transmission-create", ["-o", dir.path + "/n.torrent", "-s", "32", dir.path + "/data/n.mp4"])
        let seeder = try await LibtorrentSeeder.start(data: dir.path + "/data/n.mp4", torrentIn: dir.path + "/n.torrent")
        let cli = MatineeCLI(home: dir.sub("home"))
        let (p, url) = try await cli.play(dir.path + "/n.torrent", ["--peer", seeder.peer, "--no-seed"])
        _ = try await HTTP.waitUntilComplete(url)
        let deadline = ContinuousClock.now + .seconds(20)
        while !p.stderr.contains("Stopped sharing"), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(200)) }
        #expect(p.stderr.contains("Stopped sharing: sharing is off (--no-seed)"))
        try await expectPaused(url)
        // What was downloaded stays playable.
        #expect(try await HTTP.request(url).body.count == 512 << 10)
        p.kill()
        try await p.waitForExit()
    }
}
