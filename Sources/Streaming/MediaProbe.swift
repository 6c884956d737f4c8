public import Foundation

/// What ffprobe says of a media file: its container, duration and tracks.
public struct MediaInfo: Sendable, Codable, Equatable {
    public struct Track: Sendable, Codable, Equatable {
        public var index: Int
        /// ffprobe's codec name: h264, hevc, vp9, av1, aac, ac3, eac3, dts, opus…
        public var codec: String
        public var profile: String?
        public var pixelFormat: String?
        public var width: Int?
        public var height: Int?
        public var channels: Int?
        public var language: String?
        /// The file marks it as the one to play (ffprobe's disposition).
        public var isDefault: Bool?

        public init(
            index: Int, codec: String, profile: String? = nil, pixelFormat: String? = nil,
            width: Int? = nil, height: Int? = nil, channels: Int? = nil, language: String? = nil, isDefault: Bool? = nil
        ) {
            self.isDefault = isDefault
            self.index = index
            self.codec = codec
            self.profile = profile
            self.pixelFormat = pixelFormat
            self.width = width
            self.height = height
            self.channels = channels
            self.language = language
        }
    }

    /// ffprobe's format_name: "matroska,webm", "mov,mp4,m4a,3gp,3g2,mj2", "avi"…
    public var container: String
    public var duration: Double?
    /// Bits per second of the whole file.
    public var bitRate: Int?
    public var size: Int64?
    public var video: Track?
    public var audio: [Track]

    public init(container: String, duration: Double? = nil, bitRate: Int? = nil, video: Track? = nil, audio: [Track] = []) {
        self.container = container
        self.duration = duration
        self.bitRate = bitRate
        self.video = video
        self.audio = audio
    }

    /// Reads `ffprobe -show_format -show_streams -of json`. Nil if it is not that.
    public static func parse(ffprobeJSON data: Data) -> MediaInfo? {
        struct Probe: Decodable {
            struct Format: Decodable {
                var format_name: String?
                var duration: String?
                var bit_rate: String?
                var size: String?
            }
            struct Stream: Decodable {
                var index: Int
                var codec_type: String?
                var codec_name: String?
                var profile: String?
                var pix_fmt: String?
                var width: Int?
                var height: Int?
                var channels: Int?
                var tags: [String: String]?
                var disposition: [String: Int]?
            }
            var format: Format?
            var streams: [Stream]?
        }
        guard let probe = try? JSONDecoder().decode(Probe.self, from: data), let format = probe.format,
            let container = format.format_name
        else { return nil }
        var info = MediaInfo(
            container: container, duration: format.duration.flatMap(Double.init).flatMap { $0.isFinite && $0 > 0 ? $0 : nil },
            bitRate: format.bit_rate.flatMap(Int.init))
        info.size = format.size.flatMap(Int64.init)
        for s in probe.streams ?? [] {
            guard let codec = s.codec_name else { continue }
            let track = Track(
                index: s.index, codec: codec, profile: s.profile, pixelFormat: s.pix_fmt, width: s.width, height: s.height,
                channels: s.channels, language: s.tags?["language"], isDefault: s.disposition?["default"].map { $0 == 1 })
            switch s.codec_type {
            // Cover art is a "video" stream too; it is not the film.
            case "video" where info.video == nil && s.disposition?["attached_pic"] != 1: info.video = track
            case "audio": info.audio.append(track)
            default: break
            }
        }
        return info
    }

    /// Bytes per second of playback, from the bitrate or size over duration.
    /// It sizes a stream's deadline window in seconds of playback.
    public var bytesPerSecond: Int? {
        if let bitRate, bitRate > 0 { return bitRate / 8 }
        if let duration, duration > 0, let size, size > 0 { return Int(Double(size) / duration) }
        return nil
    }
}

/// Runs ffprobe on a URL (our own stream: it reads the header and index
/// through it, which the stream's window makes urgent anyway).
public enum MediaProbe {
    /// Input options for ffprobe and ffmpeg on files from strangers: only
    /// HTTP (our own stream URL) and only container formats of films, so a
    /// "film" that is really a playlist cannot make them read local files
    /// or fetch other URLs (the HLS/concat tricks used against transcoding
    /// services).
    public static let inputRestrictions = ["-protocol_whitelist", "http,tcp", "-format_whitelist", formatWhitelist]

    /// FFmpeg's demuxers for the containers films come in (for players too).
    public static let formatWhitelist = "matroska,webm,mov,mp4,m4a,3gp,3g2,mj2,avi,mpegts,flv,ogg,mp3,aac,flac,wav,asf,mpeg,mpegvideo"

