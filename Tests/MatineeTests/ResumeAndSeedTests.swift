import Foundation
import TestSupport
import Testing

@Suite("Resume and seed", .serialized)
struct ResumeAndSeedTests {
    @Test("killed with SIGKILL mid-download, started again: resumes, ends byte-exact, fetches no verified piece twice")
    func crashResume() async throws {
        let dir = TempDir()
        let size = 4 << 20
        let piece = 16 << 10
        let data = try Fixtures.writeRandomFile(dir.path + "/data/long.mp4", size: size, seed: 41)
        // A throttled seeder so that the kill lands mid-download.
        let seeder = try await LibtorrentSeeder.start(
            data: dir.path + "/data/long.mp4", torrentOut: dir.path + "/long.torrent", uploadLimit: 500_000, pieceSize: piece)
        let cli = MatineeCLI(home: dir.sub("home"))
        let args = ["--peer", seeder.peer, "--download-dir", dir.sub("dl")]

        let (first, url1) = try await cli.play(dir.path + "/long.torrent", args)
        var bufferedAtKill = 0
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let st = try await HTTP.status(url1)
            bufferedAtKill = st["bufferedBytes"] as? Int ?? 0
            if bufferedAtKill >= size * 2 / 5 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        first.kill(SIGKILL)
        _ = try await first.waitForExit()
        #expect(bufferedAtKill >= size * 2 / 5 && bufferedAtKill < size, "killed at \(bufferedAtKill) bytes")
        // The crash left its marker: the next run checks the files on disk.
        let marker = cli.home + "/resume/\(seeder.infoHash).running"
        #expect(FileManager.default.fileExists(atPath: marker))

        let (second, url2) = try await cli.play(dir.path + "/long.torrent", args)
        let done = try await HTTP.waitUntilComplete(url2)
        let downloadedAgain = done["downloaded"] as? Int ?? Int.max
        // Pieces verified before the kill are not fetched again; allow for the
        // pieces that completed between the last status poll and the kill.
        let slack = 16 * piece
        #expect(
            downloadedAgain <= size - bufferedAtKill + slack,
            "second run downloaded \(downloadedAgain) of \(size); \(bufferedAtKill) were verified before the kill")
        #expect(downloadedAgain < size)
        let full = try await HTTP.request(url2)
        #expect(full.body == data)
        second.kill(SIGTERM)
        #expect(try await second.waitForExit() == 0)
        // A clean stop leaves fresh resume data and no marker.
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(FileManager.default.fileExists(atPath: cli.home + "/resume/\(seeder.infoHash).resume"))

        // A third run resumes from that data: nothing is downloaded at all.
        let (third, url3) = try await cli.play(dir.path + "/long.torrent", args)
        let again = try await HTTP.waitUntilComplete(url3)
        #expect(again["downloaded"] as? Int == 0)
        third.kill(SIGTERM)
        try await third.waitForExit()
    }

    @Test("stopped cleanly mid-stream, started again with no reader: the whole file downloads, not only the old window")
    func cleanStopForgetsWindow() async throws {
        // The stream planner's piece priorities of the moment (a window, the
        // pieces held while the buffer is short) are in the resume data; kept,
        // they left the restored torrent "finished" on the old window, and the
        // next reader behind them (issue 12 item 7).
        let dir = TempDir()
        let size = 16 << 20
        let data = try Fixtures.writeRandomFile(dir.path + "/data/film.mp4", size: size, seed: 43)
        // Found through a tracker: the daemon started again has no other way.
        let tracker = try await Tracker.start(directory: dir.path)
        try Fixtures.run(
            "/usr/bin/transmission-create",
            ["-o", dir.path + "/film.torrent", "-t", tracker.announceURL, "-s", "256", dir.path + "/data/film.mp4"])
        try await tracker.allow(try torrentInfoHash(dir.path + "/film.torrent"))
        let seeder = try await LibtorrentSeeder.start(
            data: dir.path + "/data/film.mp4", torrentIn: dir.path + "/film.torrent", uploadLimit: 1_000_000)
        let cli = MatineeCLI(home: dir.sub("home"))
        let (first, url) = try await cli.play(dir.path + "/film.torrent", ["--dht-node", "127.0.0.1:1"])
        _ = try await HTTP.request(url, headers: ["Range": "bytes=0-1048575"], timeout: 30)
        first.kill(SIGTERM)
        #expect(try await first.waitForExit() == 0)

        let serve = try cli.start(["serve", "--dht-node", "127.0.0.1:1"])
        defer { serve.kill() }
        let base = try await serve.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }
        var done = 0
        let deadline = ContinuousClock.now + .seconds(90)
        while done < size, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
            let reply = try await HTTP.request(base + "/api/downloads", timeout: 5)
            let rows = (try? JSONSerialization.jsonObject(with: Data(reply.body))) as? [[String: Any]] ?? []
            done = rows.first { $0["infoHash"] as? String == seeder.infoHash }?["done"] as? Int ?? 0
        }
        #expect(done == size, "\(done) of \(size) bytes after the restart")
        // Compared as one Bool: a failing #expect on two 16 MiB arrays
        // computes their difference, which takes minutes.
        let byteExact = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/home/downloads/film.mp4")) == Data(data)
        #expect(byteExact)
    }

    @Test("matinee seed: hashes with progress, prints a magnet link, and an independent client downloads from it")
    func seed() async throws {
        let dir = TempDir()
        let data = try Fixtures.writeRandomFile(dir.path + "/share/Clip (2026).mp4", size: 3 << 20, seed: 51)
        let cli = MatineeCLI(home: dir.sub("home"))
        let (seeder, magnet) = try await cli.seed(dir.path + "/share/Clip (2026).mp4", ["--torrent-out", dir.path + "/clip.torrent"])
        #expect(magnet.contains("xt=urn:btih:"))
        #expect(magnet.contains("xt=urn:btmh:1220"))  // hybrid v1+v2
        #expect(magnet.contains("x.pe=127.0.0.1%3A") || magnet.contains("x.pe=127.0.0.1:"))
        let peer = magnet.components(separatedBy: "x.pe=")[1].components(separatedBy: "&")[0].removingPercentEncoding!
        let leecher = try TestProcess(
            "/usr/bin/python3",
            [
                Fixtures.seederScript, "leech", "--torrent-in", dir.path + "/clip.torrent", "--save", dir.sub("got"), "--peer", peer,
            ], name: "lt leecher")
        let header = try await leecher.waitForLine { line -> [String: Any]? in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        let pieces = header["pieces"] as? Int ?? -1
        _ = try await leecher.waitForLine(timeout: .seconds(60)) { line -> Bool? in
            guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else { return nil }
            return (o["have"] as? Int) == pieces ? true : nil
        }
        let got = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/got/Clip (2026).mp4"))
        #expect(Array(got) == data)
        seeder.kill(SIGINT)
        let status = try await seeder.waitForExit()
        #expect(status == 0, "exit \(status): \(seeder.stderr.suffix(2000))")
        // The original was only read.
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.path + "/share/Clip (2026).mp4")) == Data(data))
    }

    @Test("matinee seed refuses a path that does not exist")
    func seedMissing() async throws {
        let dir = TempDir()
        let r = try await MatineeCLI(home: dir.sub("home")).run(["seed", dir.path + "/nothing-here"])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("matinee: no such file or folder"))
    }
}
