public import Catalog
import Foundation
import Hummingbird

/// The channels followed (docs/api.md): list, add, refresh, remove.
struct ChannelsController<Context: RequestContext> {
    let store: CatalogStore
    let service: ChannelService?

    func addRoutes(to router: Router<Context>) {
        router.get("/api/channels") { _, _ in
            let channels = try await store.channels()
            let names = ChannelNames.display(channels)
            return try JSONResponse.make(channels.map { ChannelJSON($0, name: names[$0.key] ?? $0.name) })
        }
        router.post("/api/channels") { request, context in try await addChannel(request, context) }
        router.post("/api/channels/:key/refresh") { _, context in
            guard let key = context.parameters.get("key")?.removingPercentEncoding else { throw HTTPError(.badRequest) }
            guard let service else { throw HTTPError(.serviceUnavailable, message: "channels cannot be changed here") }
            guard try await store.channel(key) != nil else { throw HTTPError(.notFound, message: "not following that channel") }
            do {
                return try JSONResponse.make(["message": try await service.refreshChannel(key: key)])
            } catch let e as ChannelServiceError {
                return try e.response()
            }
        }
        router.delete("/api/channels/:key") { _, context in
            guard let key = context.parameters.get("key")?.removingPercentEncoding else { throw HTTPError(.badRequest) }
            guard let service else { throw HTTPError(.serviceUnavailable, message: "channels cannot be changed here") }
            guard try await store.channel(key) != nil else { throw HTTPError(.notFound, message: "not following that channel") }
            try await service.removeChannel(key: key)
            return Response(status: .noContent)
        }
    }

    private func addChannel(_ request: Request, _ context: Context) async throws -> Response {
        guard let service else { throw HTTPError(.serviceUnavailable, message: "channels cannot be changed here") }
        let buffer = try await request.body.collect(upTo: 16 << 10)
        guard let body = try? JSONDecoder().decode(AddChannelBody.self, from: Data(buffer: buffer)) else {
            throw HTTPError(.badRequest, message: "expected {\"address\": \"...\"}")
        }
        do {
            let message = try await service.addChannel(address: body.address)
            var r = try JSONResponse.make(["message": message])
            r.status = .created
            return r
        } catch let e as ChannelServiceError {
            return try e.response()
        }
    }
}

// MARK: JSON shapes (docs/api.md)

struct AddChannelBody: Decodable {
    var address: String
}

/// A followed channel, as `GET /api/channels` lists it (clients decode it too).
public struct ChannelJSON: Codable, Sendable {
    public var key: String
    public var name: String
    public var address: String
    public var local: Bool
    public var titles: Int
    public var version: Int64
    public var stale: Bool
    public var error: String?
    public var refreshed: String?
    /// When this version stops being fresh (the catalog's `expires`).
    public var expires: String?
    /// What the channel says of itself (its catalog's description).
    public var about: String?

    /// `name`: as people see it (ChannelNames), with the start of the
    /// address beside a name that does not tell the channel apart.
    public init(_ c: CatalogStore.Channel, name: String) {
        key = c.key
        self.name = name
        address = c.address
        local = c.isLocal
        titles = c.titleCount
        version = c.highestSequence
        stale = c.isStale
        error = c.lastError
        refreshed = c.refreshedAt
        expires = c.expires
        about = c.about
    }
}
