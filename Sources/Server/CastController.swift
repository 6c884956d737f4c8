import Foundation
import Hummingbird

/// Casting to a TV (issue 14): the renderers on the LAN, one cast at a time,
/// and the player as its remote. The daemon keeps the cast.
public protocol CastService: Sendable {
    /// The renderers that answered a search (`refresh`: search again now,
    /// otherwise a search of the last minute is reused).
    func renderers(refresh: Bool) async -> [RendererJSON]
    /// Plays the open stream `/stream/<infoHash>/<file>` on `renderer` (its
    /// UDN), from `start` seconds, with `subtitles` shown where the device
    /// can. Throws `ChannelServiceError`.
    func startCast(
        infoHash: String, file: Int, title: String, renderer: String, start: Double, subtitles: CastSubtitles?
    ) async throws -> CastJSON
    /// The cast and what the renderer says of it; nil when nothing is cast.
    func castStatus() async -> CastJSON?
    /// play, pause, seek (`value`: seconds), volume (`value`: 0–100) or stop.
    /// Throws `ChannelServiceError`.
    func controlCast(action: String, value: Double?) async throws -> CastJSON?
}

/// Subtitles to show on the TV: WebVTT text, and its language if known.
public struct CastSubtitles: Sendable {
    public var webVTT: String
    public var language: String?

    public init(webVTT: String, language: String?) {
        self.webVTT = webVTT
        self.language = language
    }
}

/// A renderer as `GET /api/cast/renderers` lists it.
public struct RendererJSON: Codable, Sendable, Equatable {
    public var udn: String
    public var name: String
    public var model: String
    public var host: String
    /// "dlna" or "chromecast".
    public var kind: String

    public init(udn: String, name: String, model: String, host: String, kind: String = "dlna") {
        self.kind = kind
        self.udn = udn
        self.name = name
        self.model = model
        self.host = host
    }
}

/// The cast under way (`GET /api/cast`).
public struct CastJSON: Codable, Sendable, Equatable {
    public var renderer: RendererJSON
    public var title: String
    public var infoHash: String
    public var file: Int
    /// playing, paused, stopped, loading, idle (or the renderer's own word).
    public var state: String
    public var position: Double?
    public var duration: Double?
    /// Why the renderer cannot be reached, when it cannot.
    public var problem: String?

    public init(
        renderer: RendererJSON, title: String, infoHash: String, file: Int, state: String, position: Double?, duration: Double?,
        problem: String? = nil
    ) {
        self.renderer = renderer
        self.title = title
        self.infoHash = infoHash
        self.file = file
        self.state = state
        self.position = position
        self.duration = duration
        self.problem = problem
    }
}

struct CastBody: Decodable {
    var infoHash: String
    var file: Int
    var title: String
    var renderer: String
    var start: Double?
    /// One of the title's subtitles (as `/api/subtitles` takes them).
    var subtitles: Subtitles?

    struct Subtitles: Decodable {
        var ref: String
        var infohash: String
        var index: Int
        var language: String?
    }
}

struct CastControlBody: Decodable {
    var action: String
    var value: Double?
}

/// `GET /api/cast/renderers[?refresh=1]`, `POST /api/cast`, `GET /api/cast`,
/// `POST /api/cast/control` (docs/api.md).
struct CastController<Context: RequestContext> {
    let service: CastService
    /// Where subtitles come from (the catalog), when this server has one.
    let titles: TitlesController<Context>?

    func addRoutes(to router: Router<Context>) {
        router.get("/api/cast/renderers") { request, _ in
            try JSONResponse.make(await service.renderers(refresh: request.uri.queryParameters.get("refresh") == "1"))
        }
        router.get("/api/cast") { _, _ in
            guard let status = await service.castStatus() else { throw HTTPError(.notFound, message: "nothing is being cast") }
            return try JSONResponse.make(status)
        }
        router.post("/api/cast") { request, _ in
            let buffer = try await request.body.collect(upTo: 16 << 10)
            guard let body = try? JSONDecoder().decode(CastBody.self, from: Data(buffer: buffer)), body.file >= 0,
                body.title.utf8.count <= 1024, (body.start ?? 0) >= 0, (body.start ?? 0) < 1e7
            else {
                throw HTTPError(
                    .badRequest,
                    message: "expected {\"infoHash\", \"file\", \"title\", \"renderer\", \"start\"?, \"subtitles\"?: {\"ref\", \"infohash\", \"index\", \"language\"?}}")
            }
            var subtitles: CastSubtitles?
            if let s = body.subtitles {
                guard let titles, let vtt = try? await titles.webVTT(ref: s.ref, infohash: s.infohash, index: s.index) else {
                    throw HTTPError(.notFound, message: "no such subtitles")
                }
                let language = s.language.flatMap { $0.count <= 16 && $0.allSatisfy { $0.isLetter || $0 == "-" } ? $0 : nil }
                subtitles = CastSubtitles(webVTT: vtt, language: language)
            }
            do {
                var r = try JSONResponse.make(
                    try await service.startCast(
                        infoHash: body.infoHash, file: body.file, title: body.title, renderer: body.renderer, start: body.start ?? 0,
                        subtitles: subtitles))
                r.status = .created
                return r
            } catch let e as ChannelServiceError {
                return try e.response()
            }
        }
        router.post("/api/cast/control") { request, _ in
            let buffer = try await request.body.collect(upTo: 4 << 10)
            guard let body = try? JSONDecoder().decode(CastControlBody.self, from: Data(buffer: buffer)),
                ["play", "pause", "seek", "volume", "stop"].contains(body.action)
            else {
                throw HTTPError(.badRequest, message: "expected {\"action\": \"play|pause|seek|volume|stop\", \"value\"?}")
            }
            do {
                guard let status = try await service.controlCast(action: body.action, value: body.value) else {
                    return Response(status: .noContent)
                }
                return try JSONResponse.make(status)
            } catch let e as ChannelServiceError {
                return try e.response()
            }
        }
    }
}
