import Foundation
public import Server
import ServiceLifecycle
import Synchronization
import TorrentKit
import Updates

/// The daemon's side of Matinee's own releases (docs/release-format.md §6):
/// it looks at the release channel every few hours and downloads what it
/// finds in the background (the `Updater`'s checks, in their order), offers
/// it in the UI or installs it by itself (Settings), restarts into the new
/// version through the launcher, seeds the release it has within the user's
/// sharing limits, and puts the release pointer back on the DHT.
public final class SelfUpdate: UpdateService {
    let runtime: EngineRuntime
    let home: Home
    let library: Library
    let events: Events
    /// The channel followed, or why there is none (shown in Settings).
    let channel: Result<ReleaseChannel, ReleaseError>
    let installed = InstalledVersion.running
    let installation = Installation.running
    let store: UpdateStore
    /// Peers to ask at once for the release torrents (--peer).
    let peers: [HostPort]

    private struct Live {
        var cached: UpdateState?
        /// The version kept to go back to.
        var previous: String?
        var checking = false
        var applying = false
        var restarting = false
        var step: String?
        /// A check asked for (the UI's "Check now", `matinee update`).
        var wanted = false
        var waitingForPlayer = false
        /// Release torrents whose sharing the seeding limits stopped.
        var stopped: Set<TorrentID> = []
    }
    private let live = Mutex(Live())
    /// Set by the daemon: stop and start again on the version now current.
    private let restart = Mutex<@Sendable () async -> Void>({})

    init(runtime: EngineRuntime, home: Home, library: Library, peers: [HostPort], events: Events) {
        self.runtime = runtime
        self.peers = peers
        self.home = home
        self.library = library
        self.events = events
        store = UpdateStore(dataFolder: home.data)
        channel = Result { try ReleaseChannel.resolve() }.mapError { $0 as? ReleaseError ?? ReleaseError(.malformed, "\($0)") }
        reload()
    }

    func onRestart(_ body: @escaping @Sendable () async -> Void) { restart.withLock { $0 = body } }

    // MARK: The API

    public func updateStatus() async -> UpdateStatus {
        let l = live.withLock { $0 }
        let ready = l.cached?.ready.flatMap { r in
            r.build > installed.build ? UpdateStatus.Ready(version: r.version, build: r.build, notes: r.notes) : nil
        }
        var problem: String?
        var address: String?
        switch channel {
        case .success(let c): address = c.address
        case .failure(let e): problem = e.message
        }
        return UpdateStatus(
            version: installed.version, build: installed.build, installable: installation != nil,
            previous: l.previous, channel: address, problem: problem,
            checking: l.checking, step: l.step, lastCheck: l.cached?.lastCheck, lastResult: l.cached?.lastResult,
            lastCheckFailed: l.cached?.lastCheckFailed ?? false, ready: ready,
            automatic: library.currentSettings.automaticUpdates, restarting: l.restarting)
    }

    public func checkForUpdate() async throws -> UpdateStatus {
        if case .failure(let e) = channel { throw ChannelServiceError(e.message, badInput: true) }
        live.withLock { $0.wanted = true }
        var s = await updateStatus()
        s.checking = true
        return s
    }

    public func applyUpdate() async throws -> String {
        guard installation != nil else {
            throw ChannelServiceError(
                "this Matinee runs from a build tree, not an installed bundle: install one with its install.sh to update", badInput: true)
        }
        guard let ready = live.withLock({ $0.cached?.ready }), ready.build > installed.build else {
            throw ChannelServiceError("no new version is ready: check for one first", badInput: true)
        }
        let now = try install(ready)
        return "Matinee \(now.version) is installed; restarting into it (the previous version is kept)."
    }

    public func rollBack() async throws -> String {
        guard let installation else {
            throw ChannelServiceError(
                "this Matinee runs from a build tree, not an installed bundle: there is nothing to roll back", badInput: true)
        }
        try claim()
        defer { live.withLock { $0.applying = false } }
        let moved: (from: Int64, to: Int64)
        do {
            moved = try Updater.rollBack(
                installation, store: store, channel: try? channel.get(), reason: "rolled back by hand")
        } catch let e as ReleaseError {
            throw ChannelServiceError(e.message, badInput: true)
        }
        let to = installation.version(of: moved.to)?.version ?? "build \(moved.to)"
        let from = installation.version(of: moved.from)?.version ?? "build \(moved.from)"
        events.info("Rolled back to Matinee \(to) by hand; \(from) will not be offered again. Restarting.")
        reload()
        restartSoon()
        return "Back to Matinee \(to); \(from) will not be offered again. Restarting…"
    }

