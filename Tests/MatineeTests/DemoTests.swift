import Foundation
import TestSupport
import Testing

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

        let seen = try await runBrowser(
            base: base, artifacts: "demo", search: "fractal", titleRef: "aurora-2024",
            extra: [
                "--mkv-ref", "signal-test-2022", "--mkv-search", "Signal", "--series-ref", "tiny-planets-2025", "--series-search", "Tiny",
                "--audio-ref", "paper-boats-2023",
                "--library-pages",
            ])
        // The demo's row says it plays offline (its channel's description); the bundled one's that it needs the internet.
        #expect((seen["rows"] as? [String])?.contains { $0.hasPrefix("Matinee Demo · Plays offline") } == true, "\(seen)")
        #expect((seen["homePosterImages"] as? Int ?? 0) >= 4)
        // The bundled channel's films show the posters shipped with the app, as the demo's show theirs.
        #expect((seen["postersShown"] as? [String: Int])?["Open Films"] == 4, "\(seen["postersShown"] ?? "none")")
        #expect((seen["postersShown"] as? [String: Int])?["Matinee Demo"] == 4, "\(seen["postersShown"] ?? "none")")
        #expect(seen["titleName"] as? String == "Aurora")
        // The swarm, before anything is downloaded: the demo's seeder, found on its DHT.
        #expect((seen["swarm"] as? String)?.hasSuffix("found on the DHT") == true, "\(seen["swarm"] ?? "")")
        #expect((seen["currentTime"] as? Double ?? 0) >= 3)
        #expect((seen["afterSeek"] as? Double ?? 0) >= 11)
        #expect((seen["track"] as? [String: Any])?["cues"] as? [String] == ["Every bay hides another."])
        #expect((seen["continueRefs"] as? [String]) == ["aurora-2024"])

        // An MKV with AC3 sound: converted by ffmpeg, it plays with sound,
        // and the player's own timeline seeks in it.
        #expect((seen["mkvTime"] as? Double ?? 0) >= 3)
        #expect(
            seen["mkvHow"] as? String == "Converted as it plays: this browser cannot play the sound (AC3) of this file as it is.", "\(seen)"
        )
        // One clock: the browser's controls give way to the player's own.
        #expect(seen["mkvNativeControls"] as? Bool == false && seen["mkvOwnControls"] as? Bool == true, "\(seen)")

        #expect((seen["mkvSrc"] as? String)?.contains("/transcode/") == true)
        let decoded = seen["mkvDecoded"] as? [String: Int] ?? [:]
        #expect((decoded["audio"] ?? 0) > 0 && (decoded["video"] ?? 0) > 0, "\(decoded)")
        #expect(seen["mkvTimelineShown"] as? Bool == true)
        #expect(seen["mkvDuration"] as? Int == 20)
        #expect((seen["mkvAfterSeek"] as? Int ?? 0) >= 12)
        #expect(seen["mkvError"] is NSNull)

        // Two sound tracks: named by language, the default first and playing
        // as the file is; the other one plays when picked.
        #expect(seen["audioOptions"] as? [String] == ["English (AAC) · default", "French (AAC)"], "\(seen["audioOptions"] ?? "")")
        #expect(seen["audioSelected"] as? String == "1" && seen["audioDirectFirst"] as? Bool == true, "\(seen)")
        #expect((seen["audioAfter"] as? Double ?? 0) > 1 && (seen["audioDecoded"] as? Int ?? 0) > 0, "\(seen)")

        // The end of an episode offers the next with a countdown, and plays
        // it; Cancel holds the next one back; both are marked watched.
        #expect(seen["nextOffered"] as? String == "Next: S01E02 ▶", "\(seen)")
        #expect(seen["nextFocused"] as? Bool == true)
        #expect((seen["countdown"] as? String)?.hasPrefix("Plays in ") == true, "\(seen["countdown"] ?? "")")
        #expect((seen["secondLabel"] as? String)?.contains("S01E02") == true)
        let held = seen["cancelHeld"] as? [String] ?? []
        #expect(held.first?.contains("S01E02") == true && held.last == "", "\(held)")
        let buttons = seen["episodeButtons"] as? [String] ?? []
        #expect(buttons.count >= 3 && buttons[0].hasSuffix("✓") && buttons[1].hasSuffix("✓") && !buttons[2].hasSuffix("✓"), "\(buttons)")
        // Play on the series: the next unwatched episode, not the last one again.
        #expect((seen["resumedEpisode"] as? String)?.contains("S02E01") == true, "\(seen["resumedEpisode"] ?? "")")
        #expect(
            (seen["continueSeries"] as? [String])?.contains { $0.hasPrefix("Tiny Planets") && $0.contains("S02E01") } == true, "\(seen)")
        #expect((seen["continueAfterRemove"] as? [String])?.contains("tiny-planets-2025") == false, "\(seen)")

        // Downloads: what was played is listed; removing one with its files deletes them.
        let downloads = seen["downloads"] as? [String] ?? []
        #expect(downloads.contains("Aurora (2024).mp4") && downloads.contains("Signal Test (2022).mkv"), "\(downloads)")
        #expect(seen["downloadsArrowDown"] as? String == "Remove and delete files")
        #expect(!(seen["downloadsAfterRemove"] as? [String] ?? ["?"]).contains("Signal Test (2022).mkv"))
        #expect((seen["removeMessage"] as? String)?.contains("deleted its data") == true)
        let home = dir.path + "/home/demo"
        #expect(!FileManager.default.fileExists(atPath: home + "/downloads/Signal Test (2022).mkv"))
        #expect(FileManager.default.fileExists(atPath: home + "/downloads/Aurora (2024).mp4"))
        // Settings: saved, applied, read back; a relative folder refused.
        #expect((seen["settingsAfter"] as? [String: String])?["uploadLimitKiB"] == "321")
        #expect(seen["settingsReloaded"] as? [String] == ["#/settings", "321"], "\(seen["settingsReloaded"] ?? "")")
        #expect((seen["settingsRefusal"] as? String)?.contains("absolute path") == true)
        let saved =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: home + "/settings.json"))) as? [String: Any]
        #expect(saved?["uploadLimitKiB"] as? Int == 321 && saved?["cacheLimitGiB"] as? Double == 5)

        // Genres are words, not quoted strings (issue 13: `"Documentary"`).
        let genre = try await MatineeCLI(home: home).run(["search", "--genre", "Documentary"])
        #expect(genre.status == 0 && genre.stdout.contains("aurora-2024"), "\(genre.stdout) \(genre.stderr)")

        // A phone-width window: nothing scrolls sideways.
        #expect((seen["phoneOverflow"] as? Int ?? 1) <= 0, "\(seen["phoneOverflow"] ?? "")")
        demo.kill()
        #expect(try await demo.waitForExit(timeout: .seconds(60)) == 0)
    }
}
