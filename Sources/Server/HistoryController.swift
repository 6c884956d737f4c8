import Catalog
import Foundation
import Hummingbird

/// Watch history (docs/api.md): where each title was left, for Continue watching.
struct HistoryController<Context: RequestContext> {
    let store: CatalogStore

    func addRoutes(to router: Router<Context>) {
        router.put("/api/history") { request, _ in
            let buffer = try await request.body.collect(upTo: 16 << 10)
            guard let body = try? JSONDecoder().decode(ProgressBody.self, from: Data(buffer: buffer)) else {
                throw HTTPError(.badRequest, message: "expected {\"ref\", \"position\", \"duration\"}")
            }
            do {
                try await store.saveProgress(ref: body.ref, episode: body.episode ?? "", position: body.position, duration: body.duration)
            } catch let e as CatalogError {
                throw HTTPError(e.kind == .notFound ? .notFound : .badRequest, message: e.message)
            }
            return Response(status: .noContent)
        }
        router.get("/api/history") { _, _ in
            var out: [HistoryJSON] = []
            for h in try await store.history() {
                guard let e = try await store.entry(channelKey: h.channelKey, titleId: h.titleId) else { continue }
                out.append(
                    HistoryJSON(
                        entry: TitleJSON(e), episode: h.episode.isEmpty ? nil : h.episode, position: h.position,
                        duration: h.duration, watched: h.watched, updatedAt: h.updatedAt, hidden: h.hidden))
            }
            return try JSONResponse.make(out)
        }
        router.delete("/api/history") { request, _ in
            guard let ref = request.uri.queryParameters.get("ref") else { throw HTTPError(.badRequest, message: "expected ?ref=ID") }
            do {
                try await store.hideFromContinue(ref: ref)
            } catch let e as CatalogError {
                throw HTTPError(e.kind == .notFound ? .notFound : .badRequest, message: e.message)
            }
            return Response(status: .noContent)
        }
        router.get("/api/mylist") { _, _ in try JSONResponse.make(try await store.myList().map(TitleJSON.init)) }
        router.put("/api/mylist") { request, _ in try await setOnMyList(request, true) }
        router.delete("/api/mylist") { request, _ in try await setOnMyList(request, false) }
    }

    private func setOnMyList(_ request: Request, _ on: Bool) async throws -> Response {
        guard let ref = request.uri.queryParameters.get("ref") else { throw HTTPError(.badRequest, message: "expected ?ref=ID") }
        do {
            try await store.setOnMyList(ref: ref, on)
        } catch let e as CatalogError {
            throw HTTPError(e.kind == .notFound ? .notFound : .badRequest, message: e.message)
        }
        return Response(status: .noContent)
    }
}

// MARK: JSON shapes (docs/api.md)

struct ProgressBody: Decodable {
    var ref: String
    var episode: String?
    var position: Double
    var duration: Double
}

struct HistoryJSON: Encodable {
    var entry: TitleJSON
    var episode: String?
    var position: Double
    var duration: Double
    var watched: Bool
    var updatedAt: String
    /// Taken out of Continue watching by the user.
    var hidden: Bool
}
