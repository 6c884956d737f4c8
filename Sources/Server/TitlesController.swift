public import Catalog
import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import TorrentKit

/// The catalog's titles (docs/api.md): search, one title, its artwork and subtitles.
struct TitlesController<Context: RequestContext> {
    let store: CatalogStore
    /// Artwork and subtitles are served only from under this folder (the downloaded catalogs).
    let artRoot: String

    func addRoutes(to router: Router<Context>) {
        router.get("/api/titles") { request, _ in try await titles(request) }
        router.get("/api/title") { request, _ in
            guard let ref = request.uri.queryParameters.get("ref"), let entry = try await store.title(ref: ref) else {
                throw HTTPError(.notFound, message: "no such title")
            }
            return try JSONResponse.make(TitleJSON(entry))
        }
        router.get("/api/art") { request, _ in try await art(request) }
        router.get("/api/subtitles") { request, _ in try await subtitles(request) }
    }

    private func titles(_ request: Request) async throws -> Response {
        let p = request.uri.queryParameters
        var q = CatalogStore.Query(words: p.get("q") ?? "")
        if let k = p.get("kind") {
            guard let kind = CatalogDocument.Kind(rawValue: k) else { throw HTTPError(.badRequest, message: "kind is movie or series") }
            q.kind = kind
        }
        q.genre = p.get("genre").flatMap { $0.isEmpty ? nil : $0 }
        if let y = p.get("year"), !y.isEmpty {
            guard let year = Int(y) else { throw HTTPError(.badRequest, message: "year is a number") }
            q.year = year
        }
        q.channel = p.get("channel").flatMap { $0.isEmpty ? nil : $0 }
        if let s = p.get("sort") {
            guard let sort = CatalogStore.Sort(rawValue: s) else {
                throw HTTPError(.badRequest, message: "sort is relevance, title, year or added")
            }
            q.sort = sort
        }
        q.limit = min(max(Int(p.get("limit") ?? "") ?? 50, 1), 500)
        let groups = try await store.search(q)
        return try JSONResponse.make(
            groups.map { g in
                GroupJSON(title: g.title, year: g.year, kind: g.kind.rawValue, entries: g.entries.map(TitleJSON.init))
            })
    }

    private func art(_ request: Request) async throws -> Response {
        let p = request.uri.queryParameters
        guard let ref = p.get("ref"), let entry = try await store.title(ref: ref) else { throw HTTPError(.notFound) }
        let file = p.get("kind") == "backdrop" ? entry.backdropFile : entry.posterFile
        guard let file else { throw HTTPError(.notFound) }
        guard let resolved = ContainedPath.resolve(file, under: artRoot) else { throw HTTPError(.notFound) }
        let type = resolved.lowercased().hasSuffix(".png") ? "image/png" : "image/jpeg"
        let data: Data = try await NIOThreadPool.singleton.runIfActive {
            guard let d = FileManager.default.contents(atPath: resolved), d.count <= 5 << 20 else { throw HTTPError(.notFound) }
            return d
        }
        return Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "private, max-age=3600"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A subtitle file from the channel's catalog torrent, as sanitized WebVTT.
    private func subtitles(_ request: Request) async throws -> Response {
        let p = request.uri.queryParameters
        guard let ref = p.get("ref"), let infohash = p.get("infohash"), let index = Int(p.get("index") ?? "") else {
            throw HTTPError(.notFound)
        }
        // A converted stream that starts at `shift` seconds counts from 0.
        let shift = max(0, min(Double(p.get("shift") ?? "") ?? 0, 360_000))
        let vtt = try await webVTT(ref: ref, infohash: infohash, index: index, shift: shift)
        return Response(
            status: .ok, headers: [.contentType: "text/vtt; charset=utf-8", .cacheControl: "private, max-age=3600"],
            body: .init(byteBuffer: ByteBuffer(string: vtt)))
    }

    /// Subtitle `index` of the source `infohash` of title `ref`, read from
    /// its channel's catalog and made WebVTT; 404 when there is none.
    func webVTT(ref: String, infohash: String, index: Int, shift: Double = 0) async throws -> String {
        guard let entry = try await store.title(ref: ref),
            let source = entry.document.allSources.first(where: { $0.infohash.lowercased() == infohash.lowercased() }),
            let subs = source.subtitles, subs.indices.contains(index), CatalogPath.isSafe(subs[index].path),
            let channel = try await store.channel(entry.channelKey)
        else { throw HTTPError(.notFound) }
        let file = "\(artRoot)/\(entry.channelKey)/\(channel.highestSequence)/\(ChannelResolver.folderName)/\(subs[index].path)"
        guard let resolved = ContainedPath.resolve(file, under: artRoot) else { throw HTTPError(.notFound) }
        return try await NIOThreadPool.singleton.runIfActive {
            guard let d = FileManager.default.contents(atPath: resolved), let v = SubtitleConverter.webVTT(from: Array(d), shift: shift)
            else {
                throw HTTPError(.notFound)
            }
            return v
        }
    }
}

// MARK: JSON shapes (docs/api.md)

/// A work and the channels' entries for it, as `GET /api/titles` lists them
/// (clients decode it too).
public struct GroupJSON: Codable, Sendable {
    public var title: String
    public var year: Int?
    public var kind: String
    public var entries: [TitleJSON]
}

/// One channel's entry for a title.
public struct TitleJSON: Codable, Sendable {
    public var id: String
    public var channel: String
    public var channelKey: String
    public var title: CatalogDocument.Title
    public var poster: String?
    public var backdrop: String?

    init(_ e: CatalogStore.Entry) {
        id = e.ref
        channel = e.channelName
        channelKey = e.channelKey
        title = e.document
        let ref = e.ref.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? e.ref
        poster = e.posterFile == nil ? nil : "/api/art?ref=\(ref)&kind=poster"
        backdrop = e.backdropFile == nil ? nil : "/api/art?ref=\(ref)&kind=backdrop"
    }
}
