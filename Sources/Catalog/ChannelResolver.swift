import Foundation
public import TorrentKit

/// Subscribing: finds a channel's latest pointer on the DHT, fetches the
/// catalog torrent, verifies it and imports it (docs/channel-format.md §6).
/// Any failure leaves the last good catalog in place and is recorded on the
/// channel as one line.
public struct ChannelResolver: Sendable {
    public let session: TorrentSession
    public let store: CatalogStore
    /// Catalog torrents are downloaded under <channelsDir>/<key hex>/<sequence>/.
    public let channelsDir: String
    /// How long to keep asking the DHT for the channel's pointer (lookups
    /// that find nothing are made again, see `LookupRetry`).
    public var lookupBudget: Duration = .seconds(30)
    public var downloadTimeout: Duration = .seconds(120)

    public static let maxCatalogTorrentSize: Int64 = 512 << 20
    public static let maxCatalogFiles = 10_000
    public static let folderName = "matinee-catalog"

    public init(session: TorrentSession, store: CatalogStore, channelsDir: String) {
        self.session = session
        self.store = store
        self.channelsDir = channelsDir
    }

    public enum Outcome: Sendable, Equatable {
        /// A new version was imported.
        case updated(sequence: Int64, titles: Int)
        /// The DHT still points at the version we have.
        case unchanged(sequence: Int64)
    }

    /// Progress worth telling a user about.
    public enum Step: Sendable {
        /// The DHT routing tables are still empty: nobody to ask yet.
        case waitingForDHT
        /// Lookup number `attempt` is under way; the routing tables hold `nodes`.
        case lookingUp(attempt: Int, nodes: Int)
        /// `attempts` lookups found no pointer; the next one starts in `retryIn`.
        case notFoundYet(attempts: Int, nodes: Int, retryIn: Duration)
        case found(sequence: Int64)
        case downloading(done: Int64, total: Int64)
        case verifying
    }

    /// Resolves and imports `address`, which must already be in the store.
    public func refresh(_ address: ChannelAddress, progress: @escaping @Sendable (Step) -> Void = { _ in }) async throws -> Outcome {
        do {
            return try await resolve(address, progress: progress)
        } catch let e as CatalogError {
            try? await store.recordFailure(address.hex, e.message)
            throw e
        }
    }

    private func resolve(_ address: ChannelAddress, progress: @escaping @Sendable (Step) -> Void) async throws -> Outcome {
        let key = address.hex
        guard let channel = try await store.channel(key) else {
            throw CatalogError(.notFound, "not subscribed to \(address.short)")
        }
        let item = try await lookUp(address, progress: progress)
        // libtorrent checked the signature; check it again with our own code.
        guard ChannelPointer.isValid(item) else {
            throw CatalogError(.badSignature, "the DHT pointer of \(address.short) is not signed by its key")
        }
        if item.sequence < channel.highestSequence {
            throw CatalogError(
                .replay, "refused an older catalog (version \(item.sequence); version \(channel.highestSequence) was already accepted)")
        }
        if item.sequence == channel.highestSequence, channel.titleCount > 0 || channel.catalogInfoHash != nil {
            return .unchanged(sequence: item.sequence)
        }
        let catalogID = try ChannelPointer.catalogTorrent(in: item.value)
        progress(.found(sequence: item.sequence))

        let folder = channelsDir + "/\(key)/\(item.sequence)"
        let doc: CatalogDocument
        let files: String
        do {
            files = try await download(catalogID, into: folder, progress: progress)
            progress(.verifying)
            doc = try verify(files: files, key: address.publicKey, sequence: item.sequence)
        } catch {
            // Nothing of a refused version is kept (or seeded).
            if let t = session.torrent(catalogID) { session.remove(t, deleteFiles: true) }
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }

        // Durable high-water mark first, then the import.
        guard try await store.acceptSequence(key, doc.sequence) || channel.titleCount == 0 else {
            return .unchanged(sequence: doc.sequence)
        }
        try await store.importCatalog(
            doc, channelKey: key, catalogInfoHash: catalogID.hex, files: files,
            pointer: (item.value, item.signature, item.sequence))
        // Older versions' folders go; this one stays (it is seeded by `serve`).
        for old in (try? FileManager.default.contentsOfDirectory(atPath: channelsDir + "/\(key)")) ?? [] where old != "\(item.sequence)" {
            try? FileManager.default.removeItem(atPath: channelsDir + "/\(key)/" + old)
        }
        return .updated(sequence: doc.sequence, titles: doc.titles.count)
    }

