import Catalog
import Foundation
import Hummingbird
import NIOCore
import NIOPosix

/// What the catalog API needs from the running daemon: changes that involve
/// the engine (finding a channel on the DHT).
public protocol ChannelService: Sendable {
    /// Follows a channel; returns a line to show. Throws `ChannelServiceError`.
    func addChannel(address: String) async throws -> String
    func removeChannel(key: String) async throws
    /// Fetches the channel's latest version; returns a line to show.
    func refreshChannel(key: String) async throws -> String
}

/// Starting a stream of a catalog title: the daemon adds the torrent and
/// returns the /stream path of the chosen file.
public protocol PlaybackService: Sendable {
    func play(ref: String, episode: String?, quality: String?) async throws -> (path: String, label: String)
    /// How healthy the title's swarm looks (the title page shows it).
    func swarm(ref: String, episode: String?, quality: String?) async throws -> SwarmInfo
    /// The external players this machine has: "mpv", "vlc".
    func externalPlayers() -> [String]
    /// Starts `player` (one of `externalPlayers()`) on `url`, an absolute
    /// capability URL, from `start` seconds; returns a line to show. Throws
    /// `ChannelServiceError`.
    func openExternal(player: String, url: String, title: String, start: Double) async throws -> String
}

/// A swarm as the title page shows it: from the engine if the torrent is
/// loaded, else from a DHT peer lookup (nothing is added or downloaded).
public struct SwarmInfo: Codable, Sendable {
    /// "engine", "dht", or "unknown" (the DHT did not answer in time).
    public var source: String
    public var peers: Int
    /// Seeds among the connected peers (engine only).
    public var seeds: Int?
    /// 0...1 of the file downloaded (engine only).
    public var progress: Double?

    public init(source: String, peers: Int, seeds: Int? = nil, progress: Double? = nil) {
        self.source = source
        self.peers = peers
        self.seeds = seeds
        self.progress = progress
    }
}

extension PlaybackService {
    public func swarm(ref: String, episode: String?, quality: String?) async throws -> SwarmInfo { SwarmInfo(source: "unknown", peers: 0) }
    public func externalPlayers() -> [String] { [] }
    public func openExternal(player: String, url: String, title: String, start: Double) async throws -> String {
        throw ChannelServiceError("no external player can be started here", badInput: true)
    }
}

/// A refusal to show the user as is.
public struct ChannelServiceError: Error, Sendable {
    public let message: String
    public let badInput: Bool

    public init(_ message: String, badInput: Bool) {
        self.message = message
        self.badInput = badInput
    }
}

/// The catalog routes (docs/api.md): search, one title, artwork, channels.
struct CatalogController<Context: RequestContext> {
    let store: CatalogStore
    let service: ChannelService?
    let playback: PlaybackService?
    let token: CSRFToken
    let capability: StreamCapability
    /// Artwork is served only from under this folder (the downloaded catalogs).
    let artRoot: String

