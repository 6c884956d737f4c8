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
