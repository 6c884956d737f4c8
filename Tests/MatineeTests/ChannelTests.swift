import Foundation
import TestSupport
import Testing

/// A library in Plex/Jellyfin naming: one film in two qualities (poster,
/// subtitles, metadata with markup in it), one series of two seasons, and a
/// stray file. The videos are clips made with ffmpeg. Returns the main
/// film's bytes.
func makeLibrary(_ root: String, filmSeconds: Int = 4) throws -> [UInt8] {
    let film = root + "/Movies/Tiny Dragon (2021)"
    try Fixtures.makeVideo(film + "/Tiny Dragon (2021).mp4", seconds: filmSeconds, faststart: true, size: "320x240")
    let data = Array(try Data(contentsOf: URL(fileURLWithPath: film + "/Tiny Dragon (2021).mp4")))
    try Fixtures.makeVideo(film + "/Tiny Dragon (2021) - 480p.mp4", seconds: 4, faststart: true, size: "160x120")
    try Fixtures.writeRandomFile(film + "/poster.jpg", size: 2000, seed: 93)
    try "1\n00:00:00,000 --> 00:00:02,000\nHello\n".write(toFile: film + "/Tiny Dragon (2021).en.srt", atomically: true, encoding: .utf8)
    try #"{"synopsis": "A <script>alert(1)</script> dragon learns to fly.", "genres": ["Animation", "Family"], "license": "CC BY 4.0"}"#
        .write(toFile: film + "/title.json", atomically: true, encoding: .utf8)
    let show = root + "/Shows/Little Show (2023)"
    try Fixtures.makeVideo(show + "/Season 01/Little Show - S01E01 - Start.mp4", seconds: 2, faststart: true, size: "160x120")
    try Fixtures.makeVideo(show + "/Season 01/Little Show - S01E02 - Middle.mp4", seconds: 2, faststart: true, size: "160x120")
    try Fixtures.makeVideo(show + "/Season 02/Little Show - S02E01 - End.mp4", seconds: 2, faststart: true, size: "160x120")
    try "stray".write(toFile: root + "/notes.txt", atomically: true, encoding: .utf8)
    return data
}

/// A publisher with a new channel key, running `publish LIBRARY` on the
/// private DHT; returns once the DHT took the channel.
func startPublisher(
    _ name: String, library: String, home: String, dht: PrivateDHT, extra: [String] = []
) async throws -> (process: TestProcess, address: String) {
    let cli = MatineeCLI(home: home)
    let made = try await cli.run(["channel", "new", name])
    guard made.status == 0 else { throw TestFailure("channel new failed: \(made.stderr)") }
    let address = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    let p = try cli.start(["publish", library, "--channel", name, "--listen", "127.0.0.1:0"] + extra + dht.arguments)
    _ = try await p.waitForLine(timeout: .seconds(90)) { $0.hasPrefix("magnet:") ? $0 : nil }
    return (p, address)
}

/// The JSON lines a process printed last, as an object.
func lastJSON(_ p: TestProcess) -> [String: Any]? {
    p.lines.last.flatMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
}

/// Tests/Fixtures/browser.py against `base`: headless Chromium through the UI,
/// screenshots into .build/test-artifacts/NAME. Returns what it saw.
func runBrowser(
    base: String, artifacts: String, search: String? = nil, titleRef: String? = nil, extra: [String] = [],
    screens: [String] = ["1-home", "2-search", "3-title", "4-player", "5-continue", "6-channels", "9-phone"],
    on host: NetNamespace? = nil
) async throws -> [String: Any] {
    let shots = Fixtures.packageRoot + "/.build/test-artifacts/" + artifacts
    try? FileManager.default.removeItem(atPath: shots)
    try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
    let args =
        [Fixtures.packageRoot + "/Tests/Fixtures/browser.py", "--url", base + "/", "--shots", shots]
        + (search.map { ["--search", $0] } ?? []) + (titleRef.map { ["--title-ref", $0] } ?? []) + extra
    let browser =
        try host?.start("/usr/bin/python3", args, name: "chromium") ?? TestProcess("/usr/bin/python3", args, name: "chromium")
    let status = try await browser.waitForExit(timeout: .seconds(300))
    guard status == 0, let seen = lastJSON(browser) else {
        throw TestFailure("the browser run failed: \(browser.stderr); saw \(lastJSON(browser) ?? [:])")
    }
    for name in screens where !FileManager.default.fileExists(atPath: "\(shots)/\(name).png") {
        throw TestFailure("no screenshot \(name).png")
    }
    return seen
}

