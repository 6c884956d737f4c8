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

        let seen = try await runBrowser(
            base: base, artifacts: "ui", search: "fly", titleRef: "tiny-dragon-2021",
            extra: ["--offline-ref", "big-buck-bunny-2008", "--wall-filters"])
        #expect((seen["homeTiles"] as? Int ?? 0) >= 3, "\(seen)")
        #expect((seen["homePosterImages"] as? Int ?? 0) >= 1)
        #expect((seen["rows"] as? [String])?.contains("Browser Films") == true)
        #expect((seen["rows"] as? [String])?.contains("Open Films · openly licensed, needs the internet") == true, "\(seen["rows"] ?? "")")
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
        #expect(seen["directControls"] as? [Bool] == [true, false], "one clock: the browser's")
        let keys = seen["keys"] as? [String: Bool] ?? [:]
        #expect(
            ["muted", "unmuted", "subtitlesOff", "subtitlesOn", "overlayHidden", "overlayBack", "paused", "playing"].allSatisfy {
                keys[$0] == true
            }, "\(keys)")
        // Subtitle size and timing: one step larger, 0.3 s later by key and 0.1 s earlier by button.
        let tools = seen["subtitleTools"] as? [String: Any] ?? [:]
        #expect(tools["size"] as? String == "125%" && (tools["style"] as? String)?.contains("font-size: 125%") == true, "\(tools)")
        #expect(tools["offset"] as? String == "0.2 s later" && tools["firstCue"] as? Int == 200, "\(tools)")
        let stoppedAt = seen["stoppedAt"] as? Double ?? 0
        #expect((seen["continueRefs"] as? [String]) == ["tiny-dragon-2021"])
        #expect((seen["resumedAt"] as? Double ?? 0) >= stoppedAt - 1.5, "resumed at \(seen["resumedAt"] ?? 0), stopped at \(stoppedAt)")
        // The bundled Open Films are on no DHT this machine reaches: Play
        // shows what it finds, with a Cancel, then says so; no ghost download.
        #expect((seen["offlineProgress"] as? String)?.contains("DHT node") == true, "\(seen["offlineProgress"] ?? "")")
        #expect(seen["offlineCancelShown"] as? Bool == true && seen["offlineCancelAfter"] as? Bool == false)
        #expect((seen["offlineMessage"] as? String)?.hasPrefix("you appear to be offline") == true, "\(seen["offlineMessage"] ?? "")")
        #expect((seen["offlineDownloads"] as? [String])?.contains("dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c") == false)
        // The wall's filters and sorts: Animation from both channels, by title, by year, then 2010 alone; the address reloads.
        #expect(
            (seen["browseByTitle"] as? [Any])?.last as? [String] == [
                "big-buck-bunny-2008", "cosmos-laundromat-2015", "sintel-2010", "tiny-dragon-2021",
            ], "\(seen["browseByTitle"] ?? "")")
        #expect(
            (seen["browseByYear"] as? [Any])?.last as? [String] == [
                "tiny-dragon-2021", "cosmos-laundromat-2015", "sintel-2010", "big-buck-bunny-2008",
            ], "\(seen["browseByYear"] ?? "")")
        #expect((seen["browseYear"] as? [Any])?.last as? [String] == ["sintel-2010"], "\(seen["browseYear"] ?? "")")
        #expect((seen["browseYear"] as? [Any])?.first as? String == "Animation, 2010 · newest first")
        #expect(seen["browseAddress"] as? String == "#/browse/Animation/2010/year")
        #expect((seen["browseReloaded"] as? [Any])?.last as? [String] == ["sintel-2010"])
        #expect(seen["browseMenusReloaded"] as? [String] == ["Animation", "2010", "year"])
        #expect(seen["browseCleared"] as? [String] == ["", "", ""])
        // Addresses: reload, Back and Forward (issue 13).
        #expect(seen["titleAddress"] as? String == "#/title/tiny-dragon-2021")
        #expect(seen["reloadedTitle"] as? String == "Tiny Dragon")
        #expect(seen["backTo"] as? [String] == ["#/search/fly", "fly"], "\(seen["backTo"] ?? "")")
        #expect(seen["forwardTo"] as? String == "#/title/tiny-dragon-2021")
        let unsaved = seen["escapeKeepsSettings"] as? [Any] ?? []
        #expect(unsaved.first as? Bool == true && unsaved.dropFirst().first as? String == "777", "\(unsaved)")
        #expect((unsaved.last as? String)?.contains("unsaved changes") == true, "\(unsaved)")
        // Settings refusals, beside each field; nothing saved.
        let empty = seen["settingsEmptyNumber"] as? [Any] ?? []
        #expect((empty.first as? [String: String])?.keys.sorted() == ["uploadLimitKiB"], "\(empty)")
        #expect((empty.last as? String)?.hasPrefix("Not saved") == true, "\(empty)")
        let refused = seen["settingsRefused"] as? [String: String] ?? [:]
        #expect(refused["peerPort"]?.contains("between 1024 and 65535") == true, "\(refused)")
        #expect(refused["downloadDir"]?.contains("/etc is the system's") == true, "\(refused)")
        #expect(refused["proxy"]?.contains("only SOCKS5 proxies are supported") == true, "\(refused)")
        // Settings says how peers are reached in this run (no proxy here).
        #expect((seen["networkState"] as? String)?.hasPrefix("Peers are reached directly, and can connect to you.") == true, "\(seen["networkState"] ?? "")")
        #expect(seen["settingsAfterRefusal"] as? String == "0")
        let typed = seen["escapeKeepsAddress"] as? [Any] ?? []
        #expect(typed.first as? Bool == true && typed.last as? String == "magnet:?xs=half-typed", "\(typed)")
        let fromChannels = seen["searchFromChannels"] as? [Any] ?? []
        #expect(fromChannels.first as? String == "#/search/fly", "\(fromChannels)")
        #expect((fromChannels.last as? [String])?.first == "tiny-dragon-2021", "\(fromChannels)")
        #expect(seen["backToChannels"] as? String == "#/channels")
        let reloaded = seen["playerReloaded"] as? [Any] ?? []
        #expect(reloaded.first as? String == "#/play/tiny-dragon-2021" && reloaded.last as? Bool == true, "\(reloaded)")
        #expect(seen["upFromPlayer"] as? String == "#/title/tiny-dragon-2021")
        // Saved on the seek just before the reload: it resumed there (3 s, not past the middle).
        let resumedAt = seen["playerResumedAt"] as? Double ?? 0
        #expect(resumedAt >= 2 && resumedAt <= 5.5, "\(resumedAt)")
        #expect(seen["myList"] as? [String] == ["tiny-dragon-2021"])
        #expect(seen["continueAfterWatched"] as? [String] == [], "watched by hand, it leaves Continue watching")
        #expect(seen["watchedBadge"] as? [String] == ["✓ Watched"])
        let channels = seen["channels"] as? [[String]] ?? []
        #expect(channels.contains(["Browser Films", "ok"]) && channels.contains(["Open Films", "ok"]), "\(channels)")
        #expect((seen["addRefusal"] as? String)?.contains("is not a channel address") == true)
        #expect((seen["removeConfirm"] as? String)?.hasPrefix("Stop following Open Films?") == true, "\(seen["removeConfirm"] ?? "")")
        #expect(seen["channelsAfterRemove"] as? [String] == ["Browser Films"])
        #expect((seen["logs"] as? [String])?.isEmpty == true, "browser errors: \(seen["logs"] ?? "")")
        // A phone-width title page: the text column has at least half the
        // width (it had 86 px), and the page opens at its top.
        let phone = seen["phoneTitle"] as? [String: Double] ?? [:]
        #expect((phone["info"] ?? 0) >= (phone["window"] ?? 1) / 2 && phone["scrollY"] == 0 && (phone["overflow"] ?? 1) <= 0, "\(phone)")
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