    /// Nothing else installs or checks meanwhile.
    private func claim() throws {
        try live.withLock { l in
            guard !l.checking, !l.applying, !l.restarting else {
                throw ChannelServiceError(
                    l.restarting ? "Matinee is restarting" : "an update check is running: try again when it ends", badInput: true)
            }
            l.applying = true
        }
    }

    private func install(_ ready: UpdateState.Ready) throws -> InstalledVersion {
        try claim()
        defer { live.withLock { $0.applying = false } }
        let now: InstalledVersion
        do {
            now = try updater().apply(ready)
        } catch let e as ReleaseError {
            throw ChannelServiceError(e.message, badInput: e.kind != .install)
        }
        events.info("Installed Matinee \(now.version) (build \(now.build)); restarting into it")
        reload()
        restartSoon()
        return now
    }

    /// After the answer has gone out: the daemon stops, and the CLI runs the
    /// launcher again, which starts the current version on trial.
    private func restartSoon() {
        live.withLock { $0.restarting = true }
        let body = restart.withLock { $0 }
        Task {
            try? await Task.sleep(for: .milliseconds(500))
            await body()
        }
    }

    private func updater() throws -> Updater {
        var u = Releases.updater(session: runtime.session, home: home, channel: try channel.get(), peers: peers)
        u.lookupBudget = .seconds(60)
        return u
    }

    /// What is on disk, read again after each change (the API answers from memory).
    private func reload() {
        let previous = installation.flatMap { i in i.previous.flatMap { i.version(of: $0)?.version } }
        let s = (try? channel.get()).map { store.load(root: $0.root) }
        live.withLock {
            $0.cached = s
            $0.previous = previous
        }
    }

    // MARK: The job

    /// Waits `wait`, or less if a check is asked for.
    func sleep(upTo wait: Duration) async {
        let end = ContinuousClock.now + wait
        while ContinuousClock.now < end, !Task.isCancelled, !live.withLock({ $0.wanted }) {
            try? await Task.sleep(for: min(.seconds(1), end - ContinuousClock.now))
        }
    }

    /// One check, with the download of what it finds; then the release is
    /// offered, or installed (automatic updates). Returns true while an
    /// automatic update waits for the player to stop.
    func round() async -> Bool {
        guard case .success = channel else { return false }
        let (asked, waiting) = live.withLock { l in
            defer { l.wanted = false }
            return (l.wanted, l.waitingForPlayer)
        }
        if waiting, !asked, let ready = live.withLock({ $0.cached?.ready }), ready.build > installed.build {
            return decide(ready)
        }
        let started = live.withLock { l -> Bool in
            guard !l.applying, !l.restarting, !l.checking else { return false }
            l.checking = true
            l.step = "Looking up the release channel…"
            return true
        }
        guard started else { return false }
        defer {
            live.withLock {
                $0.checking = false; $0.step = nil
            }
        }
        do {
            let outcome = try await updater().check(download: true) { step in
                let line = Self.describe(step)
                self.live.withLock { $0.step = line ?? $0.step }
            }
            reload()
            await seedReleases()
            if case .ready(let r) = outcome {
                events.info("Matinee \(r.version) is downloaded and checked: it is ready to install")
                return decide(r)
            }
        } catch let e as ReleaseError {
            reload()
            events.info("Update check: \(e.message)")
        } catch {
            reload()
        }
        return false
    }

    private func decide(_ ready: UpdateState.Ready) -> Bool {
        let automatic = library.currentSettings.automaticUpdates
        switch UpdateSchedule.action(automatic: automatic, installable: installation != nil, playing: library.isPlaying) {
        case .offer:
            live.withLock { $0.waitingForPlayer = false }
            return false
        case .waitForPlayer:
            live.withLock { $0.waitingForPlayer = true }
            return true
        case .install:
            live.withLock { $0.waitingForPlayer = false }
            do {
                _ = try install(ready)
            } catch let e as ChannelServiceError {
                events.info("Automatic update: \(e.message)")
            } catch {}
            return false
        }
    }

