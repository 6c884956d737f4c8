import Foundation
import TestSupport
import Testing

/// Every bad input ends with one clear line on stderr and a non-zero exit,
/// never a crash or a trace, and nothing written outside the given folders.
@Suite("Bad input", .serialized)
struct BadInputTests {
    func expectOneLineError(
        _ r: (status: Int32, stdout: String, stderr: String), containing: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(r.status == 1, "exit status", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        #expect(lines.count == 1, "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(lines.first?.hasPrefix("matinee: ") == true, "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(containing), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("0x"), sourceLocation: sourceLocation)
        #expect(r.stdout.isEmpty, sourceLocation: sourceLocation)
    }

    func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// A v1 torrent whose one file's path tries to leave the download folder.
    func hostileTorrent(_ path: [String]) -> String {
        let p = path.map { "\($0.utf8.count):\($0)" }.joined()
        return "d4:infod5:filesld6:lengthi10e4:pathl\(p)eee4:name4:evil12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAAee"
    }

    @Test("a piece layer that does not hash to its file's root: play --list and play refuse it alike, naming both files")
    func badPieceLayer() async throws {
        let dir = TempDir()
        let cli = MatineeCLI(home: dir.sub("home"))
        _ = try Fixtures.writeRandomFile(dir.path + "/data/film.mp4", size: 3 << 20, seed: 4)
        let seeder = try await LibtorrentSeeder.start(
            data: dir.path + "/data/film.mp4", torrentOut: dir.path + "/good.torrent", pieceSize: 256 << 10)
        seeder.process.kill()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.path + "/good.torrent")))
        // "12:piece layers" d 32:<root> <n>:<hashes>: one bit of the first hash flipped.
        let key = Array("12:piece layersd32:".utf8)
        let at = try #require((0...(bytes.count - key.count)).first { Array(bytes[$0..<$0 + key.count]) == key })
        var p = at + key.count + 32
        while bytes[p] != UInt8(ascii: ":") { p += 1 }
        bytes[p + 1] ^= 1
        let bad = dir.path + "/bad.torrent"
        try Data(bytes).write(to: URL(fileURLWithPath: bad))
        let args = ["--listen", "127.0.0.1:0", "--dht-node", "127.0.0.1:1", "--download-dir", dir.sub("dl")]
        for extra in [["--list"], []] {
            let r = try await cli.run(["play", bad] + extra + args)
            expectOneLineError(r, containing: "bad.torrent")
            #expect(r.stderr.contains("piece layer is invalid") && r.stderr.contains("film.mp4"), "\(r.stderr)")
        }
        // The same torrent unchanged is fine.
        let ok = try await cli.run(["play", dir.path + "/good.torrent", "--list"] + args)
        #expect(ok.status == 0 && ok.stdout.contains("film.mp4"), "\(ok.stderr)")
    }

    @Test("broken sources: magnet, garbage and truncated .torrent, hostile paths, missing file")
    func brokenSources() async throws {
        let dir = TempDir()
        let cli = MatineeCLI(home: dir.sub("home"))
        let dl = dir.sub("dl")
        let args = ["--download-dir", dl, "--listen", "127.0.0.1:0", "--dht-node", "127.0.0.1:1"]

        expectOneLineError(try await cli.run(["play", "magnet:?xt=urn:btih:nothex"] + args), containing: "magnet")
        expectOneLineError(try await cli.run(["play", "magnet:?dn=no-hash"] + args), containing: "magnet")

        try Data(Fixtures.bytes(count: 5000, seed: 9)).write(to: URL(fileURLWithPath: dir.path + "/garbage.torrent"))
        expectOneLineError(try await cli.run(["play", dir.path + "/garbage.torrent"] + args), containing: "garbage.torrent")

        try Fixtures.writeRandomFile(dir.path + "/data/x.bin", size: 100_000, seed: 1)
        try Fixtures.run("/usr/bin/transmission-create", ["-o", dir.path + "/good.torrent", dir.path + "/data/x.bin"])
        let good = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/good.torrent"))
        try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: dir.path + "/truncated.torrent"))
        expectOneLineError(try await cli.run(["play", dir.path + "/truncated.torrent"] + args), containing: "truncated.torrent")

        for (name, path) in [
            ("dotdot", ["..", "..", "escape.txt"]), ("absolute", ["/etc", "passwd"]), ("inner", ["a", "..", "..", "b"]),
        ] {
            try write(hostileTorrent(path), to: dir.path + "/\(name).torrent")
            expectOneLineError(try await cli.run(["play", dir.path + "/\(name).torrent"] + args), containing: "leave the download folder")
        }

        expectOneLineError(try await cli.run(["play", dir.path + "/nope.torrent"] + args), containing: "not a magnet link")
        expectOneLineError(try await cli.run(["play", dir.path] + args), containing: "folder")

        // Nothing was written anywhere but the folders we gave.
        let top = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
        #expect(
            top == [
                "home", "dl", "data", "garbage.torrent", "good.torrent", "truncated.torrent", "dotdot.torrent", "absolute.torrent",
                "inner.torrent",
            ])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dl).isEmpty)
    }

    @Test("a file index or name that does not exist")
    func missingFile() async throws {
        let dir = TempDir()
        try Fixtures.writeRandomFile(dir.path + "/data/x.mp4", size: 100_000, seed: 1)
        try Fixtures.run("/usr/bin/transmission-create", ["-o", dir.path + "/x.torrent", dir.path + "/data/x.mp4"])
        let cli = MatineeCLI(home: dir.sub("home"))
        let args = ["--listen", "127.0.0.1:0", "--dht-node", "127.0.0.1:1", "--download-dir", dir.sub("dl")]
        expectOneLineError(try await cli.run(["play", dir.path + "/x.torrent", "--file", "7"] + args), containing: "no file 7")
        expectOneLineError(
            try await cli.run(["play", dir.path + "/x.torrent", "--file", "other.mkv"] + args), containing: "no file named \"other.mkv\"")
    }

    @Test("an info-hash nobody seeds gives up after --timeout")
    func deadSwarm() async throws {
        let dir = TempDir()
        let cli = MatineeCLI(home: dir.sub("home"))
        let r = try await cli.run([
            "play", "0123456789abcdef0123456789abcdef01234567", "--timeout", "3",
            "--listen", "127.0.0.1:0", "--dht-node", "127.0.0.1:1",
        ])
        #expect(r.status == 1)
        #expect(r.stderr.contains("Looking for peers"))
        #expect(r.stderr.contains("matinee: no peers found for 0123456789abcdef0123456789abcdef01234567 within 3 s"))
        #expect(!r.stderr.contains("Fatal"))
    }

    @Test("a peer port or HTTP port in use, and a download folder that cannot be written")
    func environment() async throws {
        let dir = TempDir()
        try Fixtures.writeRandomFile(dir.path + "/data/x.mp4", size: 100_000, seed: 1)
        try Fixtures.run("/usr/bin/transmission-create", ["-o", dir.path + "/x.torrent", dir.path + "/data/x.mp4"])
        let cli = MatineeCLI(home: dir.sub("home"))
        // Something else holds a port.
        let other = try await Ports.hold()
        expectOneLineError(
            try await cli.run(["play", dir.path + "/x.torrent", "--listen", "127.0.0.1:\(other.port)", "--dht-node", "127.0.0.1:1"]),
            containing: "cannot listen on")
        let seeder = try await LibtorrentSeeder.start(data: dir.path + "/data/x.mp4", torrentIn: dir.path + "/x.torrent")
        expectOneLineError(
            try await cli.run([
                "play", dir.path + "/x.torrent", "--peer", seeder.peer, "--http-port", String(other.port),
                "--listen", "127.0.0.1:0", "--dht-node", "127.0.0.1:1",
            ]),
            containing: "the port is in use")
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir.path + "/a-file"))
        expectOneLineError(
            try await cli.run([
                "play", dir.path + "/x.torrent", "--download-dir", dir.path + "/a-file/sub",
                "--listen", "127.0.0.1:0", "--dht-node", "127.0.0.1:1",
            ]),
            containing: "cannot create the download folder")
    }

    @Test("--help explains the commands and their options")
    func help() async throws {
        let cli = MatineeCLI(home: TempDir().path)
        let root = try await cli.run(["--help"])
        #expect(root.status == 0)
        #expect(root.stdout.contains("play") && root.stdout.contains("seed") && root.stdout.contains("MATINEE_HOME"))
        let play = try await cli.run(["play", "--help"])
        for option in [
            "--file", "--list", "--player", "--http-port", "--download-dir", "--listen", "--dht-node", "--peer", "--no-seed", "--timeout",
            "--require-encryption", "--upload-limit", "Examples",
        ] {
            #expect(play.stdout.contains(option), "play --help lacks \(option)")
        }
        let usage = try await cli.run(["play", "x", "--player", "winamp"])
        #expect(usage.status != 0)
        #expect(usage.stderr.contains("--player takes mpv or vlc"))
        // Each default said once, as people write it (issue 13: "(default:
        // any free port). (default: 0)", "120.0" minutes).
        for command in [["open"], ["play"], ["serve"], ["seed"], ["demo"]] {
            let text = try await cli.run(command + ["--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(!text.contains("(default: 0)") && !text.contains(".0)") && !text.contains("). (default"), "\(command): \(text)")
        }
        let serve = try await cli.run(["serve", "--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(serve.contains("(default: 2)") && serve.contains("(default: 120)") && serve.contains("default: 8)"), "\(serve)")
        let notANumber = try await cli.run(["serve", "--http-port", "abc"])
        #expect(notANumber.status != 0 && notANumber.stderr.contains("not a whole number"), "\(notANumber.stderr)")
    }

    @Test("an unknown command says so; play with words, not an id, suggests the catalog's ids")
    func unknownWords() async throws {
        let cli = MatineeCLI(home: TempDir().path)
        let unknown = try await cli.run(["frobnicate"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.hasPrefix("matinee: there is no command \"frobnicate\""), "\(unknown.stderr)")
        #expect(!unknown.stderr.contains("Usage: matinee open"))
        // The bundled channel lists Sintel as sintel-2010.
        let words = try await cli.run(["play", "sintel", "--dht-node", "127.0.0.1:1"])
        #expect(words.status == 1)
        #expect(words.stderr.contains("\"sintel\" is not a title id; the catalog has sintel-2010 (Sintel, 2010)"), "\(words.stderr)")
        #expect(words.stderr.split(separator: "\n").count == 1, "\(words.stderr)")
    }

    @Test("updates and releases: no channel, a garbage channel, a missing key, a wrong passphrase, a bundle of another version")
    func releases() async throws {
        let dir = TempDir()
        let cli = MatineeCLI(home: dir.sub("home"))
        expectOneLineError(try await cli.run(["update", "--check", "--dht-node", "127.0.0.1:1"]), containing: "follows no release channel")
        let garbage = try TestProcess(
            Fixtures.matineeBinary, ["update", "--check", "--dht-node", "127.0.0.1:1"],
            environment: ["MATINEE_HOME": cli.home, "MATINEE_RELEASE_CHANNEL": "magnet:?xs=urn:btpk:nothex"])
        _ = try await garbage.waitForExit()
        expectOneLineError(
            (garbage.process.terminationStatus, garbage.lines.joined(), garbage.stderr), containing: "MATINEE_RELEASE_CHANNEL")
        expectOneLineError(try await cli.run(["update", "--rollback"]), containing: "not an installed bundle")
        let pass = dir.path + "/pass"
        try write("a good passphrase\n", to: pass)
        let bundle = dir.path + "/matinee-0.2.0-linux-x86_64.tar.gz"
        try write("not a bundle", to: bundle)
        expectOneLineError(
            try await cli.run(["release", "publish", bundle, "--key", "nobody", "--version", "0.2.0", "--passphrase-file", pass]),
            containing: "matinee release new")
        let made = try await cli.run(["release", "new", "k", "--passphrase-file", pass])
        #expect(made.status == 0 && made.stdout.hasPrefix("magnet:?xs=urn:btpk:"), "\(made.stderr)")
        try write("another passphrase\n", to: dir.path + "/wrong")
        expectOneLineError(
            try await cli.run(["release", "publish", bundle, "--key", "k", "--version", "0.2.0", "--passphrase-file", dir.path + "/wrong"]),
            containing: "wrong passphrase")
        expectOneLineError(
            try await cli.run(["release", "publish", bundle, "--key", "k", "--version", "0.2.0", "--passphrase-file", pass]),
            containing: "not a .tar.gz bundle")
        let usage = try await cli.run(["release", "publish", bundle, "--key", "k", "--version", "two"])
        #expect(usage.status != 0 && usage.stderr.contains("--version takes X.Y.Z"))
        #expect(!FileManager.default.fileExists(atPath: cli.home + "/releases/k/state.json"), "nothing was published")
    }
}
