public import Catalog
import Foundation
public import TorrentKit

/// Following channels: add, refresh, remove, put their pointers back on the
/// DHT, and seed their catalogs. One implementation, used by the HTTP API,
/// by `matinee channel …` and by the daemon's refresher.
public struct Channels: Sendable {
    public let home: Home
    public let store: CatalogStore
    /// nil for changes that need no engine (removing a channel while no
    /// daemon runs).
    public let runtime: EngineRuntime?
    let events: Events
    /// Put a version new to us on the DHT at once (a daemon does; a one-shot
    /// command stops its engine right after).
    var republishOnReceipt = false

    public init(home: Home, store: CatalogStore, runtime: EngineRuntime?, events: Events = .ignored) {
        self.home = home
        self.store = store
        self.runtime = runtime
        self.events = events
    }

    /// What `channel add open-films` and the UI's "Open Films" name.
    public static func namesBundled(_ text: String) -> Bool {
        ["open-films", BundledChannel.name.lowercased()].contains(text.lowercased())
    }

    /// Follows a channel: finds it on the DHT, fetches and verifies its
    /// catalog; a channel that cannot be fetched is not kept. `timeout`:
    /// seconds to keep looking. Returns a line to show.
    public func add(_ address: String, timeout: Int = 60) async throws -> String {
        if Self.namesBundled(address) {
            try await BundledChannel.install(into: store, channelsDir: home.channelsDir, force: true)
            return "Added \"\(BundledChannel.name)\", the channel bundled with Matinee."
        }
        guard let a = ChannelAddress(address) else {
            throw DaemonError(
                "\"\(address)\" is not a channel address (magnet:?xs=urn:btpk:<64 hex digits> or matinee:<key>)", badInput: true)
        }
        let existed = try await store.channel(a.hex) != nil
        try await store.addChannel(key: a.hex, name: a.short, address: a.magnet)
        do {
            return try await refresh(a, timeout: timeout)
        } catch {
            if !existed { try? await store.removeChannel(a.hex) }
            throw error
        }
    }

    /// Fetches the latest version of a followed channel; returns a line to show.
    public func refresh(key: String, timeout: Int = 60) async throws -> String {
        guard let c = try await store.channel(key) else { throw DaemonError("not following that channel", badInput: true) }
        if c.isLocal { return "\(c.name) comes with Matinee: it is updated with the app" }
        guard let a = ChannelAddress(c.address) else { throw DaemonError("the channel's address is damaged", badInput: true) }
        return try await refresh(a, timeout: timeout)
    }

