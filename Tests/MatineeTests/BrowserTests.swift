import Foundation
import Testing
import TestSupport

/// The web UI in a real headless Chromium (Debian's chromium and
/// chromium-driver, driven by selenium from Tests/Fixtures/browser.py),
/// against `serve` following a real channel on a private DHT.
@Suite("Web UI in Chromium", .serialized)
struct BrowserTests {
    @Test("home shows posters; search finds a title; keyboard alone opens it and presses Play; the video plays and seeks; a subtitle track loads; the overlay shows the swarm; catalog markup stays text; after a reload Continue watching resumes it")
    func browse() async throws {
        let dir = TempDir()
        let dht = try await PrivateDHT.start(count: 8)
        // A real poster, so the home page can show an image.
        _ = try makeLibrary(dir.path + "/lib", filmSeconds: 12)
        try Fixtures.run("/usr/bin/ffmpeg", [
            "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=0x2a6f97:s=300x450", "-frames:v", "1",
            dir.path + "/lib/Movies/Tiny Dragon (2021)/poster.jpg",
        ])
        let publisher = MatineeCLI(home: dir.sub("publisher"))
        let address = try await publisher.run(["channel", "new", "Browser Films"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let pub = try publisher.start(["publish", dir.path + "/lib", "--channel", "Browser Films", "--listen", "127.0.0.1:0"] + dht.arguments)
        _ = try await pub.waitForLine(timeout: .seconds(90)) { $0.hasPrefix("magnet:") ? $0 : nil }

        let viewer = MatineeCLI(home: dir.sub("viewer"))
        let added = try await viewer.run(["channel", "add", address, "--listen", "127.0.0.1:0"] + dht.arguments, timeout: .seconds(120))
        #expect(added.status == 0, "\(added.stderr)")
        let serve = try viewer.start(["serve", "--listen", "127.0.0.1:0"] + dht.arguments)
        let base = try await serve.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }

        let shots = Fixtures.packageRoot + "/.build/test-artifacts/ui"
        try? FileManager.default.removeItem(atPath: shots)
        try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
        let browser = try TestProcess("/usr/bin/python3", [
            Fixtures.packageRoot + "/Tests/Fixtures/browser.py", "--url", base + "/", "--shots", shots,
            "--search", "fly", "--title-ref", "tiny-dragon-2021",
        ], name: "chromium")
        let status = try await browser.waitForExit(timeout: .seconds(300))
        #expect(status == 0, "\(browser.stderr)")
        let seen = try #require(browser.lines.last.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
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
        #expect((seen["logs"] as? [String])?.isEmpty == true, "browser errors: \(seen["logs"] ?? "")")
        for name in ["1-home", "2-search", "3-title", "4-player", "5-continue"] {
            #expect(FileManager.default.fileExists(atPath: "\(shots)/\(name).png"))
        }
        serve.kill()
        _ = try await serve.waitForExit()
        pub.kill()
        _ = try await pub.waitForExit()
    }
}
