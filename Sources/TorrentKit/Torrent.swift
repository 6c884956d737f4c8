import CLibtorrent
import Dispatch
import Synchronization

/// An opaque libtorrent pointer that may cross threads; the shim's calls are
/// thread-safe (they post to libtorrent's network thread).
struct EnginePointer: @unchecked Sendable {
    let raw: OpaquePointer
}

/// A torrent's shim handle, freed when the last holder lets go: the Torrent,
/// or a block still queued on the engine queue with it (a refused torrent is
/// dropped at once, while its metadata alert's refresh may still be queued;
/// freeing the handle under that block was a use after free).
final class TorrentHandle: @unchecked Sendable {
    let raw: OpaquePointer

    init(_ p: EnginePointer) { raw = p.raw }

    deinit { mt_torrent_free(raw) }
}

/// One torrent in a session. Setters return at once (libtorrent queues them
/// on its network thread); queries that need a round trip are `async` and run
/// on the session's engine queue, never on a concurrency or event-loop thread.
public final class Torrent: Sendable {
    public let id: TorrentID
    /// Verified pieces, kept current from alerts.
    public let pieces = PieceSet()
    let handle: TorrentHandle
    let engine: EngineQueue
    /// The download folder it was added with.
    public let savePath: String

    private struct State {
        var metadata: TorrentMetadata?
        var metadataWaiters: [Int: CheckedContinuation<Void, any Error>] = [:]
        var metadataArrived = false
        var resumeWaiters: [CheckedContinuation<[UInt8], any Error>] = []
        var latest = TorrentStatus()
        var removed = false
        var nextToken = 0
        var knownPeers: [HostPort] = []
        var diskTrouble: DiskTrouble?
        var banned: [HostPort] = []
    }

    private let state = Mutex(State())

    /// The session's proxy, for `trouble`.
    private let proxyHealth: ProxyHealth?

    init(id: TorrentID, handle: EnginePointer, engine: EngineQueue, savePath: String, proxyHealth: ProxyHealth? = nil) {
        self.proxyHealth = proxyHealth
        self.id = id
        self.handle = TorrentHandle(handle)
        self.engine = engine
        self.savePath = savePath
    }

    // MARK: Why nothing downloads

    /// Peers banned for sending data that failed the hash check, this run.
    public var bannedPeers: [HostPort] { state.withLock { $0.banned } }

    /// Why nothing downloads, for people, or nil: a full disk, only peers
    /// that sent bad data (banned, so none is left while the swarm is looked
    /// through again), or a proxy that does not answer.
    public var trouble: String? {
        let (disk, banned, st, pieceCount) = state.withLock { ($0.diskTrouble, $0.banned.count, $0.latest, $0.metadata?.pieceCount) }
        if let disk { return "\(disk.summary): downloading stopped until there is room" }
        let complete = pieceCount.map { pieces.count >= $0 } ?? false
        if banned > 0 && st.peers == 0 && !st.isSeeding && !st.isFinished && !complete {
            let who = banned == 1 ? "the only peer" : "the only \(banned) peers"
            return "\(who) sent data that failed its hash check and \(banned == 1 ? "was" : "were") banned; looking for others"
        }
        if st.peers == 0 && !st.isSeeding && !st.isFinished && !complete, let proxy = proxyHealth?.trouble { return proxy }
        return nil
    }

    /// Set while downloading is stopped by a full disk; nil otherwise.
    public var diskTrouble: DiskTrouble? { state.withLock { $0.diskTrouble } }

    /// Records a failed write on a full disk: the trouble if this starts an
    /// episode, nil if one is already under way (its free space updated).
    func noteDiskFull(file: String, freeBytes: Int64) -> DiskTrouble? {
        state.withLock { s in
            guard s.diskTrouble == nil else {
                s.diskTrouble?.freeBytes = freeBytes
                return nil
            }
            let t = DiskTrouble(folder: savePath, file: file, freeBytes: freeBytes)
            s.diskTrouble = t
            return t
        }
    }

    func updateFreeBytes(_ n: Int64) { state.withLock { $0.diskTrouble?.freeBytes = n } }

    /// Lets the torrent request pieces again after a full disk.
    func retryWrites() {
        state.withLock { $0.diskTrouble = nil }
        mt_torrent_retry_writes(handle.raw)
    }

    // MARK: Queries

    /// The torrent's files and pieces; waits for a magnet link's metadata.
    /// Throws `.unsafePath` if the metadata names a path outside the download folder.
    public func metadata() async throws -> TorrentMetadata {
        while true {
            if let m = state.withLock({ $0.metadata }) { return m }
            if let m = try await loadMetadata() { return m }
            try await waitForMetadataSignal()
        }
    }

    /// The metadata if already known, without waiting.
    public var knownMetadata: TorrentMetadata? { state.withLock { $0.metadata } }