    func addRoutes(to router: Router<Context>) {
        router.get("/api/session") { _, _ in try JSONResponse.make(["csrfToken": token.value]) }
        router.get("/api/titles") { request, _ in try await titles(request) }
        router.get("/api/title") { request, _ in
            guard let ref = request.uri.queryParameters.get("ref"), let entry = try await store.title(ref: ref) else {
                throw HTTPError(.notFound, message: "no such title")
            }
            return try JSONResponse.make(TitleJSON(entry))
        }
        router.get("/api/art") { request, _ in try await art(request) }
        router.get("/api/subtitles") { request, _ in try await subtitles(request) }
        router.post("/api/play") { request, _ in try await play(request) }
        router.get("/api/swarm") { request, _ in
            let q = request.uri.queryParameters
            guard let playback, let ref = q.get("ref") else { throw HTTPError(.badRequest, message: "expected ?ref=ID") }
            do {
                return try JSONResponse.make(try await playback.swarm(ref: ref, episode: q.get("episode"), quality: q.get("quality")))
            } catch let e as ChannelServiceError {
                return try e.response()
            }
        }
        router.get("/api/players") { _, _ in try JSONResponse.make(playback?.externalPlayers() ?? []) }
        router.post("/api/players/open") { request, _ in try await openExternal(request) }
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
                out.append(HistoryJSON(
                    entry: TitleJSON(e), episode: h.episode.isEmpty ? nil : h.episode, position: h.position,
                    duration: h.duration, watched: h.watched, updatedAt: h.updatedAt))
            }
            return try JSONResponse.make(out)
        }
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
            guard let sort = CatalogStore.Sort(rawValue: s) else { throw HTTPError(.badRequest, message: "sort is relevance, title, year or added") }
            q.sort = sort
        }
        q.limit = min(max(Int(p.get("limit") ?? "") ?? 50, 1), 500)
        let groups = try await store.search(q)
        return try JSONResponse.make(groups.map { g in
            GroupJSON(title: g.title, year: g.year, kind: g.kind.rawValue, entries: g.entries.map(TitleJSON.init))
        })
    }

    private func art(_ request: Request) async throws -> Response {
        let p = request.uri.queryParameters
        guard let ref = p.get("ref"), let entry = try await store.title(ref: ref) else { throw HTTPError(.notFound) }
        let file = p.get("kind") == "backdrop" ? entry.backdropFile : entry.posterFile
        guard let file else { throw HTTPError(.notFound) }
        let root = URL(fileURLWithPath: artRoot).resolvingSymlinksInPath().path + "/"
        let resolved = URL(fileURLWithPath: file).resolvingSymlinksInPath().path
        guard resolved.hasPrefix(root) else { throw HTTPError(.notFound) }
        let type = resolved.lowercased().hasSuffix(".png") ? "image/png" : "image/jpeg"
        let data: Data = try await NIOThreadPool.singleton.runIfActive {
            guard let d = FileManager.default.contents(atPath: resolved), d.count <= 5 << 20 else { throw HTTPError(.notFound) }
            return d
        }
        return Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "private, max-age=3600"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
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
                    subtitles.append(SubtitleJSON(
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

    /// A subtitle file from the channel's catalog torrent, as sanitized WebVTT.
    private func subtitles(_ request: Request) async throws -> Response {
        let p = request.uri.queryParameters
        guard let ref = p.get("ref"), let infohash = p.get("infohash")?.lowercased(), let index = Int(p.get("index") ?? ""),
              let entry = try await store.title(ref: ref),
              let source = entry.document.allSources.first(where: { $0.infohash.lowercased() == infohash }),
              let subs = source.subtitles, subs.indices.contains(index), CatalogPath.isSafe(subs[index].path),
              let channel = try await store.channel(entry.channelKey)
        else { throw HTTPError(.notFound) }
        let file = "\(artRoot)/\(entry.channelKey)/\(channel.highestSequence)/\(ChannelResolver.folderName)/\(subs[index].path)"
        let root = URL(fileURLWithPath: artRoot).resolvingSymlinksInPath().path + "/"
        let resolved = URL(fileURLWithPath: file).resolvingSymlinksInPath().path
        guard resolved.hasPrefix(root) else { throw HTTPError(.notFound) }
        // A converted stream that starts at `shift` seconds counts from 0.
        let shift = max(0, min(Double(p.get("shift") ?? "") ?? 0, 360_000))
        let vtt: String = try await NIOThreadPool.singleton.runIfActive {
            guard let d = FileManager.default.contents(atPath: resolved), let v = SubtitleConverter.webVTT(from: Array(d), shift: shift) else {
                throw HTTPError(.notFound)
            }
            return v
        }
        return Response(
            status: .ok, headers: [.contentType: "text/vtt; charset=utf-8", .cacheControl: "private, max-age=3600"],
            body: .init(byteBuffer: ByteBuffer(string: vtt)))
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

extension ChannelServiceError {
    /// 422 for input that is wrong, 502 for a swarm or DHT that failed us.
    func response() throws -> Response {
        var r = try JSONResponse.make(["error": message])
        r.status = badInput ? .unprocessableContent : .badGateway
        return r
    }
}

// MARK: JSON shapes (docs/api.md)

struct AddChannelBody: Decodable {
    var address: String
}

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
}

struct PlayBody: Decodable {
    var ref: String
    var episode: String?
    var quality: String?
}

struct GroupJSON: Encodable {
    var title: String
    var year: Int?
    var kind: String
    var entries: [TitleJSON]
}

struct TitleJSON: Encodable {
    var id: String
    var channel: String
    var channelKey: String
    var title: CatalogDocument.Title
    var poster: String?
    var backdrop: String?

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

struct ChannelJSON: Encodable {
    var key: String
    var name: String
    var address: String
    var local: Bool
    var titles: Int
    var version: Int64
    var stale: Bool
    var error: String?
    var refreshed: String?

    /// `name`: as people see it (ChannelNames), with the start of the
    /// address beside a name that does not tell the channel apart.
    init(_ c: CatalogStore.Channel, name: String) {
        key = c.key
        self.name = name
        address = c.address
        local = c.isLocal
        titles = c.titleCount
        version = c.highestSequence
        stale = c.isStale
        error = c.lastError
        refreshed = c.refreshedAt
    }
}
