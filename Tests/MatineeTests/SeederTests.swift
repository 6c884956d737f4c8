import Foundation
import TestSupport
import Testing

/// Reads a whole stream and two ranges and compares them with the original.
/// If a request fails, the error carries the end of `play`'s stderr (its
/// engine log: `MatineeCLI.play` turns MATINEE_ENGINE_LOG on), so a stall
/// seen only on a loaded CI machine can be read afterwards.
func expectByteExact(_ url: String, _ data: [UInt8], play: TestProcess? = nil) async throws {
    do {
        try await readByteExact(url, data)
    } catch {
        guard let play else { throw error }
        let log = play.stderr
        let text = log.count <= 12000 ? log : "\(log.prefix(6000))\n[…]\n\(log.suffix(6000))"
        throw TestFailure("\(error)\n--- \(play.name) stderr ---\n\(text)")
    }
}

private func readByteExact(_ url: String, _ data: [UInt8]) async throws {
    let mid = data.count / 2
    let range = try await HTTP.request(url, headers: ["Range": "bytes=\(mid)-\(mid + 99_999)"])
    #expect(range.status == 206)
    #expect(range.header("Content-Range") == "bytes \(mid)-\(mid + 99_999)/\(data.count)")
    try expectSame(range.body, data[mid..<mid + 100_000], at: mid)
    let full = try await HTTP.request(url)
    #expect(full.status == 200)
    #expect(full.body.count == data.count)
    try expectSame(full.body, data[...], at: 0)
}

/// Compares bytes; on a difference throws, saying where, how much, and whether the
/// wrong bytes are zeros (a read before the data reached the disk).
func expectSame(_ got: [UInt8], _ want: ArraySlice<UInt8>, at base: Int) throws {
    let want = Array(want)
    guard got != want else { return }
    let n = min(got.count, want.count)
    let diff = (0..<n).filter { got[$0] != want[$0] }
    let zeros = diff.filter { got[$0] == 0 }.count
    let first = diff.first.map { base + $0 } ?? base + n
    let last = diff.last.map { base + $0 } ?? base + n
    throw TestFailure(
        "bytes differ: got \(got.count), want \(want.count); \(diff.count) differ, file offsets \(first)...\(last), \(zeros) of them zeros")
}

/// The v1 info-hash of a .torrent file, read by python3-libtorrent.
func torrentInfoHash(_ path: String) throws -> String {
    try Fixtures.run("/usr/bin/python3", ["-c", "import libtorrent as lt,sys; print(lt.torrent_info(sys.argv[1]).info_hashes().v1)", path])
        .trimmingCharacters(in: .whitespacesAndNewlines)
}

@Suite("Play from real seeders", .serialized)
struct SeederTests {
    @Test("transmission seeding, found through a tracker on loopback")
    func transmissionThroughTracker() async throws {
        let dir = TempDir()
        let data = try Fixtures.writeRandomFile(dir.path + "/data/movie.mp4", size: 3 << 20 + 777, seed: 1)
        let tracker = try await Tracker.start(directory: dir.path)
        try Fixtures.run(
            "/usr/bin/transmission-create",
            [
                "-o", dir.path + "/movie.torrent", "-t", tracker.announceURL, "-s", "64", dir.path + "/data/movie.mp4",
            ])
        try await tracker.allow(try torrentInfoHash(dir.path + "/movie.torrent"))
        let seeder = try await TransmissionSeeder.start(
            torrent: dir.path + "/movie.torrent", dataDir: dir.path + "/data", configDir: dir.sub("tr-config"))
        let cli = MatineeCLI(home: dir.sub("home"))
        let (play, url) = try await cli.play(dir.path + "/movie.torrent")
        try await expectByteExact(url, data, play: play)
        play.kill()
        try await play.waitForExit()
        _ = seeder
    }

