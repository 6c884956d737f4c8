import Catalog
import Foundation
import Hummingbird
import NIOCore
import NIOPosix

/// Starting streams (docs/api.md): a catalog title for the web UI, any
/// source for `matinee play`, the swarm's health, external players.
struct PlaybackController<Context: RequestContext> {
    let store: CatalogStore
    let playback: PlaybackService?
    let capability: StreamCapability

    func addRoutes(to router: Router<Context>) {
        router.post("/api/play") { request, _ in try await play(request) }
        router.post("/api/streams") { request, _ in
            guard let playback else { throw HTTPError(.serviceUnavailable, message: "streams cannot be started here") }
            // A .torrent of up to 32 MiB, in base64.
            let buffer = try await request.body.collect(upTo: 48 << 20)
            guard let body = try? JSONDecoder().decode(StreamRequest.self, from: Data(buffer: buffer)) else {
                throw HTTPError(.badRequest, message: "expected {\"source\": \"...\"} or {\"torrent\": \"<base64>\"}")
            }
            do {
                var start = try await playback.startStream(body)
                start.path = capability.sign(start.path)
                var r = try JSONResponse.make(start)
                r.status = .created
                return r
            } catch let e as ChannelServiceError {
                return try e.response()
            }
        }
        router.post("/api/files") { request, _ in
            guard let playback else { throw HTTPError(.serviceUnavailable, message: "torrents cannot be read here") }
            let buffer = try await request.body.collect(upTo: 48 << 20)
            guard let body = try? JSONDecoder().decode(StreamRequest.self, from: Data(buffer: buffer)) else {
                throw HTTPError(.badRequest, message: "expected {\"source\": \"...\"} or {\"torrent\": \"<base64>\"}")
            }
            do {
                return try JSONResponse.make(try await playback.listFiles(body))
            } catch let e as ChannelServiceError {
                return try e.response()
            }
        }
        router.get("/api/swarm") { request, _ in
            let q = request.uri.queryParameters
            guard let playback, let ref = q.get("ref") else { throw HTTPError(.badRequest, message: "expected ?ref=ID") }
            do {
                return try JSONResponse.make(try await playback.swarm(ref: ref, episode: q.get("episode"), quality: q.get("quality")))
            } catch let e as ChannelServiceError {
                return try e.response()
            }
        }
        router.get("/api/play/progress") { request, _ in
            let q = request.uri.queryParameters
            guard let ref = q.get("ref") else { throw HTTPError(.badRequest, message: "expected ?ref=ID") }
            guard let progress = await playback?.startProgress(ref: ref, episode: q.get("episode")) else {
                throw HTTPError(.notFound, message: "nothing is starting for that title")
            }
            return try JSONResponse.make(progress)
        }
        router.post("/api/play/cancel") { request, _ in
            let buffer = try await request.body.collect(upTo: 16 << 10)
            guard let body = try? JSONDecoder().decode(PlayBody.self, from: Data(buffer: buffer)) else {
                throw HTTPError(.badRequest, message: "expected {\"ref\": \"...\"}")
            }
            guard playback?.cancelStart(ref: body.ref, episode: body.episode) == true else {
                throw HTTPError(.notFound, message: "nothing is starting for that title")
            }
            return try JSONResponse.make(["message": "Stopped."])
        }
        router.get("/api/players") { _, _ in try JSONResponse.make(playback?.externalPlayers() ?? []) }
        router.post("/api/players/open") { request, _ in try await openExternal(request) }
    }

    private func play(_ request: Request) async throws -> Response {
        guard let playback else { throw HTTPError(.serviceUnavailable, message: "playing is not possible here") }
        let buffer = try await request.body.collect(upTo: 16 << 10)
        guard let body = try? JSONDecoder().decode(PlayBody.self, from: Data(buffer: buffer)) else {
            throw HTTPError(.badRequest, message: "expected {\"ref\": \"...\"}")
        }
        do {
            let (path, label) = try await playback.play(ref: body.ref, episode: body.episode, quality: body.quality)
            // Subtitle tracks of the chosen source, as WebVTT URLs.
            let infohash = path.split(separator: "/").dropFirst().first.map(String.init) ?? ""
            var subtitles: [SubtitleJSON] = []
            if let entry = try await store.title(ref: body.ref),
                let source = entry.document.allSources.first(where: { $0.infohash.lowercased() == infohash })
            {
                let ref = body.ref.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? body.ref
                for (i, sub) in (source.subtitles ?? []).enumerated() {
                    subtitles.append(
                        SubtitleJSON(
                            language: sub.language, label: sub.label ?? sub.language,
                            url: "/api/subtitles?ref=\(ref)&infohash=\(infohash)&index=\(i)"))
                }
            }
            let parts = path.split(separator: "/")
            let media = parts.count == 3 ? "/api/media/\(parts[1])/\(parts[2])" : nil
            return try JSONResponse.make(PlayJSON(url: capability.sign(path), label: label, subtitles: subtitles, media: media))
        } catch let e as ChannelServiceError {
            return try e.response()
        }
    }

    /// Hands a stream the page is allowed to play (its URL carries a valid
    /// capability) to mpv or VLC, with a fresh capability of its own.
    private func openExternal(_ request: Request) async throws -> Response {
        guard let playback else { throw HTTPError(.serviceUnavailable, message: "no external player can be started here") }
        let buffer = try await request.body.collect(upTo: 16 << 10)
        guard let body = try? JSONDecoder().decode(OpenPlayerBody.self, from: Data(buffer: buffer)),
            let parts = URLComponents(string: body.url), parts.path.hasPrefix("/stream/")
        else { throw HTTPError(.badRequest, message: "expected {\"player\": \"mpv\", \"url\": \"/stream/…\"}") }
        let q = parts.queryItems ?? []
        guard capability.allows(path: parts.path, exp: q.first { $0.name == "exp" }?.value, cap: q.first { $0.name == "cap" }?.value) else {
            throw HTTPError(.forbidden, message: "this stream link is not valid or has expired: ask Matinee for a new one")
        }
        let origin = "http://" + (request.head.authority ?? "127.0.0.1")
        let start = max(0, min(body.start ?? 0, 360_000))
        do {
            let line = try await playback.openExternal(
                player: body.player, url: origin + capability.sign(parts.path), title: body.title ?? "Matinee", start: start)
            return try JSONResponse.make(["message": line])
        } catch let e as ChannelServiceError {
            return try e.response()
        }
    }
}

// MARK: JSON shapes (docs/api.md)

struct SubtitleJSON: Encodable {
    var language: String
    var label: String
    var url: String
}

struct OpenPlayerBody: Decodable {
    var player: String
    /// The /stream URL the page plays (with its capability).
    var url: String
    var title: String?
    var start: Double?
}

struct PlayJSON: Encodable {
    /// The file as it is, with a capability.
    var url: String
    var label: String
    var subtitles: [SubtitleJSON]
    /// `/api/media/…`: how the browser can play it (`MediaController`).
    var media: String?
}

struct PlayBody: Decodable {
    var ref: String
    var episode: String?
    var quality: String?
}