    /// Asks the DHT for the channel's pointer until one is found or
    /// `lookupBudget` is spent; the error says what was tried.
    private func lookUp(_ address: ChannelAddress, progress: @escaping @Sendable (Step) -> Void) async throws -> DHTMutableItem {
        do {
            return try await PointerFetch(session: session).lookUp(
                publicKey: address.publicKey, salt: address.salt, what: "channel \(address.short)", budget: lookupBudget
            ) { step in
                switch step {
                case .waitingForDHT: progress(.waitingForDHT)
                case .lookingUp(let n, let nodes): progress(.lookingUp(attempt: n, nodes: nodes))
                case .notFoundYet(let n, let nodes, let retryIn): progress(.notFoundYet(attempts: n, nodes: nodes, retryIn: retryIn))
                }
            }
        } catch let PointerFetch.Failure.unreachable(message) {
            throw CatalogError(.unreachable, message)
        }
    }

    /// Downloads the catalog torrent; returns the path of its folder.
    private func download(_ id: TorrentID, into folder: String, progress: @escaping @Sendable (Step) -> Void) async throws -> String {
        do {
            _ = try await PointerFetch(session: session).download(
                id, into: folder, what: "the catalog torrent", timeout: downloadTimeout,
                accept: { meta in
                    guard meta.totalSize <= Self.maxCatalogTorrentSize, meta.files.count <= Self.maxCatalogFiles else {
                        throw CatalogError(
                            .tooLarge, "the catalog torrent is too large (\(meta.totalSize) bytes in \(meta.files.count) files)")
                    }
                    guard meta.name == Self.folderName, meta.visibleFiles.allSatisfy({ $0.path.hasPrefix(Self.folderName + "/") }) else {
                        throw CatalogError(.malformed, "the catalog torrent is not a \(Self.folderName) folder")
                    }
                },
                progress: { done, total in progress(.downloading(done: done, total: total)) })
        } catch let PointerFetch.Failure.unreachable(message) {
            throw CatalogError(.unreachable, message)
        } catch let PointerFetch.Failure.refused(message) {
            throw CatalogError(.unsafePath, message)
        } catch let e as CocoaError {
            throw CatalogError(.storage, "cannot create \(folder): \(e.localizedDescription)")
        }
        return folder + "/" + Self.folderName
    }

    /// Checks a downloaded catalog folder: signature over the exact bytes,
    /// then the document, then that every path it names is in the folder and
    /// every source .torrent is the torrent it claims to be.
    public func verify(files: String, key: [UInt8], sequence: Int64?) throws -> CatalogDocument {
        var st = stat()
        if lstat(files + "/catalog.json", &st) == 0, st.st_size > CatalogDocument.maxBytes {
            throw CatalogError(.tooLarge, "the catalog is \(st.st_size) bytes; at most \(CatalogDocument.maxBytes) are allowed")
        }
        guard let json = readLimited(files + "/catalog.json", limit: CatalogDocument.maxBytes) else {
            throw CatalogError(.malformed, "the catalog torrent has no catalog.json")
        }
        guard let sig = readLimited(files + "/catalog.sig", limit: 64), sig.count == 64 else {
            throw CatalogError(.badSignature, "the catalog torrent has no valid catalog.sig")
        }
        guard CatalogSignature.isValid(sig, of: json, publicKey: key) else {
            throw CatalogError(.badSignature, "the catalog's signature does not verify: it was not published by this channel's key")
        }
        let doc = try CatalogDocument.decode(json)
        try doc.validate(key: key, sequence: sequence)
        for p in doc.referencedPaths {
            guard let abs = ContainedPath.resolve(files + "/" + p, under: files), FileManager.default.fileExists(atPath: abs) else {
                throw CatalogError(.unsafePath, "the catalog refers to \(p), which is not in the catalog torrent")
            }
        }
        for t in doc.titles {
            for s in t.allSources {
                guard let p = s.torrent else { continue }
                guard let bytes = readLimited(files + "/" + p, limit: 32 << 20), let m = try? TorrentMetadata(torrentFile: bytes),
                    m.id.hex == s.infohash.lowercased()
                else {
                    throw CatalogError(.malformed, "the catalog's \(p) is not the torrent \(s.infohash)")
                }
            }
        }
        return doc
    }

    private func readLimited(_ path: String, limit: Int) -> [UInt8]? {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size <= limit else { return nil }
        return FileManager.default.contents(atPath: path).map { Array($0) }
    }
}
