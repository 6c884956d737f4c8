import Foundation
import TestSupport
import Testing

@Suite("Encryption and players", .serialized)
struct PolicyTests {
    @Test("--require-encryption refuses a plaintext-only peer and streams from an encrypting one")
    func requireEncryption() async throws {
        let dir = TempDir()
        let data = try Fixtures.writeRandomFile(dir.path + "/data/e.mp4", size: 1 << 20, seed: 61)
        try Fixtures.run("/usr/bin/transmission-create", ["-o", dir.path + "/e.torrent", "-s", "32", dir.path + "/data/e.mp4"])
        let plain = try await LibtorrentSeeder.start(
            data: dir.path + "/data/e.mp4", torrentIn: dir.path + "/e.torrent", encryption: "disabled")

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
        try await expectByteExact(url2, data, play: p2)
        p2.kill()
        try await p2.waitForExit()

        // ...and an encrypting peer serves the strict one.
        let encrypted = try await LibtorrentSeeder.start(
            data: dir.path + "/data/e.mp4", torrentIn: dir.path + "/e.torrent", encryption: "forced")
        let (p3, url3) = try await strict.play(dir.path + "/e.torrent", ["--peer", encrypted.peer, "--require-encryption"])
        try await expectByteExact(url3, data, play: p3)
        p3.kill()
        try await p3.waitForExit()
    }

    @Test("--player mpv plays the stream to its end, and play stops when mpv closes")
    func mpvPlays() async throws {
        let dir = TempDir()
        try Fixtures.makeVideo(dir.path + "/data/clip.mp4", seconds: 4, faststart: true)
        try Fixtures.run("/usr/bin/transmission-create", ["-o", dir.path + "/clip.torrent", "-s", "32", dir.path + "/data/clip.mp4"])
        let seeder = try await LibtorrentSeeder.start(data: dir.path + "/data/clip.mp4", torrentIn: dir.path + "/clip.torrent")
        // Debian's mpv with no window and no sound, and a log to read back.
        let home = dir.sub("user")
        try FileManager.default.createDirectory(atPath: home + "/.config/mpv", withIntermediateDirectories: true)
        try "vo=null\nao=null\nlog-file=\(dir.path)/mpv.log\n".write(
            toFile: home + "/.config/mpv/mpv.conf", atomically: true, encoding: .utf8)
        let p = try MatineeCLI(home: dir.sub("home")).start(
            [
                "play", dir.path + "/clip.torrent", "--peer", seeder.peer, "--listen", "127.0.0.1:0", "--dht-node", "127.0.0.1:1",
                "--player", "mpv",
            ],
            environment: ["HOME": home, "XDG_CONFIG_HOME": home + "/.config"])
        let url = try await p.waitForLine { $0.hasPrefix("http://") ? $0 : nil }
        // mpv plays the 4 s clip in real time, exits at its end, and play follows.
        #expect(try await p.waitForExit(timeout: .seconds(60)) == 0)
        let log = try String(contentsOfFile: dir.path + "/mpv.log", encoding: .utf8)
        #expect(log.contains(url), "mpv did not open the stream URL")
        #expect(log.contains("first video frame after restart shown"))
        #expect(log.contains("Exiting... (End of file)"))
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

/// The piece count in a progress line of lt_seeder.py's leech mode.
@Sendable func leecherHave(_ line: String) -> Int? {
    ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any])?["have"] as? Int
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
        let leecher = try TestProcess(
            "/usr/bin/python3",
            [
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

    @Test("--seed-time stops sharing a finished download after that many minutes")
    func seedTimeLimit() async throws {
        let dir = TempDir()
        try Fixtures.writeRandomFile(dir.path + "/data/t.mp4", size: 512 << 10, seed: 73)
        try Fixtures.run("/usr/bin/transmission-create", ["-o", dir.path + "/t.torrent", "-s", "32", dir.path + "/data/t.mp4"])
        let seeder = try await LibtorrentSeeder.start(data: dir.path + "/data/t.mp4", torrentIn: dir.path + "/t.torrent")
        let cli = MatineeCLI(home: dir.sub("home"))
        // 0.05 minutes: three seconds of sharing once complete; no ratio limit.
        let (p, url) = try await cli.play(dir.path + "/t.torrent", ["--peer", seeder.peer, "--seed-time", "0.05", "--seed-ratio", "0"])
        _ = try await HTTP.waitUntilComplete(url)
        #expect(!p.stderr.contains("Stopped sharing"), "stopped before any seeding time passed")
        let deadline = ContinuousClock.now + .seconds(30)
        while !p.stderr.contains("Stopped sharing"), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(200)) }
        #expect(p.stderr.contains("Stopped sharing: seeding time limit reached"))
        try await expectPaused(url)
        p.kill()
        try await p.waitForExit()
    }

    @Test("--upload-limit caps what a peer gets; --limit-local-peers applies it on loopback")
    func uploadCap() async throws {
        let dir = TempDir()
        let data = try Fixtures.writeRandomFile(dir.path + "/data/u.bin", size: 1 << 20, seed: 74)
        let port = Ports.free()
        let cli = MatineeCLI(home: dir.sub("home"))
        let seed = try cli.start([
            "seed", dir.path + "/data/u.bin", "--listen", "127.0.0.1:\(port)", "--dht-node", "127.0.0.1:1",
            "--upload-limit", "128", "--limit-local-peers",
        ])
        let magnet = try await seed.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("magnet:") ? $0 : nil }
        let torrent = try #require(
            try FileManager.default.contentsOfDirectory(atPath: dir.path + "/home/torrents").first.map { dir.path + "/home/torrents/" + $0 }
        )
        #expect(magnet.contains("dn=u.bin"))
        let leecher = try TestProcess(
            "/usr/bin/python3",
            [
                Fixtures.seederScript, "leech", "--torrent-in", torrent, "--save", dir.sub("got"), "--peer", "127.0.0.1:\(port)",
            ], name: "lt leecher")
        let info: [String: Int] = try await leecher.waitForLine { line in
            guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
                let n = o["pieces"] as? Int, let len = o["piece_length"] as? Int
            else { return nil }
            return ["pieces": n, "length": len]
        }
        let pieces = info["pieces"]!, pieceLength = info["length"]!
        // Once data flows, 5 s at 128 KiB/s is 640 KiB; allow three more seconds
        // of burst. Without the cap the whole file arrives in well under a
        // second on loopback.
        _ = try await leecher.waitForLine(timeout: .seconds(60)) { line -> Bool? in (leecherHave(line) ?? 0) > 0 ? true : nil }
        try await Task.sleep(for: .seconds(5))
        let got = (leecher.lines.compactMap(leecherHave).max() ?? 0) * pieceLength
        #expect(got > 0 && got <= 8 * 128 << 10, "received \(got) bytes in 5 s under a 128 KiB/s cap")
        // Capped, not cut off: the whole file arrives, byte-exact.
        _ = try await leecher.waitForLine(timeout: .seconds(90)) { line -> Bool? in leecherHave(line) == pieces ? true : nil }
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.path + "/got/u.bin")) == Data(data))
        seed.kill()
        try await seed.waitForExit()
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
