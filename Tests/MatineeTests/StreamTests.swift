import Foundation
import TestSupport
import Testing

@Suite("Streams as players see them", .serialized)
struct StreamTests {
    @Test("a multi-file torrent with nested folders and non-ASCII names: one file by name, the others not downloaded")
    func multiFileByName() async throws {
        let dir = TempDir()
        let root = dir.path + "/data/Série Ünïcode"
        let wanted = try Fixtures.writeRandomFile(root + "/Saison 1/Épisode 2 — 東京.mkv", size: 1_500_000, seed: 21)
        try Fixtures.writeRandomFile(root + "/Saison 1/Épisode 1.mkv", size: 1_200_000, seed: 22)
        try Fixtures.writeRandomFile(root + "/Extras/making-of.mp4", size: 2_000_000, seed: 23)
        try Fixtures.writeRandomFile(root + "/sous-titres.srt", size: 3_000, seed: 24)
        let seeder = try await LibtorrentSeeder.start(data: root, torrentOut: dir.path + "/serie.torrent", pieceSize: 16384)
        let cli = MatineeCLI(home: dir.sub("home"))
        let list = try await cli.run(["play", dir.path + "/serie.torrent", "--list"])
        #expect(list.status == 0)
        #expect(list.stdout.contains("Épisode 2 — 東京.mkv"))
        #expect(list.stdout.split(separator: "\n").count == 4)
        let downloads = dir.sub("dl")
        let (play, url) = try await cli.play(
            dir.path + "/serie.torrent", ["--peer", seeder.peer, "--file", "Épisode 2 — 東京.mkv", "--download-dir", downloads])
        try await expectByteExact(url, wanted, play: play)
        let status = try await HTTP.waitUntilComplete(url)
        #expect((status["path"] as? String)?.hasSuffix("Épisode 2 — 東京.mkv") == true)
        play.kill()
        try await play.waitForExit()
        // Files nobody asked for were not written (pieces shared at the edges
        // live in libtorrent's part file, not in the other files).
        let saved = dir.path + "/dl/Série Ünïcode"
        #expect(FileManager.default.fileExists(atPath: saved + "/Saison 1/Épisode 2 — 東京.mkv"))
        for other in ["/Extras/making-of.mp4", "/Saison 1/Épisode 1.mkv"] {
            let size = (try? FileManager.default.attributesOfItem(atPath: saved + other)[.size] as? Int) ?? 0
            #expect(size == 0, "\(other) was downloaded")
        }
        let home = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(Set(home) == ["data", "serie.torrent", "home", "dl"])
    }

    @Test(
        "ffprobe reads an MP4 through the stream, index first or last; ffmpeg decodes a frame from the middle",
        arguments: [true, false])
    func video(faststart: Bool) async throws {
        let dir = TempDir()
        let path = dir.path + "/data/Film.mp4"
        try Fixtures.makeVideo(path, seconds: 30, faststart: faststart)
        let seeder = try await LibtorrentSeeder.start(
            data: path, torrentOut: dir.path + "/film.torrent", uploadLimit: 1_000_000, pieceSize: 32768)
        let cli = MatineeCLI(home: dir.sub("home"))
        let (play, url) = try await cli.play(dir.path + "/film.torrent", ["--peer", seeder.peer])
        let probe = try Fixtures.run(
            "/usr/bin/ffprobe",
            [
                "-v", "error", "-show_entries", "format=duration:stream=codec_name", "-of", "default=nw=1", url,
            ])
        #expect(probe.contains("codec_name=h264"))
        #expect(probe.contains("codec_name=aac"))
        let duration = probe.split(separator: "\n").first { $0.hasPrefix("duration=") }.flatMap { Double($0.dropFirst(9)) }
        #expect(abs((duration ?? 0) - 30) < 1)
        // play probed the bitrate and sized its window from it (not the 8 Mbit/s default).
        var bitrate = 0
        for _ in 0..<100 {
            bitrate = try await HTTP.status(url)["bitrate"] as? Int ?? 0
            if bitrate != 1_000_000 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect((40_000...200_000).contains(bitrate), "bitrate \(bitrate) B/s for a ~660 kbit/s video")
        let frame = dir.path + "/frame.png"
        try Fixtures.run("/usr/bin/ffmpeg", ["-v", "error", "-y", "-ss", "15", "-i", url, "-frames:v", "1", frame])
        let size = try FileManager.default.attributesOfItem(atPath: frame)[.size] as? Int ?? 0
        #expect(size > 1000)
        play.kill()
        try await play.waitForExit()
    }

    @Test("an HEVC/AC3 MKV is converted to H.264/AAC in fragmented MP4, from any point")
    func convertHEVC() async throws {
        let dir = TempDir()
        let path = dir.path + "/data/Film.mkv"
        try FileManager.default.createDirectory(atPath: dir.path + "/data", withIntermediateDirectories: true)
        try Fixtures.run(
            "/usr/bin/ffmpeg",
            [
                "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=8",
                "-f", "lavfi", "-i", "sine=frequency=330:duration=8", "-c:v", "libx265", "-preset", "ultrafast", "-x265-params",
                "log-level=error",
                "-c:a", "ac3", "-shortest", path,
            ])
        let seeder = try await LibtorrentSeeder.start(data: path, torrentOut: dir.path + "/film.torrent", pieceSize: 32768)
        let cli = MatineeCLI(home: dir.sub("home"))
        let (play, url) = try await cli.play(dir.path + "/film.torrent", ["--peer", seeder.peer])
        let base = url.components(separatedBy: "/stream/")[0]
        let path0 = url.components(separatedBy: "?")[0].replacingOccurrences(of: base + "/stream/", with: "")
        let media = try #require(
            try JSONSerialization.jsonObject(with: Data(try await HTTP.request(base + "/api/media/" + path0, timeout: 90).body))
                as? [String: Any])
        let plan = try #require(media["plan"] as? [String: Any])
        #expect(plan["mode"] as? String == "transcode")
        #expect(plan["reason"] as? String == "MKV remuxed, HEVC video → H.264, AC3 audio → AAC")
        let converted = try #require(media["converted"] as? String)
        let mp4 = try await HTTP.request(base + converted + "&start=4", timeout: 120)
        #expect(mp4.status == 200)
        let out = dir.path + "/out.mp4"
        try Data(mp4.body).write(to: URL(fileURLWithPath: out))
        let probe = try Fixtures.run(
            "/usr/bin/ffprobe", ["-v", "error", "-show_entries", "format=duration:stream=codec_name,pix_fmt", "-of", "default=nw=1", out])
        #expect(probe.contains("codec_name=h264") && probe.contains("pix_fmt=yuv420p") && probe.contains("codec_name=aac"), "\(probe)")
        let seconds = probe.split(separator: "\n").first { $0.hasPrefix("duration=") }.flatMap { Double($0.dropFirst(9)) } ?? 0
        #expect(seconds > 3 && seconds < 5, "from 4 s of 8: \(probe)")
        play.kill()
        try await play.waitForExit()
    }