    private func loadMetadata() async throws -> TorrentMetadata? {
        let h = handle
        let loaded: Result<TorrentMetadata, any Error>? = await engine.run {
            guard let info = mt_torrent_info(h.raw) else { return nil }
            defer { mt_info_free(info) }
            return Result { try TorrentMetadata(info: info) }
        }
        guard let loaded else { return nil }
        let m = try loaded.get()
        try TorrentPathCheck.validate(infoDictionary: m.infoSection)
        pieces.resize(to: m.pieceCount)
        state.withLock { $0.metadata = m }
        return m
    }

    private func waitForMetadataSignal() async throws {
        let token = state.withLock { s -> Int in
            s.nextToken += 1
            return s.nextToken
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let ready: Result<Void, any Error>? = state.withLock { s in
                    if s.removed { return .failure(EngineError(.notFound, "the torrent was removed")) }
                    if s.metadataArrived || s.metadata != nil { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    s.metadataWaiters[token] = c
                    return nil
                }
                if let ready { c.resume(with: ready) }
            }
        } onCancel: {
            state.withLock { $0.metadataWaiters.removeValue(forKey: token) }?.resume(throwing: CancellationError())
        }
    }

    /// The .torrent file for this torrent (for a magnet link: once its
    /// metadata arrived), so a later run need not fetch the metadata again.
    public func torrentFile() async -> [UInt8]? {
        let h = handle
        return await engine.run {
            guard let info = mt_torrent_info(h.raw) else { return nil }
            defer { mt_info_free(info) }
            var err = mt_error()
            var out: UnsafeMutablePointer<UInt8>?
            var len = 0
            guard mt_info_torrent_file(info, &out, &len, &err) == 0, let out else { return nil }
            defer { mt_free(out) }
            return Array(UnsafeBufferPointer(start: out, count: len))
        }
    }

    /// A fresh status (a round trip to the engine).
    public func status() async -> TorrentStatus {
        let h = handle
        return await engine.run {
            var s = mt_status()
            _ = mt_torrent_status(h.raw, &s)
            return TorrentStatus(s)
        }
    }

    /// The status from the last periodic update (at most about a second old).
    public var latestStatus: TorrentStatus { state.withLock { $0.latest } }

