import Foundation
import Hummingbird

/// Download for offline: a film, an episode or a season fetched whole in the
/// background, then playable with no network. The daemon keeps the list.
public protocol OfflineService: Sendable {
    /// Starts keeping a film, one episode (`episode` "S01E02") or a whole
    /// season (`season`); returns a line to show. Throws `ChannelServiceError`.
    func keep(ref: String, episode: String?, season: Int?, quality: String?) async throws -> String
    /// What is kept, and how far each has come.
    func items() async -> [OfflineItemJSON]
    /// Stops keeping one (`episode` nil: the film, or every episode of the
    /// series) and deletes its data; returns a line to show.
    func remove(ref: String, episode: String?) async throws -> String
}

/// One film or episode kept for offline (`GET /api/offline`).
public struct OfflineItemJSON: Codable, Sendable, Equatable {
    /// The title's ref, as `/api/title` takes it.
    public var ref: String
    /// "S01E02"; nil for a film.
    public var episode: String?
    public var label: String
    public var infoHash: String
    /// Bytes of the file, and of it here (0 of 0 until the metadata is known).
    public var size: Int64
    public var done: Int64
    /// "looking" (for peers, or the torrent's metadata), "downloading",
    /// "ready" (playable with no network) or "stopped" (see `problem`).
    public var state: String
    public var problem: String?

    public init(
        ref: String, episode: String?, label: String, infoHash: String, size: Int64, done: Int64, state: String, problem: String? = nil
    ) {
        self.ref = ref
        self.episode = episode
        self.label = label
        self.infoHash = infoHash
        self.size = size
        self.done = done
        self.state = state
        self.problem = problem
    }
}

struct OfflineBody: Decodable {
    var ref: String
    var episode: String?
    var season: Int?
    var quality: String?
}

/// `POST /api/offline`, `GET /api/offline`, `DELETE /api/offline?ref=R[&episode=E]` (docs/api.md).
struct OfflineController<Context: RequestContext> {
    let service: OfflineService

    func addRoutes(to router: Router<Context>) {
        router.get("/api/offline") { _, _ in try JSONResponse.make(await service.items()) }
        router.post("/api/offline") { request, _ in
            let buffer = try await request.body.collect(upTo: 16 << 10)
            guard let body = try? JSONDecoder().decode(OfflineBody.self, from: Data(buffer: buffer)) else {
                throw HTTPError(.badRequest, message: "expected {\"ref\": \"...\"} with an \"episode\" or a \"season\" for a series")
            }
            do {
                var r = try JSONResponse.make(
                    ["message": try await service.keep(ref: body.ref, episode: body.episode, season: body.season, quality: body.quality)])
                r.status = .accepted
                return r
            } catch let e as ChannelServiceError {
                return try e.response()
            }
        }
        router.delete("/api/offline") { request, _ in
            let q = request.uri.queryParameters
            guard let ref = q.get("ref") else { throw HTTPError(.badRequest, message: "expected ?ref=ID") }
            do {
                return try JSONResponse.make(["message": try await service.remove(ref: ref, episode: q.get("episode"))])
            } catch let e as ChannelServiceError {
                return try e.response()
            }
        }
    }
}