    public static var ffprobePath: String? {
        ["/usr/bin/ffprobe", "/usr/local/bin/ffprobe"].first(where: FileManager.default.isExecutableFile)
    }

    /// The media's description, or nil if ffprobe is missing, fails, or takes
    /// longer than `timeout`. The caller only awaits: ffprobe's output is read
    /// on a GCD thread.
    public static func probe(_ url: String, timeout: Duration = .seconds(60)) async -> MediaInfo? {
        guard let ffprobe = ffprobePath else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ffprobe)
        p.arguments =
            ["-v", "error", "-probesize", "5000000", "-analyzeduration", "5000000"] + inputRestrictions + [
                "-show_format", "-show_streams", "-of", "json", url,
            ]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        let data: Data? = await withCheckedContinuation { (c: CheckedContinuation<Data?, Never>) in
            do {
                try p.run()
            } catch {
                c.resume(returning: nil)
                return
            }
            let pid = p.processIdentifier
            let watchdog = Task {
                try? await Task.sleep(for: timeout)
                kill(pid, SIGKILL)
            }
            DispatchQueue.global().async {
                // Read to the end before waiting: a full pipe would block ffprobe.
                let data = out.fileHandleForReading.readDataToEndOfFile()
                p.waitUntilExit()
                watchdog.cancel()
                c.resume(returning: p.terminationStatus == 0 ? data : nil)
            }
        }
        return data.flatMap { MediaInfo.parse(ffprobeJSON: $0) }
    }
}

/// How a browser gets to play a file: as it is, or through ffmpeg. Browsers
/// play MP4 and WebM with H.264, VP8/VP9 or AV1 video and AAC, MP3, Opus,
/// Vorbis or FLAC audio; everything else (MKV and AVI containers, HEVC and
/// MPEG-4 Part 2 video, AC3, E-AC3, DTS and TrueHD audio, 10-bit H.264) is
/// remuxed or transcoded into fragmented MP4.
public struct PlaybackPlan: Sendable, Codable, Equatable {
    public enum Mode: String, Sendable, Codable {
        /// The file as it is, from /stream.
        case direct
        /// Repackaged into fragmented MP4, the tracks copied (cheap).
        case remux
        /// At least one track re-encoded (H.264 or AAC).
        case transcode
    }

    public var mode: Mode
    /// Copy the video track (true) or encode it to H.264.
    public var copyVideo: Bool
    /// The audio track used (ffprobe's stream index), nil for none.
    public var audioTrack: Int?
    /// Copy the audio track (true) or encode it to stereo AAC.
    public var copyAudio: Bool
    /// Why, in a technician's words: "MKV remuxed", "HEVC video → H.264".
    public var reason: String
    /// Why, for people (the player's line): "Converted as it plays: this
    /// browser cannot play the sound (AC3) of this file as it is."
    public var explanation: String

    public init(mode: Mode, copyVideo: Bool, audioTrack: Int?, copyAudio: Bool, reason: String, explanation: String = "") {
        self.mode = mode
        self.copyVideo = copyVideo
        self.audioTrack = audioTrack
        self.copyAudio = copyAudio
        self.reason = reason
        self.explanation = explanation
    }

    static let browserContainers = ["mp4", "mov", "webm", "ogg"]
    static let browserVideo: Set<String> = ["h264", "vp8", "vp9", "av1"]
    static let browserAudio: Set<String> = ["aac", "mp3", "opus", "vorbis", "flac"]
    /// What fragmented MP4 can carry and Chromium and Firefox decode.
    static let mp4Video: Set<String> = ["h264", "vp9", "av1"]
    static let mp4Audio: Set<String> = ["aac", "mp3", "opus", "flac"]