@Suite("Channels over a private DHT", .serialized)
struct ChannelTests {
    @Test("publish a library; a viewer adds the channel, searches, plays a title; a new version adds a film without re-hashing the others")
    func publishAndSubscribe() async throws {
        let dir = TempDir()
        let dht = try await PrivateDHT.start(count: 8)
        let film = try makeLibrary(dir.path + "/lib")
        let publisher = MatineeCLI(home: dir.sub("publisher"))
        let viewer = MatineeCLI(home: dir.sub("viewer"))

        let made = try await publisher.run(["channel", "new", "Tiny Films"])
        #expect(made.status == 0)
        let address = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(address.hasPrefix("magnet:?xs=urn:btpk:"))
        #expect(address.count == 84)
        let keyFile = try #require(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/publisher/keys").first)
        let mode = try FileManager.default.attributesOfItem(atPath: dir.path + "/publisher/keys/" + keyFile)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        var pub = try publisher.start(["publish", dir.path + "/lib", "--channel", "Tiny Films", "--listen", "127.0.0.1:0"] + dht.arguments)
        let published = try await pub.waitForLine(timeout: .seconds(90)) { $0.hasPrefix("magnet:") ? $0 : nil }
        #expect(published == address)
        #expect(pub.stderr.contains("notes.txt"), "the stray file is not reported")
        #expect(pub.stderr.contains("2 titles (3 episodes)"))

        let added = try await viewer.run(["channel", "add", address, "--listen", "127.0.0.1:0"] + dht.arguments, timeout: .seconds(120))
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stderr.contains("Tiny Films: version"))
        let list = try await viewer.run(["channel", "list"])
        #expect(list.stdout.contains("Tiny Films\t2 titles"))

        // A word of the synopsis only.
        let found = try await viewer.run(["search", "fly"])
        let ids: [String] = found.stdout.split(separator: "\n").map { line in String(line.split(separator: "\t")[0]) }
        #expect(ids == ["tiny-dragon-2021"])
        let series = try await viewer.run(["search", "--kind", "series"])
        #expect(series.stdout.hasPrefix("little-show-2023\tLittle Show (2023)\tseries, 2 seasons"))
        let json = try await viewer.run(["search", "tiny", "dragon", "--json"])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let entry = try #require((parsed.first?["entries"] as? [[String: Any]])?.first)
        #expect(entry["synopsis"] as? String == "A <script>alert(1)</script> dragon learns to fly.", "markup must be kept as text")
        let sources = try #require(entry["sources"] as? [[String: Any]])
        let qualities: [String?] = sources.map { $0["quality"] as? String }
        #expect(qualities == [nil, "480p"])
        #expect((sources[0]["magnet"] as? String)?.hasPrefix("magnet:?xt=urn:btih:") == true)
        #expect(sources[0]["file"] as? Int == 0)

        // Play by the id search printed: streamed from the publisher's seed.
        let (play, url) = try await viewer.play("tiny-dragon-2021", dht.arguments)
        #expect(try await HTTP.request(url, timeout: 60).body == film)
        play.kill()
        _ = try await play.waitForExit()

        // A new film; the publisher publishes again.
        let second = dir.path + "/lib/Movies/Second Wind (2024)"
        try Fixtures.writeRandomFile(second + "/Second Wind (2024).mp4", size: 64 << 10, seed: 97)
        pub.kill()
        #expect(try await pub.waitForExit() == 0)
        pub = try publisher.start(["publish", dir.path + "/lib", "--channel", "Tiny Films", "--listen", "127.0.0.1:0"] + dht.arguments)
        _ = try await pub.waitForLine(timeout: .seconds(90)) { $0.hasPrefix("magnet:") ? $0 : nil }
        #expect(pub.stderr.contains("(1 hashed now, 5 unchanged)"), "\(pub.stderr)")