    @Test("transmission seeding, reached with --peer")
    func transmissionThroughPeer() async throws {
        let dir = TempDir()
        let data = try Fixtures.writeRandomFile(dir.path + "/data/clip.webm", size: 2 << 20 + 3, seed: 2)
        try Fixtures.run("/usr/bin/transmission-create", ["-o", dir.path + "/clip.torrent", "-s", "32", dir.path + "/data/clip.webm"])
        let seeder = try await TransmissionSeeder.start(
            torrent: dir.path + "/clip.torrent", dataDir: dir.path + "/data", configDir: dir.sub("tr-config"))
        let cli = MatineeCLI(home: dir.sub("home"))
        let (play, url) = try await cli.play(dir.path + "/clip.torrent", ["--peer", seeder.peer])
        try await expectByteExact(url, data, play: play)
        let head = try await HTTP.request(url, method: "HEAD")
        #expect(head.header("Content-Type") == "video/webm")
        play.kill()
        #expect(try await play.waitForExit() == 0)
    }

    @Test("python3-libtorrent seeding, reached with --peer")
    func libtorrentThroughPeer() async throws {
        let dir = TempDir()
        let data = try Fixtures.writeRandomFile(dir.path + "/data/film.mkv", size: 3 << 20 + 12345, seed: 3)
        let seeder = try await LibtorrentSeeder.start(data: dir.path + "/data/film.mkv", torrentOut: dir.path + "/film.torrent")
        let cli = MatineeCLI(home: dir.sub("home"))
        let (play, url) = try await cli.play(dir.path + "/film.torrent", ["--peer", seeder.peer])
        try await expectByteExact(url, data, play: play)
        play.kill()
        try await play.waitForExit()
    }

    @Test("python3-libtorrent seeding, found through a tracker, from a magnet link alone")
    func libtorrentMagnetThroughTracker() async throws {
        let dir = TempDir()
        let data = try Fixtures.writeRandomFile(dir.path + "/data/show.mp4", size: 2 << 20 + 99, seed: 4)
        let tracker = try await Tracker.start(directory: dir.path)
        // The tracker must know the torrent before the seeder's first announce.
        try Fixtures.run(
            "/usr/bin/transmission-create",
            [
                "-o", dir.path + "/show.torrent", "-t", tracker.announceURL, "-s", "32", dir.path + "/data/show.mp4",
            ])
        try await tracker.allow(try torrentInfoHash(dir.path + "/show.torrent"))
        let seeder = try await LibtorrentSeeder.start(data: dir.path + "/data/show.mp4", torrentIn: dir.path + "/show.torrent")
        // The magnet carries the tracker and no peer: metadata and data both come through it.
        #expect(!seeder.magnet.contains("x.pe"))
        #expect(seeder.magnet.contains("tr="))
        let cli = MatineeCLI(home: dir.sub("home"))
        let (play, url) = try await cli.play(seeder.magnet)
        #expect(url.contains(seeder.infoHash))
        try await expectByteExact(url, data, play: play)
        play.kill()
        try await play.waitForExit()
        // The metadata was kept, so a later run needs no peer to know the files.
        #expect(FileManager.default.fileExists(atPath: cli.home + "/torrents/\(seeder.infoHash).torrent"))
    }

    @Test("a bare info-hash and an http URL of a .torrent are sources too")
    func infoHashAndURL() async throws {
        let dir = TempDir()
        let data = try Fixtures.writeRandomFile(dir.path + "/data/a.mp4", size: 1 << 20, seed: 5)
        let seeder = try await LibtorrentSeeder.start(data: dir.path + "/data/a.mp4", torrentOut: dir.sub("web") + "/a.torrent")
        let cli = MatineeCLI(home: dir.sub("home"))
        let (p1, url1) = try await cli.play(seeder.infoHash, ["--peer", seeder.peer])
        try await expectByteExact(url1, data, play: p1)
        p1.kill()
        try await p1.waitForExit()

        let port = Ports.free()
        let web = try TestProcess(
            "/usr/bin/python3", ["-m", "http.server", "--bind", "127.0.0.1", String(port)], currentDirectory: dir.path + "/web",
            name: "http.server")
        for _ in 0..<100 where !canConnect(port: port) { try await Task.sleep(for: .milliseconds(50)) }
        let cli2 = MatineeCLI(home: dir.sub("home2"))
        let (p2, url2) = try await cli2.play("http://127.0.0.1:\(port)/a.torrent", ["--peer", seeder.peer])
        try await expectByteExact(url2, data, play: p2)
        p2.kill()
        try await p2.waitForExit()
        _ = web
    }
}
