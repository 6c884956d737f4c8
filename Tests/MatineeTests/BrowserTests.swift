import Foundation
import TestSupport
import Testing

/// The web UI in a real headless Chromium (Debian's chromium and
/// chromium-driver, driven by selenium from Tests/Fixtures/browser.py),
/// against `serve` following a real channel on a private DHT.
@Suite("Web UI in Chromium", .serialized)
struct BrowserTests {
    @Test(
        "home shows posters; search finds a title; keyboard alone opens it and presses Play; the video plays and seeks; a subtitle track loads; the overlay shows the swarm; catalog markup stays text; after a reload Continue watching resumes it; the channels page shows state, refuses a bad address and removes a channel"
    )
    func browse() async throws {
        let dir = TempDir()
        let dht = try await PrivateDHT.start(count: 8)
        // A real poster, so the home page can show an image.
        _ = try makeLibrary(dir.path + "/lib", filmSeconds: 12)
        try Fixtures.run(
            "/usr/bin/ffmpeg",
            [
                "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=0x2a6f97:s=300x450", "-frames:v", "1",
                dir.path + "/lib/Movies/Tiny Dragon (2021)/poster.jpg",
            ])
        let (pub, address) = try await startPublisher("Browser Films", library: dir.path + "/lib", home: dir.sub("publisher"), dht: dht)

        let viewer = MatineeCLI(home: dir.sub("viewer"))
        let added = try await viewer.run(["channel", "add", address, "--listen", "127.0.0.1:0"] + dht.arguments, timeout: .seconds(120))
        #expect(added.status == 0, "\(added.stderr)")
        let serve = try viewer.start(["serve", "--listen", "127.0.0.1:0"] + dht.arguments)
        let base = try await serve.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }

        let seen = try await runBrowser(base: base, artifacts: "ui", search: "fly", titleRef: "tiny-dragon-2021")
        #expect((seen["homeTiles"] as? Int ?? 0) >= 3, "\(seen)")
        #expect((seen["homePosterImages"] as? Int ?? 0) >= 1)
        #expect((seen["rows"] as? [String])?.contains("Browser Films") == true)
        #expect((seen["searchRefs"] as? [String])?.first == "tiny-dragon-2021")
        #expect(seen["titleName"] as? String == "Tiny Dragon")
        #expect(seen["synopsisText"] as? String == "A <script>alert(1)</script> dragon learns to fly.")
        #expect(seen["synopsisHasElements"] as? Int == 0, "catalog markup became elements")
        #expect(seen["focusOnPlay"] as? Bool == true)
        #expect((seen["currentTime"] as? Double ?? 0) >= 3)
        #expect((seen["afterSeek"] as? Double ?? 0) >= 7)
        let track = seen["track"] as? [String: Any]
        #expect(track?["ready"] as? Int == 2, "the subtitle track did not load: \(track ?? [:])")
        #expect(track?["cues"] as? [String] == ["Hello"])
        #expect((seen["overlay"] as? String)?.contains("buffered") == true)
        let stoppedAt = seen["stoppedAt"] as? Double ?? 0
        #expect((seen["continueRefs"] as? [String]) == ["tiny-dragon-2021"])
        #expect((seen["resumedAt"] as? Double ?? 0) >= stoppedAt - 1.5, "resumed at \(seen["resumedAt"] ?? 0), stopped at \(stoppedAt)")
        let channels = seen["channels"] as? [[String]] ?? []
        #expect(channels.contains(["Browser Films", "ok"]) && channels.contains(["Open Films", "ok"]), "\(channels)")
        #expect((seen["addRefusal"] as? String)?.contains("is not a channel address") == true)
        #expect(seen["channelsAfterRemove"] as? [String] == ["Browser Films"])
        #expect((seen["logs"] as? [String])?.isEmpty == true, "browser errors: \(seen["logs"] ?? "")")
        serve.kill()
        _ = try await serve.waitForExit()
        pub.kill()
        _ = try await pub.waitForExit()
    }

    @Test("a film two channels list: the title page offers each channel's copy, the keyboard picks one, and it plays")
    func twoChannels() async throws {
        let dir = TempDir()
        let dht = try await PrivateDHT.start(count: 8)
        _ = try makeLibrary(dir.path + "/lib", filmSeconds: 8)
        let (pubA, addressA) = try await startPublisher("Films A", library: dir.path + "/lib", home: dir.sub("pub-a"), dht: dht)
        let (pubB, addressB) = try await startPublisher("Films B", library: dir.path + "/lib", home: dir.sub("pub-b"), dht: dht)
        let viewer = MatineeCLI(home: dir.sub("viewer"))
        for address in [addressA, addressB] {
            let added = try await viewer.run(
                ["channel", "add", address, "--listen", "127.0.0.1:0"] + dht.arguments, timeout: .seconds(120))
            #expect(added.status == 0, "\(added.stderr)")
        }
        let serve = try viewer.start(["serve", "--listen", "127.0.0.1:0"] + dht.arguments)
        let base = try await serve.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }
        let seen = try await runBrowser(
            base: base, artifacts: "ui-sources", search: "dragon", titleRef: "", extra: ["--sources"],
            screens: ["1-sources", "2-sources-playing"])
        // One tile for the work, whatever else matches (Open Films' Sintel has a dragon too).
        let names = seen["resultNames"] as? [String] ?? []
        #expect(names.filter { $0.hasPrefix("Tiny Dragon") }.count == 1, "\(names)")
        #expect(seen["sourceShown"] as? Bool == true)
        #expect(Set(seen["sources"] as? [String] ?? []) == ["Films A", "Films B"], "\(seen)")
        let first = seen["firstMeta"] as? String ?? "", second = seen["secondMeta"] as? String ?? ""
        #expect(first.hasSuffix("Films A") != second.hasSuffix("Films A"), "the page switched channels: \(first) / \(second)")
        #expect((seen["currentTime"] as? Double ?? 0) >= 2)
        serve.kill()
        _ = try await serve.waitForExit()
        for p in [pubA, pubB] {
            p.kill()
            _ = try await p.waitForExit()
        }
    }
}
