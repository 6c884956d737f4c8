import CLibtorrent
import Foundation
import Synchronization

/// What to add and how.
public struct AddTorrentOptions: Sendable {
    public enum Source: Sendable {
        case magnet(String)
        case torrentFile([UInt8])
    }

    public var source: Source
    public var savePath: String
    /// Nothing is downloaded until a file is selected; never queued.
    public var streaming = true
    /// The files are known to be complete and good (we just hashed them).
    public var seedMode = false
    /// From an earlier `Torrent.resumeData()`: verified pieces are not fetched again.
    public var resumeData: [UInt8]?
    public var trackers: [String] = []
    /// Contact none of the trackers and web seeds that the torrent file, the
    /// magnet link or earlier resume data name (hosts chosen by whoever made
    /// the torrent); peers then come from the DHT, PEX and LSD. `trackers`
    /// above still apply.
    public var ignoreNamedHosts = false
    /// Peers to connect to at once, besides whatever trackers and DHT find.
    public var peers: [HostPort] = []

    public init(source: Source, savePath: String) {
        self.source = source
        self.savePath = savePath
    }
}

/// A libtorrent session. Alerts are read on one thread of its own and turned
/// into `TorrentAlert` values; blocking calls run on the engine queue.
public final class TorrentSession: Sendable {
    private struct State {
        var torrents: [TorrentID: Torrent] = [:]
        var subscribers: [Int: AsyncStream<TorrentAlert>.Continuation] = [:]
        var nextSubscriber = 0
        var listening: [(address: String, port: Int)] = []
        var listenFailures: [String] = []
        var stopping = false
    }

    private let pointer: EnginePointer
    /// False once the session is freed: a call racing `shutdown` (a job
    /// still running while the daemon stops) then does nothing instead of
    /// touching freed memory. Held for the length of each call.
    private let live = Mutex(true)
    private let engine = EngineQueue()
    private let state = Mutex(State())
    private let pumpExited = DispatchSemaphore(value: 0)
    /// The proxy's last failure, while nothing has connected since.
    let proxyHealth: ProxyHealth

    private init(pointer: EnginePointer, proxy: ProxyAddress?) {
        self.pointer = pointer
        self.proxyHealth = ProxyHealth(proxy: proxy)
    }

    /// Why peers cannot be reached through the proxy, for people; nil when
    /// no proxy is set or nothing has failed since the last peer connected.
    public var proxyTrouble: String? { proxyHealth.trouble }

    /// Starts a session. With explicit listen interfaces, waits until they are
    /// bound and throws `.listenFailed` (one clear line) if one cannot be.
    public static func start(_ configuration: SessionConfiguration) async throws -> TorrentSession {
        let engine = EngineQueue()
        let created: Result<EnginePointer, EngineError> = await engine.run {
            var configuration = configuration
            if configuration.enableDHT, let nodes = configuration.dhtNodes,
                SessionConfiguration.isWildcard(configuration.listenInterfaces ?? [HostPort(host: "::", port: 0)])
            {
                var seen = Set<String>()
                configuration.dhtRouteAddresses = nodes.compactMap(LocalRoute.sourceAddress(toward:)).filter { seen.insert($0).inserted }
            }
            var err = mt_error()
            let state = configuration.savedState ?? []
            let p = withCSettings(configuration.settings) { c in
                state.withUnsafeBufferPointer { st in
                    mt_session_new(c.baseAddress, c.count, st.baseAddress, st.count, &err)
                }
            }
            guard let p else { return .failure(EngineError(.engine, String(cString: errorMessage(&err)))) }
            return .success(EnginePointer(raw: p))
        }
        let session = TorrentSession(pointer: try created.get(), proxy: configuration.proxy)
        session.startPump()
        session.withSession { mt_session_limit_local_peers($0, configuration.limitLocalPeers) }
        if configuration.proxy != nil {
            // Through a proxy libtorrent 2.0 accepts no connection: it opens
            // one socket for the proxy's UDP tunnel and no TCP listener, so
            // there is nothing to wait for.
        } else if let wanted = configuration.listenInterfaces, !wanted.isEmpty {
            try await session.waitForListen(count: wanted.count)
            let bound = await session.listenPort
            if let asked = wanted.first, asked.port != 0, bound != asked.port {
                await session.shutdown()
                throw EngineError(.listenFailed, "cannot listen on \(asked): the port is in use")
            }
        } else {
            // Default interfaces: some may fail (no IPv6, say) and that is fine.
            try? await session.waitForListen(count: 1, failOnError: false)
        }
        // DHT nodes go in once the sockets exist: libtorrent gives a node added
        // earlier only to the sockets open at that moment.
        if configuration.enableDHT {
            for n in (configuration.dhtNodes ?? []) + configuration.savedDHTNodes {
                session.withSession { mt_session_add_dht_node($0, n.host, Int32(n.port)) }
            }
        }
        return session
    }

