import Foundation
import Streaming
import TestSupport
import Testing

@Suite("Playback plan")
struct PlaybackPlanTests {
    typealias T = MediaInfo.Track
    let mp4 = "mov,mp4,m4a,3gp,3g2,mj2"
    let mkv = "matroska,webm"

    @Test("what browsers play is played as it is")
    func direct() {
        let a = PlaybackPlan.make(
            for: MediaInfo(container: mp4, video: T(index: 0, codec: "h264", pixelFormat: "yuv420p"), audio: [T(index: 1, codec: "aac")]),
            fileName: "a.mp4")
        #expect(a.mode == .direct)
        let b = PlaybackPlan.make(
            for: MediaInfo(container: mkv, video: T(index: 0, codec: "vp9"), audio: [T(index: 1, codec: "opus")]), fileName: "b.webm")
        #expect(b.mode == .direct)
        let chroma = PlaybackPlan.make(
            for: MediaInfo(container: mp4, video: T(index: 0, codec: "h264", pixelFormat: "yuv444p"), audio: [T(index: 1, codec: "aac")]),
            fileName: "d.mp4")
        #expect(chroma.mode == .direct)
        let silent = PlaybackPlan.make(for: MediaInfo(container: mp4, video: T(index: 0, codec: "av1")), fileName: "c.mp4")
        #expect(silent.mode == .direct)
    }