    /// Asks libtorrent for the resume data and waits for it.
    public func resumeData() async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<[UInt8], any Error>) in
            let removed = state.withLock { s -> Bool in
                if s.removed { return true }
                s.resumeWaiters.append(c)
                return false
            }
            if removed {
                c.resume(throwing: EngineError(.notFound, "the torrent was removed"))
            } else {
                mt_torrent_save_resume_data(handle.raw)
            }
        }
    }

    // MARK: Commands (non-blocking)

    /// Asks for `piece` within `milliseconds`; it becomes the most urgent request.
    public func setDeadline(piece: Int, milliseconds: Int) {
        mt_torrent_set_piece_deadline(handle.raw, Int32(piece), Int32(max(0, milliseconds)))
    }

    /// Drops a piece's deadline and gives it `priority` (0...7) again.
    public func clearDeadline(piece: Int, priority: Int) {
        mt_torrent_reset_piece_deadline(handle.raw, Int32(piece), Int32(priority))
    }

    /// One priority (0 = skip, 1...7) per file.
    public func setFilePriorities(_ priorities: [Int]) {
        let p = priorities.map { UInt8(clamping: $0) }
        p.withUnsafeBufferPointer { mt_torrent_prioritize_files(handle.raw, $0.baseAddress, $0.count) }
    }

    public func setPiecePriority(_ piece: Int, _ priority: Int) {
        mt_torrent_set_piece_priority(handle.raw, Int32(piece), Int32(priority))
    }

    /// Sequential download: libtorrent then takes the top-priority (7)
    /// pieces first, in no particular order, then the rest in index order.
    public func setSequential(_ on: Bool) {
        mt_torrent_set_sequential(handle.raw, on ? 1 : 0)
    }

    public func setPiecePriorities(_ priorities: [Int]) {
        let p = priorities.map { UInt8(clamping: $0) }
        p.withUnsafeBufferPointer { mt_torrent_prioritize_pieces(handle.raw, $0.baseAddress, $0.count) }
    }

    public func connect(to peer: HostPort) {
        state.withLock { s in if !s.knownPeers.contains(peer) { s.knownPeers.append(peer) } }
        mt_torrent_connect_peer(handle.raw, peer.host, Int32(peer.port))
    }

    /// Looks for peers again now: reconnects to the peers it was given and
    /// announces to trackers and the DHT. Needed when a torrent that wanted
    /// nothing (so libtorrent dropped its seeds) starts wanting a file.
    ///
    /// File priorities reach libtorrent through its disk thread, so this waits
    /// (up to two seconds) until the torrent no longer counts as finished:
    /// a connection made before that would be dropped again.
    ///
    /// `freshHandshakes`: connections made while the torrent wanted nothing
    /// told their peers "upload only" in the extension handshake. libtorrent
    /// sends an update when that changes, but Transmission reads the flag
    /// from the handshake alone, takes us for a seed and never unchokes us
    /// (a stream stalled for good on a loaded machine). So when the torrent
    /// was finished, its connections are dropped (pause, resume) and made
    /// again with a handshake that wants data.
    public func wake(freshHandshakes: Bool = false) async {
        let peers = state.withLock { $0.knownPeers }
        let before = await status()
        mt_torrent_resume(handle.raw)
        let deadline = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < deadline {
            let st = await status()
            if !st.isFinished || !st.hasMetadata { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        if freshHandshakes && before.isFinished && before.hasMetadata && before.peers > 0 {
            mt_torrent_drop_connections(handle.raw)
        }
        for p in peers { mt_torrent_connect_peer(handle.raw, p.host, Int32(p.port)) }
        // libtorrent connects to peers it was given at its next one-second
        // tick (up to 0.9 s of a start's ~2 s on loopback). A resume connects
        // at once (torrent::do_connect_boost), so a torrent with nothing
        // connected, which a pause cannot cost anything, is paused and resumed.
        if !peers.isEmpty, await status().peers == 0 {
            mt_torrent_pause(handle.raw)
            mt_torrent_resume(handle.raw)
        }
        mt_torrent_force_reannounce(handle.raw)
    }

    /// Closes every connection and connects again (a stream that stalled with
    /// peers connected: a peer that took us for a seed, a stuck uTP link).
    public func reconnect() async {
        mt_torrent_drop_connections(handle.raw)
        await wake()
    }

    /// Bytes per second; 0 removes the limit.
    public func setUploadLimit(_ bytesPerSecond: Int) {
        mt_torrent_set_upload_limit(handle.raw, Int32(clamping: bytesPerSecond))
    }

    /// Announces now to trackers and the DHT, whatever their intervals say.
    public func announce() { mt_torrent_force_reannounce(handle.raw) }

    public func pause() { mt_torrent_pause(handle.raw) }
    public func resume() { mt_torrent_resume(handle.raw) }

    // MARK: Alert handling (called on the session's alert thread)

    func handle(_ alert: TorrentAlert) {
        switch alert {
        case let .pieceFinished(_, piece):
            pieces.insert(piece)
        case .metadataReceived:
            let waiters = state.withLock { s in
                s.metadataArrived = true
                defer { s.metadataWaiters = [:] }
                return Array(s.metadataWaiters.values)
            }
            for w in waiters { w.resume() }
            refreshPieces()
        case .checked:
            refreshPieces()
        case let .status(_, st):
            state.withLock { $0.latest = st }
        case .removed:
            markRemoved()
        case let .peerBanned(_, peer):
            state.withLock { s in
                s.knownPeers.removeAll { $0 == peer }
                if !s.banned.contains(peer) && s.banned.count < 256 { s.banned.append(peer) }
            }
            // Look for others at once, not at the next announce.
            announce()
        case let .peerDisconnected(_, peer, established, _) where established && !peer.host.isEmpty && peer.port > 0:
            // Remembered so wake() can reconnect at once. For incoming peers
            // the port is not their listen port; trying it costs one failed
            // connect. Bounded: the newest 64.
            state.withLock { s in
                s.knownPeers.removeAll { $0 == peer }
                s.knownPeers.append(peer)
                if s.knownPeers.count > 64 { s.knownPeers.removeFirst(s.knownPeers.count - 64) }
            }
        default:
            break
        }
    }

    func deliverResumeData(_ result: Result<[UInt8], EngineError>) {
        let waiters = state.withLock { s in
            defer { s.resumeWaiters = [] }
            return s.resumeWaiters
        }
        for w in waiters { w.resume(with: result.mapError { $0 as any Error }) }
    }

    func markRemoved() {
        let (meta, resume) = state.withLock { s in
            s.removed = true
            defer {
                s.metadataWaiters = [:]
                s.resumeWaiters = []
            }
            return (Array(s.metadataWaiters.values), s.resumeWaiters)
        }
        let e = EngineError(.notFound, "the torrent was removed")
        for w in meta { w.resume(throwing: e) }
        for w in resume { w.resume(throwing: e) }
        pieces.fail(e)
    }

    /// Verified pieces that never produced a piece_finished alert (resumed or
    /// checked files) are read once from libtorrent, off the alert thread.
    func refreshPieces() {
        let h = handle
        let p = pieces
        engine.async {
            guard let info = mt_torrent_info(h.raw) else { return }
            let n = Int(mt_info_num_pieces(info))
            mt_info_free(info)
            var have = [UInt8](repeating: 0, count: n)
            let got = have.withUnsafeMutableBufferPointer { mt_torrent_have_pieces(h.raw, $0.baseAddress, n) }
            guard got > 0 else { return }
            p.resize(to: n)
            p.insert(contentsOf: have.indices.lazy.filter { have[$0] != 0 })
        }
    }
}

/// The one serial queue on which blocking libtorrent calls run. It is a
/// Dispatch queue, not Swift's cooperative pool, so a slow round trip never
/// starves async tasks or NIO event loops.
final class EngineQueue: Sendable {
    private let queue = DispatchQueue(label: "matinee.engine")

    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { c in queue.async { c.resume(returning: body()) } }
    }

    func async(_ body: @escaping @Sendable () -> Void) { queue.async(execute: body) }
}
