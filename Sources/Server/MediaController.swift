import Foundation
import Hummingbird
import NIOCore
import Streaming
import Synchronization
import TorrentKit

/// What the player needs to know before it plays a file, and the converted
/// stream for files a browser cannot play:
///
/// - `GET /api/media/<infohash>/<file>`: ffprobe's view of the file and the
///   `PlaybackPlan`, with capability URLs for the file as it is (`direct`) and
///   converted (`converted`, when the plan is not direct).
/// - `GET /transcode/<infohash>/<file>?start=SECONDS&exp=…&cap=…`: fragmented
///   MP4 from ffmpeg, reading the torrent through our own /stream URL, from
///   `start` on (a seek is a new request with another start).
struct MediaController<Context: ConnectionContext> {
    let streams: StreamController<Context>
    let allowlist: HostAllowlist
    let transcodes: TranscodeLimiter
    /// The address ffmpeg reads our own /stream from: this face's.
    var selfHost = "127.0.0.1"

    struct MediaJSON: Encodable {
        var info: MediaInfo?
        var plan: PlaybackPlan
        var duration: Double?
        var direct: String
        var converted: String?
    }

    func addRoutes(to router: Router<Context>) {
        router.get("/api/media/:infohash/:file") { request, context in
            let stream = try await streams.stream(context)
            let path = "/stream/\(stream.torrent.id.hex)/\(stream.file.index)"
            let info = await probe(stream, path: path)
            let plan =
                info.map { PlaybackPlan.make(for: $0, fileName: stream.file.name) }
                ?? PlaybackPlan(
                    mode: .direct, copyVideo: true, audioTrack: nil, copyAudio: true, reason: "not probed (no ffprobe, or it failed)")
            // Offered for direct plans too: the player falls back to it if the browser refuses the file.
            let converted: String? = streams.capability.sign("/transcode/\(stream.torrent.id.hex)/\(stream.file.index)")
            return try JSONResponse.make(
                MediaJSON(
                    info: info, plan: plan, duration: info?.duration, direct: streams.capability.sign(path), converted: converted))
        }
        addTranscodeRoute(to: router)
    }

    /// `/transcode` alone (the LAN face has it for casts of files the TV cannot play).
    func addTranscodeRoute(to router: Router<Context>) {
        router.get("/transcode/:infohash/:file") { request, context in
            try streams.checkCapability(request)
            let stream = try await streams.stream(context)
            let start = max(0, Double(request.uri.queryParameters.get("start") ?? "") ?? 0)
            let path = "/stream/\(stream.torrent.id.hex)/\(stream.file.index)"
            guard let info = await probe(stream, path: path) else {
                throw HTTPError(.unprocessableContent, message: "ffprobe could not read this file, so it cannot be converted")
            }
            // The sound track the user picked (the player's menu), if any.
            let audio = request.uri.queryParameters.get("audio").flatMap { Int($0) }
            let plan = PlaybackPlan.make(for: info, fileName: stream.file.name, audio: audio)
            return try await transcode(plan: plan, input: selfURL(path), start: start)
        }
    }

    private func selfURL(_ path: String) -> String { "http://\(selfHost):\(allowlist.port)" + streams.capability.sign(path) }

    /// ffprobe through our own URL, once per file.
    private func probe(_ stream: FileStream, path: String) async -> MediaInfo? {
        let key = "\(stream.torrent.id.hex)/\(stream.file.index)"
        if let known = transcodes.probes.withLock({ $0[key] }) { return known }
        let info = await MediaProbe.probe(selfURL(path))
        if let info {
            transcodes.probes.withLock { $0[key] = info }
            if let rate = info.bytesPerSecond { stream.setBitrate(bytesPerSecond: rate) }
        }
        return info
    }

    private func transcode(plan: PlaybackPlan, input: String, start: Double) async throws -> Response {
        let job = try await Transcode.start(arguments: plan.ffmpegArguments(input: input, start: start))
        transcodes.admit(job)
        let headers: HTTPFields = [.contentType: "video/mp4", .cacheControl: "no-store"]
        let body = ResponseBody { writer in
            defer { transcodes.release(job) }
            var wrote = 0
            try await job.withOutput { output in
                for try await chunk in output {
                    wrote += chunk.readableBytes
                    try await writer.write(chunk)
                }
            }
            if wrote == 0, let line = job.errorLine {
                // Headers are gone already; the log is where this can be read.
                FileHandle.standardError.write(Data("matinee: ffmpeg: \(line)\n".utf8))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}

/// At most `limit` ffmpeg processes at once: a new one (a seek, another
/// viewer) stops the oldest. Also keeps the probe results.
final class TranscodeLimiter: Sendable {
    let limit: Int
    private let running = Mutex<[ObjectIdentifier: (Transcode, ContinuousClock.Instant)]>([:])
    let probes = Mutex<[String: MediaInfo]>([:])

    init(limit: Int = 3) { self.limit = limit }

    func admit(_ job: Transcode) {
        let evicted: [Transcode] = running.withLock { r in
            r[ObjectIdentifier(job)] = (job, .now)
            guard r.count > limit else { return [] }
            let oldest = r.sorted { $0.value.1 < $1.value.1 }.prefix(r.count - limit)
            for o in oldest { r[o.key] = nil }
            return oldest.map(\.value.0)
        }
        evicted.forEach { $0.stop() }
    }

    func release(_ job: Transcode) {
        _ = running.withLock { $0.removeValue(forKey: ObjectIdentifier(job)) }
    }
}
