import Foundation

/// Following a BEP 46 pointer: find the signed item on the DHT, then fetch
/// the torrent it names, checking the torrent's metadata before a byte of
/// its files is downloaded. Shared by channels (catalogs) and releases.
public struct PointerFetch: Sendable {
    public let session: TorrentSession

    public init(session: TorrentSession) {
        self.session = session
    }

    /// Why a fetch stopped; the caller turns it into its own one-line error.
    public enum Failure: Error, Sendable, Equatable {
        /// Nothing (or nobody) answered in time.
        case unreachable(String)
        /// libtorrent refused the torrent (a hostile path, say).
        case refused(String)
    }

    public enum LookupStep: Sendable {
        /// The DHT routing tables are still empty: nobody to ask yet.
        case waitingForDHT
        /// Lookup number `attempt` is under way; the routing tables hold `nodes`.
        case lookingUp(attempt: Int, nodes: Int)
        /// `attempts` lookups found no pointer; the next one starts in `retryIn`.
        case notFoundYet(attempts: Int, nodes: Int, retryIn: Duration)
    }

    /// Asks the DHT for the item under `publicKey` until one is found or
    /// `budget` is spent; `what` names it in the error ("channel matinee:…").
    public func lookUp(
        publicKey: [UInt8], salt: [UInt8] = [], what: String, budget: Duration,
        progress: @escaping @Sendable (LookupStep) -> Void = { _ in }
    ) async throws -> DHTMutableItem {
        let retry = LookupRetry(budget: budget)
        let start = ContinuousClock.now
        var lookups = 0
        var mostNodes = 0
        while true {
            let elapsed = ContinuousClock.now - start
            let nodes = await session.dhtNodeCount()
            mostNodes = max(mostNodes, nodes)
            if nodes == 0 {
                guard let pause = retry.pauseForNodes(elapsed: elapsed) else { break }
                progress(.waitingForDHT)
                try await Task.sleep(for: pause)
                continue
            }
            guard let timeout = retry.lookupTimeout(elapsed: elapsed) else { break }
            lookups += 1
            progress(.lookingUp(attempt: lookups, nodes: nodes))
            if let item = await session.dhtGet(publicKey: publicKey, salt: salt, timeout: timeout) {
                return item
            }
            guard let pause = retry.pause(afterEmptyLookups: lookups, elapsed: ContinuousClock.now - start) else { break }
            progress(.notFoundYet(attempts: lookups, nodes: nodes, retryIn: pause))
            try await Task.sleep(for: pause)
        }
        let spent = Int((ContinuousClock.now - start).components.seconds)
        if lookups == 0 {
            throw Failure.unreachable("\(what) could not be looked up: no DHT node answered within \(spent) s (is this machine online?)")
        }
        throw Failure.unreachable(
            "\(what) was not found on the DHT: \(lookups) lookup\(lookups == 1 ? "" : "s") in \(spent) s "
                + "(up to \(mostNodes) DHT node\(mostNodes == 1 ? "" : "s") known) found no pointer (is its publisher online?)")
    }

    /// Downloads torrent `id` into `folder`. `accept` sees the metadata
    /// first and throws to refuse it (the torrent is then removed, nothing
    /// fetched). Every piece is then fetched and verified; `progress` gets
    /// bytes done and wanted. `what` names the torrent in errors. With
    /// `known`, the .torrent file kept from an earlier fetch, no peer is
    /// needed for the metadata (and none at all if the files are on disk).
    public func download(
        _ id: TorrentID, into folder: String, what: String, timeout: Duration, peers: [HostPort] = [], known: [UInt8]? = nil,
        accept: @Sendable (TorrentMetadata) throws -> Void,
        progress: @escaping @Sendable (_ done: Int64, _ total: Int64) -> Void = { _, _ in }
    ) async throws -> (Torrent, TorrentMetadata) {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let source: AddTorrentOptions.Source =
            if let known, (try? TorrentMetadata(torrentFile: known))?.id == id { .torrentFile(known) } else {
                .magnet("magnet:?xt=urn:btih:\(id.hex)")
            }
        var options = AddTorrentOptions(source: source, savePath: folder)
        options.streaming = true  // nothing is fetched until the metadata passed the checks
        options.peers = peers
        let torrent: Torrent
        do {
            torrent = try await session.add(options)
        } catch let e as EngineError {
            throw Failure.unreachable("cannot fetch \(what): \(e.message)")
        }
        // Ask the DHT for peers again every few seconds while none has sent
        // the metadata: the first get_peers may run before the peers that
        // seed it have announced (or only find a publisher gone since), and
        // libtorrent's own next try is minutes away.
        let reannounce = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(5))
                torrent.announce()
            }
        }
        defer { reannounce.cancel() }
        let meta: TorrentMetadata
        do {
            meta = try await withDeadline(timeout) { try await torrent.metadata() }
        } catch is DeadlineExceeded {
            session.remove(torrent)
            throw Failure.unreachable("nobody shared \(what) (\(id.hex)) within \(timeout)")
        } catch let e as EngineError {
            throw Failure.refused("\(what) was refused: \(e.message)")
        }
        do {
            try accept(meta)
        } catch {
            // Nothing was fetched (every file is at priority 0 until here), so
            // there is nothing for libtorrent to delete: asking it to would
            // race its disk thread against the caller removing the folder.
            session.remove(torrent)
            throw error
        }
        torrent.setFilePriorities(meta.files.map { $0.isPadding ? 0 : 4 })
        torrent.setPiecePriorities([Int](repeating: 4, count: meta.pieceCount))
        await torrent.wake(freshHandshakes: true)
        let wanted = meta.visibleFiles.reduce(Int64(0)) { $0 + $1.size }
        let deadline = ContinuousClock.now + timeout
        while true {
            // Done when every piece passed its hash check. (Byte counts are no
            // test: libtorrent counts the pad files of a hybrid torrent in
            // total_wanted_done, which then passes the files' real size early.)
            let verified = torrent.pieces.count
            progress(Int64(verified) * wanted / Int64(max(meta.pieceCount, 1)), wanted)
            if verified == meta.pieceCount { break }
            if ContinuousClock.now > deadline {
                throw Failure.unreachable("\(what) did not finish downloading within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return (torrent, meta)
    }
}

public struct DeadlineExceeded: Error {}

/// Runs `body`; throws `DeadlineExceeded` after `limit` without waiting for it.
public func withDeadline<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw DeadlineExceeded() }
        return value
    }
}