    /// `audio`: the audio track the user picked (ffprobe's index); nil for
    /// the file's own choice.
    public static func make(for info: MediaInfo, fileName: String, audio picked: Int? = nil) -> PlaybackPlan {
        let containers = info.container.split(separator: ",").map(String.init)
        let ext = fileName.split(separator: ".").last.map { $0.lowercased() } ?? ""
        // ffprobe calls WebM "matroska,webm": the file name tells them apart.
        let isMatroska = containers.contains("matroska") && ext != "webm"
        let containerOK = !isMatroska && !Set(containers).isDisjoint(with: browserContainers)
        let video = info.video
        let videoOK = video.map { browserVideo.contains($0.codec) && Self.eightBit($0) } ?? true
        // The track picked; else the file's default (or a track the browser
        // plays in the same language); else the first the browser plays;
        // else the first one.
        let chosen = picked.flatMap { p in info.audio.first { $0.index == p } }
        let marked = info.audio.first { $0.isDefault == true }
        let sameLanguage = marked.flatMap { m in
            info.audio.first { browserAudio.contains($0.codec) && $0.language != nil && $0.language == m.language }
        }
        let audio =
            chosen ?? marked.map { browserAudio.contains($0.codec) ? $0 : sameLanguage ?? $0 }
            ?? info.audio.first { browserAudio.contains($0.codec) } ?? info.audio.first
        let audioOK = audio.map { browserAudio.contains($0.codec) } ?? true
        // A browser plays the file's first audio track (or its default):
        // another one needs the file repackaged.
        let browserPick = marked ?? info.audio.first
        if containerOK && videoOK && audioOK && audio?.index == browserPick?.index {
            return PlaybackPlan(mode: .direct, copyVideo: true, audioTrack: audio?.index, copyAudio: true, reason: "plays as it is")
        }
        let copyVideo = video.map { mp4Video.contains($0.codec) && Self.eightBit($0) } ?? true
        let copyAudio = audio.map { mp4Audio.contains($0.codec) } ?? true
        var why: [String] = []
        if !containerOK { why.append("\(Self.containerName(containers, ext)) remuxed") }
        if let video, !copyVideo { why.append("\(video.codec.uppercased()) video → H.264") }
        if let audio, !copyAudio { why.append("\(audio.codec.uppercased()) audio → AAC") }
        if why.isEmpty { why.append("audio track picked") }
        var parts: [String] = []
        if let video, !copyVideo { parts.append("the picture (\(video.codec.uppercased()))") }
        if let audio, !copyAudio { parts.append("the sound (\(audio.codec.uppercased()))") }
        let explanation =
            if !parts.isEmpty {
                "Converted as it plays: this browser cannot play \(parts.joined(separator: " or ")) of this file as it is."
            } else if !containerOK {
                "Repackaged as it plays: this browser cannot open \(Self.containerName(containers, ext)) files; picture and sound are untouched."
            } else {
                "Repackaged as it plays, with a sound track this browser can play."
            }
        return PlaybackPlan(
            mode: copyVideo && copyAudio ? .remux : .transcode, copyVideo: copyVideo, audioTrack: audio?.index,
            copyAudio: copyAudio, reason: why.joined(separator: ", "), explanation: explanation)
    }

    /// Browsers decode 8-bit H.264; 10-bit ("High 10") they do not. (Chromium
    /// also decodes 8-bit 4:4:4; if a browser refuses a file after all, the
    /// player falls back to the converted stream.)
    static func eightBit(_ t: MediaInfo.Track) -> Bool {
        guard t.codec == "h264", let pf = t.pixelFormat else { return true }
        return !["p10", "p12", "p14", "p16"].contains { pf.contains($0) }
    }

    static func containerName(_ containers: [String], _ ext: String) -> String {
        if containers.contains("matroska") { return "MKV" }
        if containers.contains("avi") { return "AVI" }
        if containers.contains("mpegts") { return "MPEG-TS" }
        return ext.isEmpty ? (containers.first ?? "container").uppercased() : ext.uppercased()
    }

    /// ffmpeg's arguments: read `input` from `start` seconds, write fragmented
    /// MP4 to stdout. The output counts from 0 (browsers start a progressive
    /// MP4 at 0 whatever its first timestamp): the player adds `start`, and
    /// asks for subtitles shifted by it.
    public func ffmpegArguments(input: String, start: Double) -> [String] {
        var a = ["-hide_banner", "-loglevel", "error", "-nostdin"]
        if start > 0 { a += ["-ss", String(format: "%.3f", start)] }
        a += MediaProbe.inputRestrictions + ["-i", input, "-map", "0:v:0?"]
        if let audioTrack { a += ["-map", "0:\(audioTrack)"] }
        a += copyVideo ? ["-c:v", "copy"] : ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-g", "48"]
        a += copyAudio ? ["-c:a", "copy"] : ["-c:a", "aac", "-ac", "2", "-b:a", "160k"]
        a += ["-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1"]
        a += ["-movflags", "frag_keyframe+empty_moov+default_base_moof", "-frag_duration", "2000000", "-f", "mp4", "pipe:1"]
        return a
    }
}
