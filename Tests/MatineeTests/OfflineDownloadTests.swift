import Foundation
import TestSupport
import Testing

/// Download for offline (issue 13), as users run Matinee (no --listen, a
/// host whose default routes lead to "the internet" where the channel's
/// publisher and DHT are): a film and a season downloaded from the web UI in
/// the background, then the host's links cut and the daemon restarted, and
/// both play in the browser with no network.
@Suite("Download for offline", .serialized)
struct OfflineDownloadTests {
    @Test(
        "Download on a film and on a season fetches them whole with progress on the title page and in Downloads; with the network cut and the daemon restarted they play"
    )
    func downloadThenPlayOffline() async throws {
        let dir = TempDir()
        let (net, home, gateway, _) = try NetNamespace.hostBehindInternet("net", "home", subnet: 235)
        let dht = try await PrivateDHT.start(count: 6, hosts: [gateway], in: net)
        let film = try makeLibrary(dir.path + "/lib")
        let publisher = MatineeCLI(home: dir.sub("publisher"), in: net)
        let made = try await publisher.run(["channel", "new", "Tiny Films"])
        #expect(made.status == 0, "\(made.stderr)")
        let magnet = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let pub = try publisher.start(["publish", dir.path + "/lib", "--channel", "Tiny Films"] + dht.arguments)
        defer { pub.kill() }
        _ = try await pub.waitForLine(timeout: .seconds(120)) { $0.hasPrefix("magnet:") ? $0 : nil }

        let viewer = MatineeCLI(home: dir.sub("viewer"), in: home)
        var serve = try viewer.start(["serve"] + dht.arguments)
        defer { serve.kill() }
        var base = try await serve.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }
        let added = try await viewer.run(["channel", "add", magnet, "--timeout", "60"] + dht.arguments, timeout: .seconds(120))
        #expect(added.status == 0, "\(added.stderr)")

        let kept = try await runBrowser(
            base: base, artifacts: "ui-offline", titleRef: "tiny-dragon-2021", extra: ["--keep-offline", "little-show-2023"],
            screens: ["1-film-downloaded", "2-season-downloaded", "3-downloads"], on: home)
        #expect(kept["filmButton"] as? String == "⬇ Download", "\(kept)")
        #expect((kept["filmMessage"] as? String)?.hasPrefix("Downloading Tiny Dragon for offline") == true, "\(kept)")
        #expect(kept["filmDone"] as? String == "✓ Downloaded")
        #expect((kept["seasonMessage"] as? String)?.contains("Little Show season 1 for offline (2 episodes)") == true, "\(kept)")
        let episodes = kept["episodeStates"] as? [[String]] ?? []
        #expect(episodes == [["S01E01", "✓ Offline"], ["S01E02", "✓ Offline"], ["S02E01", "⬇"]], "\(episodes)")
        #expect(kept["seasonButtonAfter"] as? [Bool] == [false, true], "season 1's button goes once it is kept")
        #expect((kept["markedWatched"] as? String)?.hasSuffix("✓") == true && kept["markedUnwatched"] != nil, "\(kept)")
        let list = kept["offlineList"] as? [[String]] ?? []
        #expect(list.map { $0[0] } == ["Tiny Dragon", "Little Show S01E01 - Start", "Little Show S01E02 - Middle"], "\(list)")
        #expect(list.allSatisfy { $0[1] == "ready" && $0[2].hasPrefix("ready to play offline") }, "\(list)")
        let reloaded = kept["downloadsReloaded"] as? [Any] ?? []
        #expect(reloaded.first as? String == "#/downloads" && (reloaded.last as? [[String]])?.count == 3, "\(reloaded)")

        // The film's file, whole and as published.
        let saved = try #require(
            FileManager.default.enumerator(atPath: dir.path + "/viewer")?.compactMap { $0 as? String }.first {
                $0.hasSuffix("/Tiny Dragon (2021).mp4")
            })
        let same = (try? Data(contentsOf: URL(fileURLWithPath: dir.path + "/viewer/" + saved))) == Data(film)
        #expect(same, "the kept film differs from the published one")

        // No network, and the daemon started again: they play.
        serve.kill()
        _ = try await serve.waitForExit(timeout: .seconds(30))
        try home.cutOff()
        serve = try viewer.start(["serve"] + dht.arguments)
        base = try await serve.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }
        let offline = try await runBrowser(
            base: base, artifacts: "ui-offline-play", extra: ["--play-offline"], screens: ["4-offline-downloads", "5-offline-playing"],
            on: home)
        let states = offline["offlineList"] as? [[String]] ?? []
        #expect(states.count == 3 && states.allSatisfy { $0[1] == "ready" }, "\(states)")
        let played = offline["played"] as? [[Any]] ?? []
        #expect(played.count == 2, "\(offline)")
        #expect((played.first?.first as? String)?.hasPrefix("Tiny Dragon") == true, "\(played)")
        #expect((played.last?.first as? String)?.contains("S01E02") == true, "\(played)")
        #expect((offline["logs"] as? [String])?.isEmpty == true, "browser errors: \(offline["logs"] ?? "")")
        // Kept items are left by the cache limit (CacheTrimTests) and listed by the API.
        let items = try JSONSerialization.jsonObject(with: Data(try await home.get(base + "/api/offline"))) as? [[String: Any]] ?? []
        #expect(items.compactMap { $0["state"] as? String } == ["ready", "ready", "ready"], "\(items)")
        serve.kill()
        _ = try await serve.waitForExit(timeout: .seconds(30))
    }
}
