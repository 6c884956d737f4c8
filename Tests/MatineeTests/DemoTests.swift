import Foundation
import Testing
import TestSupport

/// `matinee demo`, the README's first command: offline, it makes its own
/// library, publishes it over its own private DHT, follows it and serves the
/// UI, which a real headless Chromium then uses.
@Suite("matinee demo", .serialized)
struct DemoTests {
    @Test("the demo channel is published, followed and playable in the browser, subtitles included")
    func demo() async throws {
        let dir = TempDir()
        let demo = try MatineeCLI(home: dir.sub("home")).start(["demo", "--no-browser"])
        let base = try await demo.waitForLine(timeout: .seconds(240)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }
        #expect(demo.stderr.contains("Matinee Demo: version"), "\(demo.stderr)")

        let seen = try await runBrowser(base: base, artifacts: "demo", search: "fractal", titleRef: "aurora-2024")
        #expect((seen["rows"] as? [String])?.contains("Matinee Demo") == true, "\(seen)")
        #expect((seen["homePosterImages"] as? Int ?? 0) >= 4)
        #expect(seen["titleName"] as? String == "Aurora")
        #expect((seen["currentTime"] as? Double ?? 0) >= 3)
        #expect((seen["afterSeek"] as? Double ?? 0) >= 11)
        #expect((seen["track"] as? [String: Any])?["cues"] as? [String] == ["Every bay hides another."])
        #expect((seen["continueRefs"] as? [String]) == ["aurora-2024"])
        demo.kill()
        #expect(try await demo.waitForExit(timeout: .seconds(60)) == 0)
    }
}