    /// Waits until `count` TCP sockets listen. With `failOnError` false, only
    /// waits (up to 3 s) and never fails or stops the session.
    private func waitForListen(count: Int, failOnError: Bool = true) async throws {
        let deadline = ContinuousClock.now + .seconds(failOnError ? 10 : 3)
        while ContinuousClock.now < deadline {
            let (ok, failed) = state.withLock { ($0.listening.count, $0.listenFailures) }
            if failOnError, let f = failed.first {
                await shutdown()
                throw EngineError(.listenFailed, "cannot listen on \(f)")
            }
            if ok >= count { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        guard failOnError else { return }
        await shutdown()
        throw EngineError(.listenFailed, "the engine did not start listening within 10 seconds")
    }

    /// The TCP port peers reach us on.
    public var listenPort: Int {
        get async {
            return await engine.run { self.withSession { Int(mt_session_listen_port($0)) } ?? 0 }
        }
    }

    // MARK: Torrents

    /// Adds a torrent (or finds it, if already added).
    public func add(_ options: AddTorrentOptions) async throws -> Torrent {
        if case let .torrentFile(bytes) = options.source {
            // Refuse garbage and hostile paths before libtorrent sees them.
            _ = try TorrentMetadata(torrentFile: bytes)
        }
        let result: Result<EnginePointer, EngineError> = await engine.run {
            var err = mt_error()
            var params = mt_add_params()
            var flags: Int32 = 0
            if options.streaming { flags |= Int32(MT_ADD_STREAMING) }
            if options.seedMode { flags |= Int32(MT_ADD_SEED_MODE) }
            if options.ignoreNamedHosts { flags |= Int32(MT_ADD_NO_TRACKERS) }
            params.flags = flags
            let trackers = options.trackers.map { strdup($0) }
            defer { trackers.forEach { free($0) } }
            let savePath = strdup(options.savePath)
            defer { free(savePath) }
            params.save_path = UnsafePointer(savePath)
            let torrentBytes: [UInt8]
            var magnet: UnsafeMutablePointer<CChar>?
            switch options.source {
            case let .magnet(m):
                magnet = strdup(m)
                torrentBytes = []
            case let .torrentFile(b):
                torrentBytes = b
            }
            defer { free(magnet) }
            params.magnet = UnsafePointer(magnet)
            let resume = options.resumeData ?? []
            let h: OpaquePointer? = torrentBytes.withUnsafeBufferPointer { tb in
                resume.withUnsafeBufferPointer { rb in
                    trackers.map { UnsafePointer($0) }.withUnsafeBufferPointer { tr in
                        params.torrent_data = tb.baseAddress
                        params.torrent_len = tb.count
                        params.resume_data = rb.baseAddress
                        params.resume_len = rb.count
                        params.trackers = tr.baseAddress
                        params.tracker_count = tr.count
                        return self.withSession { mt_session_add($0, &params, &err) } ?? nil
                    }
                }
            }
            guard let h else {
                let kind: EngineError.Kind = err.code == 3 ? .invalidSource : .engine
                return .failure(EngineError(kind, String(cString: errorMessage(&err))))
            }
            return .success(EnginePointer(raw: h))
        }
        let handle = try result.get()
        var idBytes = [UInt8](repeating: 0, count: 20)
        mt_torrent_id(handle.raw, &idBytes)
        let id = TorrentID(bytes: idBytes)!
        let torrent: Torrent = state.withLock { s in
            if let existing = s.torrents[id] {
                mt_torrent_free(handle.raw)
                return existing
            }
            let t = Torrent(id: id, handle: handle, engine: engine, savePath: options.savePath, proxyHealth: proxyHealth)
            s.torrents[id] = t
            return t
        }
        torrent.refreshPieces()
        var peers = options.peers
        if case let .magnet(uri) = options.source { peers += Magnet.peerHints(in: uri) }
        for peer in peers { torrent.connect(to: peer) }
        return torrent
    }

    /// Runs a C call on the session, or nothing (nil) once it is freed.
    @discardableResult
    func withSession<T>(_ body: (OpaquePointer) -> T) -> T? {
        live.withLock { alive in alive ? body(pointer.raw) : nil }
    }

    public func torrent(_ id: TorrentID) -> Torrent? { state.withLock { $0.torrents[id] } }
    public var torrents: [Torrent] { state.withLock { Array($0.torrents.values) } }

    /// Removes a torrent, and its files if asked.
    public func remove(_ torrent: Torrent, deleteFiles: Bool = false) {
        state.withLock { _ = $0.torrents.removeValue(forKey: torrent.id) }
        withSession { mt_session_remove($0, torrent.handle.raw, deleteFiles) }
        torrent.markRemoved()
    }

    // MARK: Alerts

    /// Every alert from now on. The stream ends when the session stops.
    public func alerts() -> AsyncStream<TorrentAlert> {
        let (stream, continuation) = AsyncStream<TorrentAlert>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let token: Int? = state.withLock { s in
            if s.stopping { return nil }
            s.nextSubscriber += 1
            s.subscribers[s.nextSubscriber] = continuation
            return s.nextSubscriber
        }
        guard let token else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: token) }
        }
        return stream
    }

    private func startPump() {
        let thread = Thread { [self] in
            var lastUpdate = ContinuousClock.now
            var lastDiskCheck = ContinuousClock.now
            var retries: [TorrentID: DiskFullRetry<ContinuousClock>] = [:]
            while !state.withLock({ $0.stopping }) {
                var raw: UnsafeMutablePointer<mt_alert>?
                let n = mt_session_wait_alerts(pointer.raw, 200, &raw)
                if let raw {
                    for i in 0..<n { dispatch(raw[i]) }
                    mt_alerts_free(raw, n)
                }
                if ContinuousClock.now - lastUpdate >= .seconds(1) {
                    lastUpdate = ContinuousClock.now
                    mt_session_post_torrent_updates(pointer.raw)
                }
                if ContinuousClock.now - lastDiskCheck >= .seconds(2) {
                    lastDiskCheck = ContinuousClock.now
                    checkFullDisks(&retries)
                }
            }
            pumpExited.signal()
        }
        thread.name = "matinee.alerts"
        thread.start()
    }

    /// Lets torrents stopped by a full disk write again once there is room
    /// (`DiskFullRetry`). On the alert thread: statvfs blocks, briefly.
    private func checkFullDisks(_ retries: inout [TorrentID: DiskFullRetry<ContinuousClock>]) {
        let stopped = state.withLock { s in s.torrents.values.filter { $0.diskTrouble != nil } }
        retries = retries.filter { id, _ in stopped.contains { $0.id == id } }
        let now = ContinuousClock.now
        for t in stopped {
            let free = DiskSpace.available(at: t.savePath) ?? 0
            t.updateFreeBytes(free)
            var retry = retries[t.id] ?? DiskFullRetry(pieceLength: t.knownMetadata?.pieceLength ?? 4 << 20, now: now)
            defer { retries[t.id] = retry }
            guard retry.check(freeBytes: free, now: now) == .retry else { continue }
            t.retryWrites()
            broadcast(.writesRetried(t.id, freeBytes: free))
        }
    }

    private func broadcast(_ alert: TorrentAlert) {
        let subscribers = state.withLock { Array($0.subscribers.values) }
        for s in subscribers { s.yield(alert) }
    }

    /// The one place alerts are read: translate, route to the torrent, broadcast.
    private func dispatch(_ a: mt_alert) {
        let id = a.has_torrent ? TorrentID(tuple: a.id) : nil
        let message = a.message.map { String(cString: $0) } ?? ""
        let alert: TorrentAlert?
        switch Int(a.type) {
        case MT_ALERT_PIECE_FINISHED: alert = id.map { .pieceFinished($0, piece: Int(a.piece)) }
        case MT_ALERT_HASH_FAILED: alert = id.map { .hashFailed($0, piece: Int(a.piece)) }
        case MT_ALERT_METADATA_RECEIVED: alert = id.map { .metadataReceived($0) }
        case MT_ALERT_METADATA_FAILED: alert = id.map { .metadataFailed($0, message) }
        case MT_ALERT_TORRENT_CHECKED: alert = id.map { .checked($0) }
        case MT_ALERT_TORRENT_FINISHED: alert = id.map { .finished($0) }
        case MT_ALERT_STATE_UPDATE:
            if a.status.num_peers > 0 { proxyHealth.connected() }
            alert = id.map { .status($0, TorrentStatus(a.status)) }
        case MT_ALERT_TORRENT_ERROR: alert = id.map { .torrentError($0, message) }
        case MT_ALERT_FILE_ERROR:
            alert = id.map { .fileError($0, message) }
            // Said once per episode; libtorrent reports each failed write.
            if a.count == 1, let id, let t = torrent(id),
                let trouble = t.noteDiskFull(
                    file: a.address.map { String(cString: $0) } ?? "", freeBytes: DiskSpace.available(at: t.savePath) ?? 0)
            {
                broadcast(.diskFull(id, trouble))
            }
        case MT_ALERT_TRACKER_ERROR: alert = id.map { .trackerError($0, message) }
        case MT_ALERT_PROXY_ERROR:
            proxyHealth.failed(message)
            alert = .proxyFailed(message)
        case MT_ALERT_TORRENT_REMOVED: alert = id.map { .removed($0) }
        case MT_ALERT_PEER_CONNECTED: alert = id.map { .peerConnected($0, message) }
        case MT_ALERT_PEER_BANNED:
            let peer = HostPort(host: a.address.map { String(cString: $0) } ?? "", port: Int(a.port))
            alert = id.map { .peerBanned($0, peer: peer) }
        case MT_ALERT_PEER_DISCONNECTED:
            let peer = HostPort(host: a.address.map { String(cString: $0) } ?? "", port: Int(a.port))
            alert = id.map { .peerDisconnected($0, peer: peer, established: a.count == 1, message: message) }
        case MT_ALERT_LISTEN_SUCCEEDED:
            state.withLock { if a.is_tcp { $0.listening.append((message, Int(a.port))) } }
            alert = .listening(address: message, port: Int(a.port), tcp: a.is_tcp)
        case MT_ALERT_LISTEN_FAILED:
            state.withLock { if a.is_tcp { $0.listenFailures.append(message) } }
            alert = .listenFailed(message, tcp: a.is_tcp)
        case MT_ALERT_DHT_MUTABLE_ITEM:
            let key = withUnsafeBytes(of: a.key) { Array($0) }
            let salt = a.salt.map { Array(UnsafeBufferPointer(start: $0, count: a.salt_len)) } ?? []
            var item: DHTMutableItem?
            if let d = a.data, a.data_len > 0 {
                item = DHTMutableItem(
                    publicKey: key, salt: salt, sequence: a.seq,
                    value: Array(UnsafeBufferPointer(start: d, count: a.data_len)),
                    signature: withUnsafeBytes(of: a.sig) { Array($0) })
            }
            alert = .dhtItem(key: key, salt: salt, item: item, authoritative: a.authoritative)
        case MT_ALERT_DHT_PUT:
            let salt = a.salt.map { Array(UnsafeBufferPointer(start: $0, count: a.salt_len)) } ?? []
            alert = .dhtPut(key: withUnsafeBytes(of: a.key) { Array($0) }, salt: salt, sequence: a.seq, nodes: Int(a.count))
        case MT_ALERT_DHT_STATS:
            alert = .dhtStats(nodes: Int(a.count))
        case MT_ALERT_DHT_PEERS:
            let peers = message.split(separator: "\n").compactMap { HostPort(String($0)) }
            alert = TorrentID(bytes: withUnsafeBytes(of: a.key) { Array($0.prefix(20)) }).map { .dhtPeers($0, peers: peers) }
        case MT_ALERT_SAVE_RESUME_DATA:
            let data = a.data.map { Array(UnsafeBufferPointer(start: $0, count: a.data_len)) } ?? []
            if let id { torrent(id)?.deliverResumeData(.success(data)) }
            alert = nil
        case MT_ALERT_SAVE_RESUME_DATA_FAILED:
            if let id { torrent(id)?.deliverResumeData(.failure(EngineError(.engine, message))) }
            alert = nil
        default:
            alert = nil
        }
        guard let alert else { return }
        if let id, let t = torrent(id) { t.handle(alert) }
        broadcast(alert)
    }

    // MARK: DHT

    /// Tells the DHT about a node (a private DHT's other members).
    /// Applies what a user may change while the engine runs (Settings):
    /// the upload cap, its reach to local peers, and the encryption policy.
    public func applyLive(_ configuration: SessionConfiguration) async throws {
        let wanted = Set(["upload_rate_limit", "download_rate_limit", "out_enc_policy", "in_enc_policy", "prefer_rc4"])
        let settings = configuration.settings.filter { wanted.contains($0.0) }
        let failure: String? = await engine.run {
            var err = mt_error()
            let ok =
                self.withSession { raw in withCSettings(settings) { c in mt_session_apply_settings(raw, c.baseAddress, c.count, &err) } }
                ?? 0
            return ok == 0 ? nil : String(cString: errorMessage(&err))
        }
        if let failure { throw EngineError(.engine, failure) }
        withSession { mt_session_limit_local_peers($0, configuration.limitLocalPeers) }
    }

    public func addDHTNode(_ node: HostPort) {
        withSession { mt_session_add_dht_node($0, node.host, Int32(node.port)) }
    }

    /// Stores a signed mutable item on the DHT; returns how many nodes took it
    /// (0 when none did, or no answer came within `timeout`).
    public func dhtPut(_ item: DHTMutableItem, timeout: Duration = .seconds(60)) async -> Int {
        guard item.isWellFormed else { return 0 }
        let stream = alerts()
        withSession {
            mt_session_dht_put_mutable(
                $0, item.publicKey, item.signature, item.sequence, item.salt, item.salt.count, item.value, item.value.count)
        }
        let answer = await first(of: stream, within: timeout) { alert -> Int? in
            if case let .dhtPut(key, salt, _, nodes) = alert, key == item.publicKey, salt == item.salt { return nodes }
            return nil
        }
        return answer ?? 0
    }

    /// Looks an item up; returns the one with the highest sequence number seen
    /// once the lookup ends (or when `timeout` passes), nil if none was found.
    public func dhtGet(publicKey: [UInt8], salt: [UInt8] = [], timeout: Duration = .seconds(60)) async -> DHTMutableItem? {
        guard publicKey.count == 32, salt.count <= DHTMutableItem.maxSaltSize else { return nil }
        let stream = alerts()
        withSession { mt_session_dht_get_mutable($0, publicKey, salt, salt.count) }
        let best = Mutex<DHTMutableItem?>(nil)
        _ = await first(of: stream, within: timeout) { alert -> Bool? in
            guard case let .dhtItem(key, s, item, authoritative) = alert, key == publicKey, s == salt else { return nil }
            if let item {
                best.withLock { b in if b == nil || item.sequence > b!.sequence { b = item } }
            }
            return authoritative ? true : nil
        }
        return best.withLock { $0 }
    }

    /// How many peers the DHT knows for a torrent, without adding it: a
    /// swarm's health before anything is downloaded. Every DHT node of the
    /// session (one per listen socket: an IPv6 node with an empty table
    /// answers nothing, another interface's node may know the swarm) posts
    /// its own replies, and nothing marks the end of the lookup: peers are
    /// counted once across all replies until `quiet` passes without a new
    /// one, or `timeout` ends it. Nil if no reply came at all.
    public func dhtPeerCount(_ id: TorrentID, timeout: Duration = .seconds(20), quiet: Duration = .seconds(3)) async -> Int? {
        let stream = alerts()
        withSession { raw in id.bytes.withUnsafeBufferPointer { mt_session_dht_get_peers(raw, $0.baseAddress) } }
        let tally = PeerTally()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await alert in stream {
                    guard case let .dhtPeers(got, peers) = alert, got == id else { continue }
                    tally.add(peers)
                }
            }
            group.addTask {
                let deadline = ContinuousClock.now + timeout
                while ContinuousClock.now < deadline, !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(100))
                    if tally.quiet(for: quiet) { return }
                }
            }
            _ = await group.next()
            group.cancelAll()
        }
        // Not ourselves: a torrent added here is announced, and a DHT that
        // stored it names this session back (a private DHT on loopback
        // does at once, and then "1 peer" would be us).
        let port = await listenPort
        let ours = state.withLock { s in s.listening.map { HostPort(host: $0.address, port: $0.port) } }
        return tally.count(excluding: { p in
            p.port == port && (p.host.hasPrefix("127.") || p.host == "::1" || ours.contains { $0.host == p.host })
                || ours.contains(p)
        })
    }

    /// The peers a lookup's replies named, each once.
    private final class PeerTally: Sendable {
        private let state = Mutex<(peers: Set<HostPort>?, lastNew: ContinuousClock.Instant)>((nil, .now))

        func add(_ peers: [HostPort]) {
            state.withLock { s in
                let before = s.peers?.count ?? -1
                s.peers = (s.peers ?? []).union(peers)
                if s.peers!.count > before { s.lastNew = .now }
            }
        }

        /// Some reply came, and none with a new peer for `quiet`.
        func quiet(for quiet: Duration) -> Bool {
            state.withLock { $0.peers != nil && ContinuousClock.now - $0.lastNew >= quiet }
        }

        var count: Int? { state.withLock { $0.peers?.count } }

        /// The peers named, less those `excluded` (nil: no reply came).
        func count(excluding excluded: (HostPort) -> Bool) -> Int? {
            state.withLock { $0.peers.map { $0.filter { !excluded($0) }.count } }
        }
    }

    /// How many nodes the DHT routing tables hold now, added up over every
    /// DHT node of the session.
    public func dhtNodeCount(timeout: Duration = .seconds(5)) async -> Int {
        let stream = alerts()
        withSession { mt_session_post_dht_stats($0) }
        return await first(of: stream, within: timeout) { alert -> Int? in
            if case let .dhtStats(n) = alert { return n }
            return nil
        } ?? 0
    }

    /// The first alert of `stream` that `match` maps to a value, or nil when
    /// `timeout` passes or the session stops.
    private func first<T: Sendable>(
        of stream: AsyncStream<TorrentAlert>, within timeout: Duration, _ match: @escaping @Sendable (TorrentAlert) -> T?
    ) async -> T? {
        await withTaskGroup(of: T?.self) { group in
            group.addTask {
                for await alert in stream {
                    if let v = match(alert) { return v }
                }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let v = await group.next() ?? nil
            group.cancelAll()
            return v
        }
    }

    /// How many nodes of the DHT routing table are on the internet (not
    /// loopback, private or link-local addresses): none means the DHT
    /// reaches no one beyond this machine's own networks.
    public func internetDHTNodes() async -> Int {
        guard let state = try? await savedState() else { return 0 }
        return SessionConfiguration.dhtNodes(inState: state).filter { InternetAddress.isPublic($0.host) }.count
    }

    // MARK: State and shutdown

    /// The session state to pass as `savedState` next time (DHT routing table).
    public func savedState() async throws -> [UInt8] {
        let r: Result<[UInt8], EngineError> = await engine.run {
            var err = mt_error()
            var out: UnsafeMutablePointer<UInt8>?
            var len = 0
            guard self.withSession({ mt_session_save_state($0, &out, &len, &err) }) == 0, let out else {
                return .failure(EngineError(.engine, String(cString: errorMessage(&err))))
            }
            defer { mt_free(out) }
            return .success(Array(UnsafeBufferPointer(start: out, count: len)))
        }
        return try r.get()
    }

    /// Stops the alert thread and the engine. Safe to call more than once.
    public func shutdown() async {
        let (first, subs, torrents) = state.withLock { s in
            let first = !s.stopping
            s.stopping = true
            defer {
                s.subscribers = [:]
                s.torrents = [:]
            }
            return (first, Array(s.subscribers.values), Array(s.torrents.values))
        }
        guard first else { return }
        for s in subs { s.finish() }
        for t in torrents { t.markRemoved() }
        let p = pointer
        let exited = pumpExited
        await engine.run {
            exited.wait()
            self.live.withLock { alive in
                alive = false
                mt_session_free(p.raw)
            }
        }
    }
}

/// Runs `body` with libtorrent settings as C structs (their strings live
/// for the call).
func withCSettings<T>(_ settings: [(String, SettingValue)], _ body: (UnsafeBufferPointer<mt_setting>) -> T) -> T {
    let names = settings.map { strdup($0.0)! }
    let strings = settings.map { s -> UnsafeMutablePointer<CChar>? in
        if case let .string(v) = s.1 { return strdup(v) }
        return nil
    }
    defer {
        names.forEach { free($0) }
        strings.forEach { free($0) }
    }
    var cs = [mt_setting]()
    for (i, s) in settings.enumerated() {
        var m = mt_setting()
        m.name = UnsafePointer(names[i])
        switch s.1 {
        case .string: m.kind = Int32(MT_SETTING_STRING); m.string_value = UnsafePointer(strings[i])
        case let .int(v): m.kind = Int32(MT_SETTING_INT); m.int_value = Int64(v)
        case let .bool(v): m.kind = Int32(MT_SETTING_BOOL); m.int_value = v ? 1 : 0
        }
        cs.append(m)
    }
    return cs.withUnsafeBufferPointer(body)
}
