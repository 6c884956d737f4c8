import CLibtorrent

/// A snapshot of one torrent's transfer state.
public struct TorrentStatus: Sendable, Equatable {
    public enum State: String, Sendable {
        case checkingFiles = "checking", downloadingMetadata = "metadata", downloading, finished, seeding
        case checkingResumeData = "checking-resume", unknown
    }
    public var state: State = .unknown
    public var hasMetadata = false
    public var isSeeding = false
    public var isFinished = false
    public var isPaused = false
    /// Not requesting pieces: a write failed (see `DiskTrouble`).
    public var isUploadMode = false
    /// 0...1 of the wanted bytes.
    public var progress: Double = 0
    public var downloadRate = 0
    public var uploadRate = 0
    public var peers = 0
    public var seeds = 0
    /// Peers known from trackers, DHT and PEX, connected or not.
    public var knownPeers = 0
    public var knownSeeds = 0
    public var verifiedPieces = 0
    public var totalDone: Int64 = 0
    public var totalWanted: Int64 = 0
    public var totalWantedDone: Int64 = 0
    public var allTimeDownload: Int64 = 0
    public var allTimeUpload: Int64 = 0
    public var sessionDownload: Int64 = 0
    public var sessionUpload: Int64 = 0
    public var seedingSeconds: Int64 = 0
    public var activeSeconds: Int64 = 0
    public var failedBytes: Int64 = 0
    public var redundantBytes: Int64 = 0

    public init() {}

    init(_ s: mt_status) {
        switch s.state {
        case 1: state = .checkingFiles
        case 2: state = .downloadingMetadata
        case 3: state = .downloading
        case 4: state = .finished
        case 5: state = .seeding
        case 7: state = .checkingResumeData
        default: state = .unknown
        }
        hasMetadata = s.has_metadata
        isSeeding = s.is_seeding
        isFinished = s.is_finished
        isPaused = s.paused
        isUploadMode = s.upload_mode
        progress = Double(s.progress)
        downloadRate = Int(s.download_rate)
        uploadRate = Int(s.upload_rate)
        peers = Int(s.num_peers)
        seeds = Int(s.num_seeds)
        knownPeers = Int(s.list_peers)
        knownSeeds = Int(s.list_seeds)
        verifiedPieces = Int(s.num_pieces)
        totalDone = s.total_done
        totalWanted = s.total_wanted
        totalWantedDone = s.total_wanted_done
        allTimeDownload = s.all_time_download
        allTimeUpload = s.all_time_upload
        sessionDownload = s.total_download
        sessionUpload = s.total_upload
        seedingSeconds = s.seeding_seconds
        activeSeconds = s.active_seconds
        failedBytes = s.total_failed_bytes
        redundantBytes = s.total_redundant_bytes
    }
}

/// What the engine reports, as values. Read in one place (the session's alert
/// thread) and handed to subscribers as an AsyncStream.
public enum TorrentAlert: Sendable {
    case pieceFinished(TorrentID, piece: Int)
    case hashFailed(TorrentID, piece: Int)
    case metadataReceived(TorrentID)
    case metadataFailed(TorrentID, String)
    case checked(TorrentID)
    case finished(TorrentID)
    case status(TorrentID, TorrentStatus)
    case torrentError(TorrentID, String)
    /// A read or write failed ("error: file"). A full disk is also told,
    /// once per episode, as `diskFull`.
    case fileError(TorrentID, String)
    /// Downloading stopped: the disk is full (what was verified is kept).
    case diskFull(TorrentID, DiskTrouble)
    /// There is room again (or it is worth trying): downloading goes on.
    case writesRetried(TorrentID, freeBytes: Int64)
    /// A peer was banned: it sent data that failed the hash check.
    case peerBanned(TorrentID, peer: HostPort)
    case trackerError(TorrentID, String)
    case removed(TorrentID)
    /// A connection attempt to a peer (the message names it, for logs).
    case peerConnected(TorrentID, String)
    /// A peer went away: `message` says which and why (for logs);
    /// `established`: the connection had worked (not a failed attempt).
    case peerDisconnected(TorrentID, peer: HostPort, established: Bool, message: String)
    case listening(address: String, port: Int, tcp: Bool)
    case listenFailed(String, tcp: Bool)
    /// A DHT lookup's answer; `item` nil: nothing stored under the key (yet).
    /// Answers come as they arrive; the last one is `authoritative`, posted
    /// once every DHT node of the session (one per listen socket) finished.
    case dhtItem(key: [UInt8], salt: [UInt8], item: DHTMutableItem?, authoritative: Bool)
    /// A DHT put finished on every DHT node of the session: `nodes` of the
    /// closest nodes stored the item, added up over them.
    case dhtPut(key: [UInt8], salt: [UInt8], sequence: Int64, nodes: Int)
    /// The DHT routing tables (one per DHT node of the session) hold this
    /// many nodes in all.
    case dhtStats(nodes: Int)
    /// One reply to a DHT peer lookup (or announce) for a torrent, from one
    /// of the session's DHT nodes; several come per lookup and none marks
    /// its end.
    case dhtPeers(TorrentID, peers: [HostPort])
    /// The SOCKS5 proxy could not be reached or refused us (`message` says
    /// how, for people); libtorrent keeps trying.
    case proxyFailed(String)
}
