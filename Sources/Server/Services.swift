import Foundation
import Hummingbird

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
    /// Opens any source for streaming (`matinee play` through the running
    /// daemon); the path it returns is signed by the route.
    func startStream(_ request: StreamRequest) async throws -> StreamStart
    /// The files of a source (`matinee play --list` through the running
    /// daemon): its metadata is fetched if need be, nothing is downloaded.
    func listFiles(_ request: StreamRequest) async throws -> [TorrentFileJSON]
    /// A start of `play(ref:…)` still waiting: what it found so far; nil if
    /// none waits for this title and episode.
    func startProgress(ref: String, episode: String?) async -> StartProgress?
    /// Stops that start (its `play` then fails); false if none waits.
    func cancelStart(ref: String, episode: String?) -> Bool
}

extension PlaybackService {
    public func startProgress(ref: String, episode: String?) async -> StartProgress? { nil }
    public func cancelStart(ref: String, episode: String?) -> Bool { false }
}

/// `GET /api/play/progress`: a start that waits, as its page shows it.
public struct StartProgress: Codable, Sendable, Equatable {
    public var seconds: Double
    /// Nodes in the DHT's routing table.
    public var dhtNodes: Int
    /// Connected, and known (found but not connected).
    public var peers: Int
    public var knownPeers: Int
    /// Verified bytes so far.
    public var bytes: Int64
    /// The torrent's metadata is known (a magnet's comes from its first peers).
    public var hasMetadata: Bool

    public init(seconds: Double, dhtNodes: Int, peers: Int = 0, knownPeers: Int = 0, bytes: Int64 = 0, hasMetadata: Bool = false) {
        self.seconds = seconds
        self.dhtNodes = dhtNodes
        self.peers = peers
        self.knownPeers = knownPeers
        self.bytes = bytes
        self.hasMetadata = hasMetadata
    }
}

/// One file of a torrent, as `POST /api/files` lists it.
public struct TorrentFileJSON: Codable, Sendable, Equatable {
    public var index: Int
    public var path: String
    public var size: Int64

    public init(index: Int, path: String, size: Int64) {
        self.index = index
        self.path = path
        self.size = size
    }
}

/// `POST /api/streams`: what to stream. One of `source` (a magnet link,
/// info-hash, http(s) URL or catalog title id) and `torrent` (a .torrent's
/// bytes, base64).
public struct StreamRequest: Codable, Sendable {
    public var source: String?
    public var torrent: String?
    /// Where the .torrent came from, for messages.
    public var name: String?
    /// By index or name; nil: the largest video.
    public var file: String?
    public var episode: String?
    public var quality: String?
    /// HOST:PORT peers to connect to directly.
    public var peers: [String]?
    /// Seconds to wait for peers before giving up (default 60).
    public var timeout: Int?

    public init(
        source: String? = nil, torrent: String? = nil, name: String? = nil, file: String? = nil, episode: String? = nil,
        quality: String? = nil, peers: [String]? = nil, timeout: Int? = nil
    ) {
        self.source = source
        self.torrent = torrent
        self.name = name
        self.file = file
        self.episode = episode
        self.quality = quality
        self.peers = peers
        self.timeout = timeout
    }
}

/// The answer to `POST /api/streams`.
public struct StreamStart: Codable, Sendable {
    /// `/stream/<infohash>/<file>`; signed (with its capability) in the answer.
    public var path: String
    public var infoHash: String
    public var file: Int
    /// The file's path in the torrent.
    public var name: String
    public var size: Int64
    /// For a catalog title: "Sintel (720p)".
    public var label: String?

    public init(path: String, infoHash: String, file: Int, name: String, size: Int64, label: String?) {
        self.path = path
        self.infoHash = infoHash
        self.file = file
        self.name = name
        self.size = size
        self.label = label
    }
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
    public func startStream(_ request: StreamRequest) async throws -> StreamStart {
        throw ChannelServiceError("streams cannot be started here", badInput: true)
    }
    public func listFiles(_ request: StreamRequest) async throws -> [TorrentFileJSON] {
        throw ChannelServiceError("torrents cannot be read here", badInput: true)
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

extension ChannelServiceError {
    /// 422 for input that is wrong, 502 for a swarm or DHT that failed us.
    func response() throws -> Response {
        var r = try JSONResponse.make(["error": message])
        r.status = badInput ? .unprocessableContent : .badGateway
        return r
    }
}