        let refreshed = try await viewer.run(["channel", "refresh", "--listen", "127.0.0.1:0"] + dht.arguments, timeout: .seconds(120))
        #expect(refreshed.status == 0, "\(refreshed.stderr)")
        #expect(try await viewer.run(["channel", "list"]).stdout.contains("Tiny Films\t3 titles"))
        #expect(try await viewer.run(["search", "wind"]).stdout.hasPrefix("second-wind-2024\t"))
        let again = try await viewer.run(
            ["channel", "refresh", "Tiny Films", "--listen", "127.0.0.1:0"] + dht.arguments, timeout: .seconds(120))
        #expect(again.stderr.contains("up to date"))

        #expect(try await viewer.run(["channel", "remove", "tiny films"]).status == 0)
        #expect(try await viewer.run(["search", "tiny", "dragon"]).stdout.isEmpty)
        pub.kill()
        _ = try await pub.waitForExit()
    }

    @Test("serve keeps a channel reachable while its publisher is offline: it seeds the catalog and puts the pointer back")
    func subscriberKeepsChannelAlive() async throws {
        let dir = TempDir()
        let dht = try await PrivateDHT.start(count: 8)
        let film = try makeLibrary(dir.path + "/lib")
        let (pub, address) = try await startPublisher("Kept Alive", library: dir.path + "/lib", home: dir.sub("publisher"), dht: dht)

        // A subscriber follows the channel and watches the film.
        let subscriber = MatineeCLI(home: dir.sub("subscriber"))
        let added = try await subscriber.run(
            ["channel", "add", address, "--listen", "127.0.0.1:0"] + dht.arguments, timeout: .seconds(120))
        #expect(added.status == 0, "\(added.stderr)")
        let (watch, watchURL) = try await subscriber.play("tiny-dragon-2021", dht.arguments)
        _ = try await HTTP.waitUntilComplete(watchURL)
        watch.kill()
        #expect(try await watch.waitForExit() == 0)

        // It runs serve; the publisher goes away.
        let serve = try subscriber.start(["serve", "--republish-minutes", "0.05", "--listen", "127.0.0.1:0"] + dht.arguments)
        let base = try await serve.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }
        for _ in 0..<50 where !serve.stderr.contains("channel catalog") { try await Task.sleep(for: .milliseconds(100)) }
        #expect(serve.stderr.contains("seeding 1 download and 1 channel catalog;"), "\(serve.stderr)")
        pub.kill()
        _ = try await pub.waitForExit()
        // The subscriber puts the pointer back (every 3 s here).
        let deadline = ContinuousClock.now + .seconds(60)
        while !serve.stderr.contains("pointer (version"), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(200)) }
        let putLine = serve.stderr.split(separator: "\n").first { $0.contains("pointer (version") }.map(String.init) ?? ""
        #expect(putLine.hasPrefix("Put Kept Alive's pointer (version"), "\(serve.stderr)")
        #expect(!putLine.hasSuffix(": 0 nodes took it"))

        // A third subscriber joins later: the catalog and the film come from
        // the subscriber alone.
        let late = MatineeCLI(home: dir.sub("late"))
        let joined = try await late.run(["channel", "add", address, "--listen", "127.0.0.1:0"] + dht.arguments, timeout: .seconds(120))
        #expect(joined.status == 0, "\(joined.stderr)")
        #expect(try await late.run(["search", "fly"]).stdout.hasPrefix("tiny-dragon-2021\t"))
        let (play, url) = try await late.play("tiny-dragon-2021", dht.arguments)
        #expect(try await HTTP.request(url, timeout: 60).body == film)
        play.kill()
        _ = try await play.waitForExit()
        // serve answers on its HTTP port (the same routes as play).
        #expect(try await HTTP.request(base + "/api/streams").status == 200)
        serve.kill()
        #expect(try await serve.waitForExit() == 0)
    }

    /// docs/threat_model.md: a stranger's catalog must not make this machine
    /// contact a host of its choosing. Its torrents name a tracker and a web
    /// seed (publish --tracker, --web-seed); the fixture server is both and
    /// logs every request.
    @Test(
        "a channel's torrents name a tracker and an HTTP mirror: neither is contacted by default; with Settings allowing it and every peer gone, the title plays from the mirror"
    )
    func strangersHosts() async throws {
        let dir = TempDir()
        let dht = try await PrivateDHT.start(count: 8)
        let film = try makeLibrary(dir.path + "/lib")
        let small = Array(
            try Data(contentsOf: URL(fileURLWithPath: dir.path + "/lib/Movies/Tiny Dragon (2021)/Tiny Dragon (2021) - 480p.mp4")))
        let mirror = try TestProcess(
            "/usr/bin/python3", [Fixtures.packageRoot + "/Tests/Fixtures/web_seed.py", "--root", dir.path + "/lib"], name: "web seed")
        let port: Int = try await mirror.waitForLine { line in
            ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any])?["port"] as? Int
        }
        let (pub, address) = try await startPublisher(
            "Mirrored", library: dir.path + "/lib", home: dir.sub("publisher"), dht: dht,
            extra: ["--web-seed", "http://127.0.0.1:\(port)/", "--tracker", "http://127.0.0.1:\(port)/announce"])
        let viewer = MatineeCLI(home: dir.sub("viewer"))
        let added = try await viewer.run(["channel", "add", address, "--listen", "127.0.0.1:0"] + dht.arguments, timeout: .seconds(120))
        #expect(added.status == 0, "\(added.stderr)")

        // By default the film comes from its publisher, found through the DHT.
        // (The publisher announces to its own tracker: the viewer's requests
        // are told apart by its port.)
        let viewerPort = Ports.free()
        var play = try viewer.start(["play", "tiny-dragon-2021", "--listen", "127.0.0.1:\(viewerPort)"] + dht.arguments)
        var url = try await play.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://") ? $0 : nil }
        #expect(try await HTTP.request(url, timeout: 60).body == film)
        play.kill()
        _ = try await play.waitForExit()
        let asked = mirror.stderr.split(separator: "\n").filter { $0.hasPrefix("GET /Movies") || $0.contains("port=\(viewerPort)&") }
        #expect(asked.isEmpty, "the viewer contacted the tracker or the mirror: \(asked)")

        // Settings let channels name hosts; the publisher is gone.
        pub.kill()
        _ = try await pub.waitForExit()
        try #"{"downloadDir": "\#(viewer.home)/downloads", "catalogHosts": true}"#
            .write(toFile: viewer.home + "/settings.json", atomically: true, encoding: .utf8)
        play = try viewer.start(["play", "tiny-dragon-2021", "--quality", "480p", "--listen", "127.0.0.1:\(viewerPort)"] + dht.arguments)
        url = try await play.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://") ? $0 : nil }
        #expect(try await HTTP.request(url, timeout: 60).body == small)
        #expect(
            mirror.stderr.contains("GET /Movies/Tiny%20Dragon%20%282021%29/Tiny%20Dragon%20%282021%29%20-%20480p.mp4")
                || mirror.stderr.contains("GET /Movies/Tiny%20Dragon%20(2021)/Tiny%20Dragon%20(2021)%20-%20480p.mp4"), "\(mirror.stderr)")
        #expect(mirror.stderr.contains("port=\(viewerPort)&"), "the viewer did not ask the tracker: \(mirror.stderr)")
        play.kill()
        _ = try await play.waitForExit()
    }

    /// Anyone can publish under any name: a stranger's "Open Films", two
    /// channels both called "Tiny Films".
    @Test(
        "look-alike channels: names that do not tell channels apart carry the start of the address; a name that fits two channels is refused"
    )
    func lookAlikes() async throws {
        let dir = TempDir()
        let dht = try await PrivateDHT.start(count: 6)
        let names = ["Tiny Films", "Tiny Films", "Open Films"]
        for i in names.indices {
            try Fixtures.makeVideo(
                dir.path + "/lib\(i)/Movies/Film \(i) (2020)/Film \(i) (2020).mp4", seconds: 1, faststart: true, size: "160x120")
        }
        let publishers = try await withThrowingTaskGroup(of: (TestProcess, String).self) { group in
            for (i, name) in names.enumerated() {
                group.addTask { try await startPublisher(name, library: dir.path + "/lib\(i)", home: dir.sub("publisher\(i)"), dht: dht) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        defer { publishers.forEach { $0.0.kill() } }
        let viewer = MatineeCLI(home: dir.sub("viewer"))
        for (_, a) in publishers {
            let added = try await viewer.run(["channel", "add", a, "--listen", "127.0.0.1:0"] + dht.arguments, timeout: .seconds(120))
            #expect(added.status == 0, "\(added.stderr)")
        }
        // name, titles, version, status, address (matinee:<base32>)
        let rows = try await viewer.run(["channel", "list"]).stdout.split(separator: "\n").map {
            $0.split(separator: "\t").map(String.init)
        }
        let shown = rows.map { r in r[0] }
        for r in rows where r[4].hasPrefix("matinee:") {
            #expect(r[0].hasSuffix(" (\(r[4].dropFirst("matinee:".count).prefix(8)))"), "\(r)")
        }
        #expect(shown.filter { $0.hasPrefix("Tiny Films (") }.count == 2, "\(shown)")
        #expect(shown.filter { $0.hasPrefix("Open Films (") }.count == 1 && shown.contains("Open Films"), "\(shown)")
        let tiny = try #require(shown.first { $0.hasPrefix("Tiny Films (") })
        let short2 = try #require(shown.first { $0.hasPrefix("Open Films (") })

        let ambiguous = try await viewer.run(["channel", "refresh", "tiny films", "--listen", "127.0.0.1:0"] + dht.arguments)
        #expect(ambiguous.status == 1)
        #expect(
            ambiguous.stderr.hasPrefix("matinee: 2 channels are named \"tiny films\": name one by its address (matinee:"),
            "\(ambiguous.stderr)")
        #expect(ambiguous.stderr.split(separator: "\n").count == 1)
        let search = try await viewer.run(["search", "--channel", "Tiny Films"])
        #expect(search.status == 1 && search.stderr.contains("2 channels are named"))
        let one = try await viewer.run(["search", "--channel", tiny])
        #expect(
            one.status == 0 && one.stdout.split(separator: "\n").count == 1 && one.stdout.hasPrefix("film-"), "\(one.stdout) \(one.stderr)")

        // "Open Films" is the bundled channel; the stranger keeps its mark after it is gone.
        #expect(try await viewer.run(["channel", "remove", "Open Films"]).status == 0)
        let after = try await viewer.run(["channel", "list"]).stdout
        #expect(after.contains(short2 + "\t1 title\t") && !after.contains("(bundled with Matinee)"), "\(after)")
    }

    @Test("a channel nobody holds: one line, exit 1, nothing kept; bad addresses and keys are refused")
    func refusals() async throws {
        let dir = TempDir()
        let dht = try await PrivateDHT.start(count: 3)
        let viewer = MatineeCLI(home: dir.sub("viewer"))
        let nobody = "magnet:?xs=urn:btpk:" + String(repeating: "5a", count: 32)
        let r = try await viewer.run(
            ["channel", "add", nobody, "--timeout", "10", "--listen", "127.0.0.1:0"] + dht.arguments, timeout: .seconds(90))
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("matinee: channel matinee:") && r.stderr.contains("was not found on the DHT"))
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        // Only the channel bundled with Matinee is there.
        #expect(try await viewer.run(["channel", "list"]).stdout == "Open Films\t4 titles\tversion 2\tok\t(bundled with Matinee)")

        let bad = try await viewer.run(["channel", "add", "magnet:?xt=urn:btih:0123"])
        #expect(bad.status == 1 && bad.stderr.contains("is not a channel address"))

        let publisher = MatineeCLI(home: dir.sub("publisher"))
        #expect(try await publisher.run(["channel", "new", "Leaky"]).status == 0)
        let keys = dir.path + "/publisher/keys"
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: keys).first)
        chmod(keys + "/" + file, 0o644)
        try FileManager.default.createDirectory(atPath: dir.path + "/lib/Movies/A (2000)", withIntermediateDirectories: true)
        try Fixtures.writeRandomFile(dir.path + "/lib/Movies/A (2000)/A (2000).mp4", size: 1000, seed: 1)
        let leaky = try await publisher.run(["publish", dir.path + "/lib", "--channel", "Leaky"])
        #expect(leaky.status == 1)
        #expect(leaky.stderr.contains("can be read by others") && leaky.stderr.contains("chmod 600"))
        let missing = try await publisher.run(["publish", dir.path + "/lib", "--channel", "Nope"])
        #expect(missing.status == 1 && missing.stderr.contains("no channel key named \"Nope\""))
        let empty = dir.sub("empty-lib")
        chmod(keys + "/" + file, 0o600)
        let nothing = try await publisher.run(["publish", empty, "--channel", "Leaky"])
        #expect(nothing.status == 1 && nothing.stderr.contains("nothing to publish"))
    }
}