    @Test("range edge cases, HEAD, and a foreign Host refused")
    func rangesAndHost() async throws {
        let dir = TempDir()
        let data = try Fixtures.writeRandomFile(dir.path + "/data/c.mp4", size: 700_001, seed: 31)
        let seeder = try await LibtorrentSeeder.start(data: dir.path + "/data/c.mp4", torrentOut: dir.path + "/c.torrent")
        let cli = MatineeCLI(home: dir.sub("home"))
        let (play, url) = try await cli.play(dir.path + "/c.torrent", ["--peer", seeder.peer])
        let n = data.count

        let suffix = try await HTTP.request(url, headers: ["Range": "bytes=-1000"])
        #expect(suffix.status == 206)
        #expect(suffix.body == Array(data[(n - 1000)...]))
        #expect(suffix.header("Content-Range") == "bytes \(n - 1000)-\(n - 1)/\(n)")

        let open = try await HTTP.request(url, headers: ["Range": "bytes=600000-"])
        #expect(open.status == 206)
        #expect(open.body == Array(data[600_000...]))
        #expect(open.header("Content-Length") == String(n - 600_000))

        let past = try await HTTP.request(url, headers: ["Range": "bytes=\(n)-"])
        #expect(past.status == 416)
        #expect(past.header("Content-Range") == "bytes */\(n)")
        // Positions past what 64 bits hold are past the end (issue 12).
        let hugeStart = try await HTTP.request(url, headers: ["Range": "bytes=99999999999999999999-"])
        #expect(hugeStart.status == 416)
        let hugeEnd = try await HTTP.request(url, method: "HEAD", headers: ["Range": "bytes=0-99999999999999999999"])
        #expect(hugeEnd.status == 206 && hugeEnd.header("Content-Range") == "bytes 0-\(n - 1)/\(n)")

        let head = try await HTTP.request(url, method: "HEAD")
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == String(n))
        #expect(head.header("Accept-Ranges") == "bytes")
        #expect(head.header("Content-Type") == "video/mp4")
        #expect(head.body.isEmpty)

        let headRange = try await HTTP.request(url, method: "HEAD", headers: ["Range": "bytes=10-19"])
        #expect(headRange.status == 206)
        #expect(headRange.header("Content-Length") == "10")

        for host in ["evil.example:80", "attacker.test", "127.0.0.1.nip.io"] {
            let r = try await HTTP.request(url, headers: ["Host": host])
            #expect(r.status == 421, "Host \(host)")
            #expect(r.body.count < 100)
        }
        let statusURL = url.replacingOccurrences(of: "/stream/", with: "/api/streams/")
        #expect(try await HTTP.request(statusURL, headers: ["Host": "evil.example"]).status == 421)
        let st = try await HTTP.request(statusURL)
        #expect(st.status == 200)
        #expect(st.header("Content-Type")?.hasPrefix("application/json") == true)
        #expect(st.header("X-Content-Type-Options") == "nosniff")
        #expect(st.header("Access-Control-Allow-Origin") == nil)

        // Stream URLs carry a capability (docs/threat_model.md): without one, with
        // another file's, or with its expiry changed, nothing is served, and
        // nothing tells whether the file exists.
        let bare = url.components(separatedBy: "?")[0]
        let query = url.components(separatedBy: "?")[1]
        #expect(query.contains("exp=") && query.contains("cap="))
        for refused in [
            bare, bare.replacingOccurrences(of: "/0", with: "/7") + "?" + query,
            bare + "?" + query.replacingOccurrences(of: "exp=", with: "exp=9"),
            url.components(separatedBy: "/stream/")[0] + "/stream/xyz/0?" + query,
        ] {
            let r = try await HTTP.request(refused)
            #expect(r.status == 403, "\(refused)")
            #expect(String(decoding: r.body, as: UTF8.self).contains("not valid or has expired"))
        }
        play.kill()
        try await play.waitForExit()
    }
}