    static func describe(_ step: Updater.Step) -> String? {
        switch step {
        case .lookingUp: "Looking up the release channel…"
        case .found(let seq): "Found release \(seq); fetching its manifest…"
        case .manifest: nil
        case .downloading(let done, let total): "Downloading \(Format.bytes(done)) of \(Format.bytes(total))…"
        case .verifying: "Checking the archive…"
        case .unpacking: "Unpacking…"
        }
    }

    // MARK: Sharing the app

    /// The release torrents this home holds and should share: the latest
    /// release torrent (its manifest), and the archives of the version
    /// running and of the one ready. With their folders.
    private var shared: [(id: TorrentID, folder: String)] {
        guard let s = live.withLock({ $0.cached }) else { return [] }
        var out: [(TorrentID, String)] = []
        if let hex = s.lastTorrent, let id = TorrentID(string: hex) {
            out.append((id, store.manifestFolder(s.trust.highestSequence)))
        }
        for build in Set([installed.build, s.ready?.build].compactMap { $0 }) {
            if let hex = s.artifacts?[String(build)], let id = TorrentID(string: hex) { out.append((id, store.artifactFolder(build))) }
        }
        return out
    }

    /// Seeds what `shared` names that the engine does not have yet, from
    /// the .torrent files kept (no peer needed for metadata). Once at start
    /// and after each check.
    func seedReleases() async {
        guard library.currentSettings.seeding else { return }
        for (id, folder) in shared where runtime.session.torrent(id) == nil {
            guard let bytes = store.knownTorrent(id), let meta = try? TorrentMetadata(torrentFile: bytes), meta.id == id,
                FileManager.default.fileExists(atPath: folder + "/" + meta.name)
            else { continue }
            var o = AddTorrentOptions(source: .torrentFile(bytes), savePath: folder)
            o.seedMode = true
            do {
                _ = try await runtime.session.add(o)
            } catch {
                events.problem("cannot share Matinee's release torrent \(id.hex): \(error)")
            }
        }
    }

    /// With the upkeep: sharing the release torrents stops where sharing
    /// downloads would (sharing off, the ratio or time limit).
    func upkeep() {
        let sharing = library.currentSettings.seeding
        let policy = library.policy
        for (id, _) in shared {
            guard let t = runtime.session.torrent(id) else { continue }
            let status = t.latestStatus
            let stop: Bool
            if case .stop = policy.decide(status) {
                stop = true
            } else {
                stop = !sharing && (status.isFinished || status.isSeeding)
            }
            let change = live.withLock { l -> Bool? in
                // true: pause it now; false: share it again; nil: as it is.
                if stop { return l.stopped.insert(id).inserted ? true : nil }
                return l.stopped.remove(id) != nil ? false : nil
            }
            // Paused at the limit; shared again when the limits are raised.
            if change == true { t.pause() } else if change == false { t.resume() }
        }
    }

    /// Puts the stored release pointer back on the DHT (with the channels'
    /// re-puts): the channel stays reachable while its maintainer is offline.
    func republish() async {
        guard case .success(let c) = channel, let item = live.withLock({ $0.cached?.pointer })?.item(channel: c.publicKey) else { return }
        let nodes = await runtime.session.dhtPut(item)
        events.info("Put the release pointer (sequence \(item.sequence)) back on the DHT: \(nodes) nodes took it")
    }
}

/// The update checks: every few hours (`UpdateSchedule`), or at once when
/// asked; cancelled with the daemon's shutdown like every job.
struct UpdateJob: Service {
    let updates: SelfUpdate
    let ready: Latch
    let schedule: UpdateSchedule

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await ready.wait()
            var wait = schedule.first(unit: .random(in: 0..<1))
            while !Task.isCancelled {
                await updates.sleep(upTo: wait)
                if Task.isCancelled { return }
                let waitingForPlayer = await updates.round()
                wait = waitingForPlayer ? schedule.whilePlaying : schedule.next(unit: .random(in: 0..<1))
            }
        }
    }
}
