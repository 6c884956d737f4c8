import Foundation
import TestSupport
import Testing

/// One engine per MATINEE_HOME: commands act through the running daemon,
/// and a second daemon on the same home is refused.
@Suite("One daemon per home", .serialized)
struct OneDaemonTests {
    @Test("play with a daemon running plays through it: the download is the daemon's, and play opens no port of its own")
    func playThroughDaemon() async throws {
        let dir = TempDir()
        let film = try Fixtures.writeRandomFile(dir.path + "/data/through.mkv", size: 1_200_000, seed: 91)
        let seeder = try await LibtorrentSeeder.start(
            data: dir.path + "/data/through.mkv", torrentOut: dir.path + "/through.torrent", pieceSize: 16384)
        let cli = MatineeCLI(home: dir.sub("home"))
        let serve = try cli.start(["serve", "--listen", "127.0.0.1:0", "--dht-node", "127.0.0.1:1"])
        defer { serve.kill() }
        let base = try await serve.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }

        // --list of a magnet: the daemon fetches the metadata (nothing else) and
        // lists the files; playing it afterwards uses the same torrent.
        let listed = try await cli.run(["play", seeder.magnet, "--list", "--peer", seeder.peer])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.hasPrefix("0\t") && listed.stdout.hasSuffix("\tthrough.mkv"), "\(listed.stdout)")
        #expect(listed.stderr.contains("Reading the torrent through the running Matinee"))
        // The same link in upper case, as some sites print it (issue 12).
        let upper = try await cli.run(["play", "MAGNET:?XT=URN:BTIH:" + seeder.infoHash.uppercased(), "--list", "--peer", seeder.peer])
        #expect(upper.status == 0 && upper.stdout == listed.stdout, "\(upper.stderr)")

        let play = try cli.start(["play", dir.path + "/through.torrent", "--peer", seeder.peer])
        defer { play.kill() }
        let url = try await play.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://") ? $0 : nil }
        #expect(url.hasPrefix(base + "/stream/"), "the stream is the daemon's: \(url)")
        #expect(play.stderr.contains("Playing through the running Matinee (\(base))"), "\(play.stderr)")
        #expect(try await HTTP.request(url).body == film)

        // One engine: the download is in the daemon's list, and play holds
        // no listening socket (no engine, no HTTP server of its own).
        let downloads =
            try JSONSerialization.jsonObject(with: Data(try await HTTP.request(base + "/api/downloads").body)) as? [[String: Any]]
        #expect(downloads?.contains { $0["infoHash"] as? String == seeder.infoHash } == true, "\(downloads ?? [])")
        #expect(listeningSockets(of: play.process.processIdentifier).isEmpty)
        #expect(!listeningSockets(of: serve.process.processIdentifier).isEmpty, "the check sees the daemon's sockets")

        // Ctrl-C ends play; the daemon keeps the download.
        play.kill(SIGINT)
        #expect(try await play.waitForExit() == 0)
        let after = try JSONSerialization.jsonObject(with: Data(try await HTTP.request(base + "/api/downloads").body)) as? [[String: Any]]
        #expect(after?.contains { $0["infoHash"] as? String == seeder.infoHash } == true)
        serve.kill()
        #expect(try await serve.waitForExit() == 0)
    }

    @Test(
        "a second daemon on the same home is refused with one line naming the first; seed acts through the first; the home is free once it stops"
    )
    func secondDaemonRefused() async throws {
        let dir = TempDir()
        let cli = MatineeCLI(home: dir.sub("home"))
        let first = try cli.start(["serve", "--listen", "127.0.0.1:0", "--dht-node", "127.0.0.1:1"])
        defer { first.kill() }
        let base = try await first.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }

        let second = try await cli.run(["serve", "--listen", "127.0.0.1:0", "--dht-node", "127.0.0.1:1"])
        #expect(second.status == 1)
        let lines = second.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(second.stderr)")
        #expect(
            second.stderr.contains("already running") && second.stderr.contains("matinee serve, pid \(first.process.processIdentifier)"),
            "\(second.stderr)")
        #expect(second.stdout.isEmpty)
        // search and channel list read through the daemon's API.
        let search = try await cli.run(["search", "sintel"])
        #expect(
            search.status == 0 && search.stdout.hasPrefix("sintel-2010\tSintel (2010)\tmovie\tOpen Films"),
            "\(search.stdout) \(search.stderr)")
        let list = try await cli.run(["channel", "list"])
        #expect(
            list.status == 0 && list.stdout.hasPrefix("Open Films\t") && list.stdout.contains("(bundled with Matinee)"), "\(list.stdout)")
        // --json through the daemon has the same shape as from the index: the
        // bundled channel's sources with their magnet links.
        let json = try await cli.run(["search", "sintel", "--json", "--channel", "Open Films"])
        let groups = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        let entry = (groups?.first?["entries"] as? [[String: Any]])?.first
        #expect(entry?["channel"] as? String == "Open Films" && entry?["id"] as? String == "sintel-2010", "\(json.stdout)")
        let magnet = (entry?["sources"] as? [[String: Any]])?.first?["magnet"] as? String
        #expect(magnet?.hasPrefix("magnet:?xt=urn:btih:") == true, "\(json.stdout)")

        // seed needs the engine: with the daemon running, the daemon shares
        // the file (and lists it with its downloads).
        _ = try Fixtures.writeRandomFile(dir.path + "/shared.bin", size: 40_000, seed: 3)
        let seed = try await cli.run(["seed", dir.path + "/shared.bin"])
        #expect(seed.status == 0, "\(seed.stderr)")
        #expect(seed.stdout.hasPrefix("magnet:?xt=urn:btih:") && seed.stderr.contains("through the running Matinee"), "\(seed.stderr)")
        var state: String?
        let deadline = ContinuousClock.now + .seconds(20)
        repeat {
            let downloads =
                try JSONSerialization.jsonObject(with: Data(try await HTTP.request(base + "/api/downloads").body)) as? [[String: Any]]
            state = downloads?.first { $0["name"] as? String == "shared.bin" }?["state"] as? String
            if state == "seeding" { break }
            try await Task.sleep(for: .milliseconds(200))
        } while ContinuousClock.now < deadline
        #expect(state == "seeding")

        first.kill()
        #expect(try await first.waitForExit() == 0)
        let again = try cli.start(["serve", "--listen", "127.0.0.1:0", "--dht-node", "127.0.0.1:1"])
        defer { again.kill() }
        _ = try await again.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }
        again.kill()
        #expect(try await again.waitForExit() == 0)
    }
}

/// The inodes of the TCP sockets a process listens on and the UDP sockets
/// it has bound, from /proc.
func listeningSockets(of pid: Int32) -> Set<String> {
    let fdDir = "/proc/\(pid)/fd"
    var mine = Set<String>()
    for fd in (try? FileManager.default.contentsOfDirectory(atPath: fdDir)) ?? [] {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: fdDir + "/" + fd), target.hasPrefix("socket:[") {
            mine.insert(String(target.dropFirst("socket:[".count).dropLast()))
        }
    }
    var bound = Set<String>()
    for table in ["tcp", "tcp6", "udp", "udp6"] {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/net/\(table)", encoding: .utf8) else { continue }
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count > 9 else { continue }
            // TCP: state 0A is LISTEN; UDP: 07 is a bound, unconnected socket.
            if (table.hasPrefix("tcp") && f[3] == "0A") || (table.hasPrefix("udp") && f[3] == "07") { bound.insert(String(f[9])) }
        }
    }
    return mine.intersection(bound)
}