    /// Stops following a channel: its titles, its catalog torrents and their
    /// files go. The bundled channel stays away until added again.
    public func remove(key: String) async throws {
        guard let c = try await store.channel(key) else { return }
        if c.isLocal { try await store.setFlag("bundled-removed:\(c.key)", true) }
        try await store.removeChannel(key)
        // Stop seeding its catalogs before their files go: a torrent left in
        // the engine would claim pieces whose files are gone, and adding the
        // channel again would find "all pieces" and no catalog.json.
        let folder = home.channelsDir + "/" + key
        if let runtime {
            for (t, savePath) in runtime.torrents where savePath.hasPrefix(folder + "/") {
                runtime.remove(t, deleteFiles: false)
            }
            // The resolver adds catalog torrents to the session directly.
            if let hex = c.catalogInfoHash, let id = TorrentID(string: hex), let t = runtime.session.torrent(id) {
                runtime.remove(t, deleteFiles: false)
            }
        }
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Refreshes one channel with the engine, reporting each step as
    /// progress; a version new to this daemon is put back on the DHT at once
    /// (RefreshSchedule): it stays found if its publisher goes offline right
    /// after publishing.
    public func refresh(_ a: ChannelAddress, timeout: Int) async throws -> String {
        guard let runtime else { throw DaemonError("refreshing a channel needs the engine") }
        let before = try await store.channel(a.hex)?.highestSequence ?? 0
        var resolver = ChannelResolver(session: runtime.session, store: store, channelsDir: home.channelsDir)
        resolver.lookupBudget = .seconds(max(5, timeout))
        resolver.downloadTimeout = .seconds(max(30, timeout))
        let events = events
        let outcome = try await catalogCall {
            try await resolver.refresh(a) { step in events.progress(Self.describe(step, a)) }
        }
        events.progressDone()
        // Keep the catalog's .torrent, so the daemon can seed it without asking peers.
        if let hex = try await store.channel(a.hex)?.catalogInfoHash, let id = TorrentID(string: hex),
            let t = runtime.session.torrent(id)
        {
            await runtime.rememberMetadata(t)
        }
        if republishOnReceipt, let now = try await store.channel(a.hex), now.highestSequence > before {
            let me = self
            Task { await me.republish(only: [a.hex]) }
        }
        let name = try await store.channel(a.hex)?.name ?? a.short
        switch outcome {
        case let .updated(seq, titles): return "\(name): version \(seq), \(Format.count(titles, "title"))"
        case let .unchanged(seq): return "\(name): up to date (version \(seq))"
        }
    }

    static func describe(_ step: ChannelResolver.Step, _ a: ChannelAddress) -> String {
        switch step {
        case .waitingForDHT: return "Joining the DHT: no node answered yet…"
        case let .lookingUp(attempt, nodes):
            return "Asking the DHT for \(a.short)\(attempt > 1 ? " (lookup \(attempt))" : "")… \(Format.count(nodes, "node")) known"
        case let .notFoundYet(attempts, nodes, retryIn):
            return "No pointer for \(a.short) yet (\(Format.count(attempts, "lookup")), \(Format.count(nodes, "node")) known); "
                + "asking again in \(Int(retryIn.components.seconds)) s…"
        case let .found(seq): return "Found version \(seq); fetching its catalog…"
        case let .downloading(done, total):
            return
                "Fetching the catalog \(Format.bar(total > 0 ? Double(done) / Double(total) : 0)) \(Format.bytes(done))/\(Format.bytes(total))"
        case .verifying: return "Verifying the signature…"
        }
    }

    /// Refreshes every followed channel; a failure keeps the last good catalog.
    func refreshAll() async {
        guard let channels = try? await store.channels() else { return }
        for c in channels where !c.isLocal {
            guard let a = ChannelAddress(c.address) else { continue }
            do {
                events.info(try await refresh(a, timeout: 60))
            } catch {
                events.problem("\(c.name): \(Disk.reason(error)) (keeping the last good catalog)")
            }
        }
    }

    /// Puts each channel's latest signed pointer back on the DHT.
    func republish(only keys: Set<String>? = nil) async {
        guard let runtime, let channels = try? await store.channels() else { return }
        for c in channels where !c.isLocal && keys.map({ $0.contains(c.key) }) != false {
            guard let a = ChannelAddress(c.address), let value = c.pointerValue, let sig = c.pointerSignature,
                let seq = c.pointerSequence
            else { continue }
            let item = DHTMutableItem(publicKey: a.publicKey, salt: a.salt, sequence: seq, value: Array(value), signature: Array(sig))
            guard ChannelPointer.isValid(item) else { continue }
            let nodes = await runtime.session.dhtPut(item)
            events.info("Put \(c.name)'s pointer (version \(seq)) back on the DHT: \(nodes) nodes took it")
        }
    }

    /// Seeds the catalog torrent of every followed channel, from its folder;
    /// returns how many.
    func seedCatalogs() async throws -> Int {
        guard let runtime else { return 0 }
        var n = 0
        for c in try await store.channels() where !c.isLocal {
            guard let hex = c.catalogInfoHash, let id = TorrentID(string: hex) else { continue }
            let folder = home.channelsDir + "/\(c.key)/\(c.highestSequence)"
            guard FileManager.default.fileExists(atPath: folder + "/" + ChannelResolver.folderName) else { continue }
            let source: AddTorrentOptions.Source
            if let bytes = Disk.read(home.torrentFile(id), limit: SourceResolver.maxTorrentSize),
                let meta = try? TorrentMetadata(torrentFile: bytes), meta.id == id
            {
                source = .torrentFile(bytes)
            } else {
                source = .magnet("magnet:?xt=urn:btih:\(hex)")
            }
            _ = try await runtime.add(ResolvedSource(source: source, id: id, metadata: nil), streaming: false, savePath: folder)
            n += 1
        }
        return n
    }

    /// The followed channel that `text` names: its address, its name as
    /// `channel list` shows it, or its name alone if no other channel has it.
    public static func find(_ text: String, in channels: [CatalogStore.Channel]) throws -> CatalogStore.Channel {
        if let a = ChannelAddress(text), let c = channels.first(where: { $0.key == a.hex }) { return c }
        let names = ChannelNames.display(channels)
        let wanted = ChannelNames.comparable(text)
        if let c = channels.first(where: { ChannelNames.comparable(names[$0.key] ?? $0.name) == wanted }) { return c }
        let named = channels.filter { ChannelNames.comparable($0.name) == wanted }
        if named.count > 1 {
            let which = named.map { c in
                c.isLocal ? "\"\(c.name)\" (bundled with Matinee)" : (ChannelAddress(c.address)?.short ?? c.address)
            }
            throw DaemonError(
                "\(named.count) channels are named \"\(text)\": name one by its address (\(which.joined(separator: ", ")))", badInput: true)
        }
        if let c = named.first { return c }
        throw DaemonError("you do not follow a channel named \"\(text)\" (see: matinee channel list)", badInput: true)
    }
}

/// A fresh engine's routing table is empty for a moment: a lookup made then
/// finds nothing. Returns once it has a node, or after `timeout` seconds.
public func waitForDHT(_ session: TorrentSession, timeout: Int) async {
    let deadline = ContinuousClock.now + .seconds(timeout)
    while ContinuousClock.now < deadline, !Task.isCancelled {
        if await session.dhtNodeCount() > 0 { return }
        try? await Task.sleep(for: .milliseconds(200))
    }
}

/// Opens the catalog index of `home`, installing or updating the bundled
/// channel. One store per daemon: every request uses it.
public func openCatalog(_ home: Home, events: Events = .ignored) async throws -> CatalogStore {
    try home.prepare()
    let store = try catalogCall { try CatalogStore(path: home.catalogDatabase) }
    do {
        try await BundledChannel.install(into: store, channelsDir: home.channelsDir)
    } catch {
        events.problem("could not install the bundled channel: \(error)")
    }
    return store
}

/// Catalog errors become one-line errors.
public func catalogCall<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as CatalogError { throw DaemonError(e.message) }
}

public func catalogCall<T>(_ body: () async throws -> T) async throws -> T {
    do { return try await body() } catch let e as CatalogError { throw DaemonError(e.message) }
}