    @Test("MKV with browser codecs is remuxed; the tracks are copied")
    func remux() {
        let p = PlaybackPlan.make(
            for: MediaInfo(container: mkv, video: T(index: 0, codec: "h264", pixelFormat: "yuv420p"), audio: [T(index: 1, codec: "aac")]),
            fileName: "film.mkv")
        #expect(
            p
                == PlaybackPlan(
                    mode: .remux, copyVideo: true, audioTrack: 1, copyAudio: true, reason: "MKV remuxed",
                    explanation: "Repackaged as it plays: this browser cannot open MKV files; picture and sound are untouched."))
        // An MP4 whose first audio track is AC3 and second AAC: the AAC one, copied.
        let q = PlaybackPlan.make(
            for: MediaInfo(
                container: mp4, video: T(index: 0, codec: "h264", pixelFormat: "yuv420p"),
                audio: [T(index: 1, codec: "ac3"), T(index: 2, codec: "aac")]), fileName: "x.mp4")
        #expect(q.mode == .remux)
        #expect(q.audioTrack == 2)
        #expect(q.copyAudio)
        #expect(q.explanation == "Repackaged as it plays, with a sound track this browser can play.")
    }

    @Test("the file's default sound track plays; another one, picked, plays repackaged")
    func audioTracks() {
        let info = MediaInfo(
            container: mp4, video: T(index: 0, codec: "h264", pixelFormat: "yuv420p"),
            audio: [
                T(index: 1, codec: "aac", language: "eng", isDefault: true), T(index: 2, codec: "aac", language: "fra", isDefault: false),
            ])
        let p = PlaybackPlan.make(for: info, fileName: "f.mp4")
        #expect(p.mode == .direct && p.audioTrack == 1)
        let picked = PlaybackPlan.make(for: info, fileName: "f.mp4", audio: 2)
        #expect(picked.mode == .remux && picked.audioTrack == 2 && picked.copyAudio)
        #expect(PlaybackPlan.make(for: info, fileName: "f.mp4", audio: 1).mode == .direct)
        // A track number the file does not have: the file's own choice.
        #expect(PlaybackPlan.make(for: info, fileName: "f.mp4", audio: 9) == p)
        // The default is AC3 (the browser cannot play it): it is still the one
        // played, converted, rather than another language.
        let ac3 = MediaInfo(
            container: mp4, video: T(index: 0, codec: "h264", pixelFormat: "yuv420p"),
            audio: [T(index: 1, codec: "aac", language: "eng"), T(index: 2, codec: "ac3", language: "fra", isDefault: true)])
        let q = PlaybackPlan.make(for: ac3, fileName: "g.mp4")
        #expect(q.audioTrack == 2 && !q.copyAudio && q.mode == .transcode, "\(q)")
        // An AAC track in the default's language: that one, copied.
        let same = MediaInfo(
            container: mp4, video: T(index: 0, codec: "h264", pixelFormat: "yuv420p"),
            audio: [T(index: 1, codec: "ac3", language: "fra", isDefault: true), T(index: 2, codec: "aac", language: "fra")])
        let r = PlaybackPlan.make(for: same, fileName: "h.mp4")
        #expect(r.audioTrack == 2 && r.copyAudio && r.mode == .remux, "\(r)")
    }

    @Test("HEVC, 10-bit H.264, AC3 and DTS are transcoded to H.264 and AAC")
    func transcode() {
        let p = PlaybackPlan.make(
            for: MediaInfo(container: mkv, video: T(index: 0, codec: "hevc"), audio: [T(index: 1, codec: "dts", channels: 6)]),
            fileName: "f.mkv")
        #expect(p.mode == .transcode)
        #expect(!p.copyVideo && !p.copyAudio)
        #expect(p.reason == "MKV remuxed, HEVC video → H.264, DTS audio → AAC")
        #expect(
            p.explanation == "Converted as it plays: this browser cannot play the picture (HEVC) or the sound (DTS) of this file as it is.")
        let ten = PlaybackPlan.make(
            for: MediaInfo(
                container: mp4, video: T(index: 0, codec: "h264", pixelFormat: "yuv420p10le"), audio: [T(index: 1, codec: "aac")]),
            fileName: "g.mp4")
        #expect(ten.mode == .transcode && !ten.copyVideo && ten.copyAudio)
        let ac3 = PlaybackPlan.make(
            for: MediaInfo(container: mp4, video: T(index: 0, codec: "h264", pixelFormat: "yuv420p"), audio: [T(index: 1, codec: "ac3")]),
            fileName: "h.mp4")
        #expect(ac3.mode == .transcode && ac3.copyVideo && !ac3.copyAudio)
    }

    @Test("ffmpeg seeks the input and writes fragmented MP4 to stdout")
    func arguments() {
        let p = PlaybackPlan(mode: .transcode, copyVideo: true, audioTrack: 1, copyAudio: false, reason: "")
        let a = p.ffmpegArguments(input: "http://127.0.0.1:1/stream/x/0", start: 42.5)
        let joined = a.joined(separator: " ")
        #expect(joined.contains("-ss 42.500 -protocol_whitelist http,tcp"))
        #expect(joined.contains(" -i http://127.0.0.1:1/stream/x/0 "))
        #expect(joined.contains("-map 0:v:0? -map 0:1 -c:v copy -c:a aac"))
        #expect(a.suffix(3) == ["-f", "mp4", "pipe:1"])
        #expect(!p.ffmpegArguments(input: "u", start: 0).contains("-ss"))
    }

    @Test("ffprobe's JSON: cover art is not the video; tracks and languages are read")
    func parse() throws {
        let json = #"""
            {"streams": [
              {"index": 0, "codec_type": "video", "codec_name": "mjpeg", "disposition": {"attached_pic": 1}},
              {"index": 1, "codec_type": "video", "codec_name": "hevc", "pix_fmt": "yuv420p10le", "width": 1920, "height": 1080, "disposition": {"attached_pic": 0}},
              {"index": 2, "codec_type": "audio", "codec_name": "dts", "channels": 6, "tags": {"language": "eng"}},
              {"index": 3, "codec_type": "subtitle", "codec_name": "subrip"}
            ], "format": {"format_name": "matroska,webm", "duration": "5400.5", "bit_rate": "8000000"}}
            """#
        let info = try #require(MediaInfo.parse(ffprobeJSON: Data(json.utf8)))
        #expect(info.video?.codec == "hevc")
        #expect(info.video?.index == 1)
        #expect(info.audio == [T(index: 2, codec: "dts", channels: 6, language: "eng")])
        #expect(info.duration == 5400.5)
        #expect(info.bytesPerSecond == 1_000_000)
    }

    @Test("ffprobe reads a film over HTTP, and refuses a playlist named like a film")
    func hostileInput() async throws {
        let dir = TempDir()
        try Fixtures.makeVideo(dir.path + "/web/film.mkv", seconds: 2, faststart: false, size: "160x120")
        try "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nhttp://127.0.0.1:9/x.ts\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
            .write(toFile: dir.path + "/web/evil.mkv", atomically: true, encoding: .utf8)
        let port = Ports.free()
        let web = try TestProcess(
            "/usr/bin/python3", ["-m", "http.server", "--bind", "127.0.0.1", String(port)], currentDirectory: dir.path + "/web",
            name: "http.server")
        for _ in 0..<100 where !canConnect(port: port) { try await Task.sleep(for: .milliseconds(50)) }
        let film = try #require(await MediaProbe.probe("http://127.0.0.1:\(port)/film.mkv"))
        #expect(film.container.contains("matroska") && film.video?.codec == "h264")
        #expect(PlaybackPlan.make(for: film, fileName: "film.mkv").mode == .remux)
        #expect(await MediaProbe.probe("http://127.0.0.1:\(port)/evil.mkv") == nil)
        let args = PlaybackPlan(mode: .remux, copyVideo: true, audioTrack: nil, copyAudio: true, reason: "").ffmpegArguments(
            input: "u", start: 0)
        #expect(args.firstIndex(of: "-protocol_whitelist")! < args.firstIndex(of: "-i")!)
        _ = web
    }
}
