import Foundation
import Hummingbird
import TorrentKit

/// One download, as the Downloads page shows it.
public struct DownloadInfo: Codable, Sendable, Equatable {
    public var infoHash: String
    public var name: String
    /// Bytes of the selected files, and how many of them are verified.
    public var size: Int64
    public var done: Int64
    /// "downloading", "seeding", "finished" (not sharing), "checking" or
    /// "disk-full" (stopped until there is room; `problem` says more).
    public var state: String
    public var uploaded: Int64
    public var downloaded: Int64
    public var peers: Int
    /// A player has it open now.
    public var playing: Bool
    public var folder: String
    /// Why it does not download, for people; nil when all is well.
    public var problem: String?

    public init(
        infoHash: String, name: String, size: Int64, done: Int64, state: String, uploaded: Int64,
        downloaded: Int64, peers: Int, playing: Bool, folder: String, problem: String? = nil
    ) {
        self.problem = problem
        self.infoHash = infoHash
        self.name = name
        self.size = size
        self.done = done
        self.state = state
        self.uploaded = uploaded
        self.downloaded = downloaded
        self.peers = peers
        self.playing = playing
        self.folder = folder
    }
}

/// The daemon's side of the Settings and Downloads pages.
public protocol LibraryService: Sendable {
    func settings() async -> AppSettings
    /// Saves and applies what can be applied at once; returns a line to show
    /// (saying what waits for a restart). Throws `ChannelServiceError`.
    func updateSettings(_ settings: AppSettings) async throws -> String
    func downloads() async -> [DownloadInfo]
    /// Throws `ChannelServiceError` (bad input: no such download).
    func removeDownload(infoHash: String, deleteData: Bool) async throws -> String
    /// Shares a torrent whose data is complete in `savePath` (`matinee
    /// seed` through the running daemon); returns a line to show.
    func addSeed(torrent: [UInt8], savePath: String) async throws -> String
    /// How the engine reaches peers in this run (a proxy, incoming
    /// connections, anonymous mode), which may differ from the saved
    /// settings until a restart.
    func network() async -> NetworkInfo
}

/// `GET /api/network`: how peers are reached in this run.
public struct NetworkInfo: Codable, Sendable, Equatable {
    /// The proxy in use, without its password; nil: none.
    public var proxy: String?
    public var proxyOnly: Bool
    public var anonymousMode: Bool
    /// Whether peers can connect to us (not through a proxy).
    public var incoming: Bool
    /// Why the proxy cannot be used right now, for people; nil if nothing failed.
    public var problem: String?
    /// One sentence for the Settings page.
    public var summary: String

    public init(proxy: String?, proxyOnly: Bool, anonymousMode: Bool, incoming: Bool, problem: String?, summary: String) {
        self.proxy = proxy
        self.proxyOnly = proxyOnly
        self.anonymousMode = anonymousMode
        self.incoming = incoming
        self.problem = problem
        self.summary = summary
    }
}

/// `POST /api/downloads`: a torrent to share from data already on disk.
struct SeedBody: Decodable {
    /// The .torrent, base64.
    var torrent: String
    /// The folder holding the torrent's file or top folder (absolute).
    var savePath: String
}

/// The Downloads page (docs/api.md): `GET /api/downloads`,
/// `DELETE /api/downloads/<infohash>[?data=1]`.
struct LibraryController<Context: RequestContext> {
    let service: LibraryService

    func addRoutes(to router: Router<Context>) {
        router.get("/api/downloads") { _, _ in try JSONResponse.make(await service.downloads()) }
        router.post("/api/downloads") { request, _ in
            let buffer = try await request.body.collect(upTo: 48 << 20)
            guard let body = try? JSONDecoder().decode(SeedBody.self, from: Data(buffer: buffer)),
                let bytes = Data(base64Encoded: body.torrent)
            else {
                throw HTTPError(.badRequest, message: "expected {\"torrent\": \"<base64>\", \"savePath\": \"/…\"}")
            }
            guard body.savePath.hasPrefix("/") else {
                return try ChannelServiceError("savePath must be absolute", badInput: true).response()
            }
            do {
                var r = try JSONResponse.make(["message": try await service.addSeed(torrent: Array(bytes), savePath: body.savePath)])
                r.status = .created
                return r
            } catch let e as ChannelServiceError {
                return try e.response()
            }
        }
        router.delete("/api/downloads/:infohash") { request, context in
            guard let hex = context.parameters.get("infohash"), TorrentID(string: hex) != nil else {
                throw HTTPError(.badRequest, message: "not an info-hash (40 hex digits)")
            }
            let data = request.uri.queryParameters.get("data") == "1"
            do {
                return try JSONResponse.make(["message": try await service.removeDownload(infoHash: hex.lowercased(), deleteData: data)])
            } catch let e as ChannelServiceError {
                return try e.response()
            }
        }
    }
}
