public import Casting
import Foundation
import Hummingbird
import Logging
public import Server
public import Streaming
import Synchronization

/// Casting a stream to a renderer on the LAN (issue 14): the HTTP server's
/// LAN face (`StreamServer.castApplication`) is opened on the address that
/// faces the renderer while at least one cast uses it, and closed with the
/// last; the renderer is driven over UPnP AV.
public final class Casts: Sendable {
    private struct Listener {
        var task: Task<Void, Never>
        var port: Int
        var users: Int
    }

    private let server: StreamServer
    private let hub: StreamHub
    private let events: Events
    private let listeners = Mutex<[String: Listener]>([:])
    /// The cast the web UI started (one at a time), and what it plays.
    private let current = Mutex<(session: CastSession, title: String, infoHash: String, file: Int)?>(nil)
    /// The last search, reused for a minute.
    private let found = Mutex<(at: ContinuousClock.Instant, renderers: [Renderer])?>(nil)

    public init(server: StreamServer, hub: StreamHub, events: Events = .ignored) {
        self.server = server
        self.hub = hub
        self.events = events
    }

    /// Starts `path` (`/stream/<infohash>/<file>`) playing on `renderer`
    /// from `start` seconds: opens the LAN face, hands the renderer a
    /// capability URL on it (the file as it is, or converted when the
    /// device cannot play it) with its title and subtitles, and presses Play.
    public func start(
        path: String, title: String, fileName: String, subtitles: CastSubtitles? = nil, start: Double = 0, on renderer: Renderer
    ) async throws -> CastSession {
        guard let address = LocalAddresses.facing(renderer.host) else {
            throw DaemonError("no network interface of this machine is on \(renderer.name)'s network (\(renderer.host))")
        }
        let port = try await open(address)
        let base = "http://\(address):\(port)"
        let capability = server.capability
        let direct = base + capability.sign(path)
        let text = subtitles.map { server.castTexts.put($0.webVTT) }
        let client = renderer.device()
        let texts = server.castTexts
        // What the file is (ffprobe, through the LAN face) and what the
        // device plays: the file as it is, or converted.
        let info = await MediaProbe.probe(direct, timeout: .seconds(30))
        let plan = info.map { PlaybackPlan.make(for: $0, fileName: fileName) }
        let mime = MediaType.forFile(fileName)
        let convert = CastFormat.mustConvert(
            mimeType: mime, playable: await client.playableTypes(), browserPlays: plan.map { $0.mode == .direct })
        let transcode = path.replacingOccurrences(of: "/stream/", with: "/transcode/")
        let media = CastMedia(
            url: direct, title: title, mimeType: convert ? "video/mp4" : mime, duration: info?.duration,
            subtitles: text.map { base + capability.sign("/subtitles/\($0).vtt") },
            subtitlesSRT: text.map { base + capability.sign("/subtitles/\($0).srt") }, subtitleLanguage: subtitles?.language,
            seekable: !convert)
        // A converted stream starts where asked (`start=`); a seek is a new one.
        let from: @Sendable (Double) -> String = { (at: Double) -> String in
            base + capability.sign(transcode) + (at >= 1 ? String(format: "&start=%.3f", at) : "")
        }
        let converted = convert ? from : nil
        let session = CastSession(renderer: renderer, client: client, media: media, converted: converted) { [weak self] in
            if let text { texts.remove(text) }
            self?.close(address)
        }
        do {
            try await session.load(at: start)
        } catch {
            await session.end(stopRenderer: false)
            throw DaemonError("cannot cast to \(renderer.name): \(error)")
        }
        events.info("Casting \(title) to \(renderer.name) (\(renderer.host))" + (convert ? ", converted: it cannot play the file as it is" : ""))
        return session
    }

    /// The LAN face on `address`, opened if it is not yet; its port.
    private func open(_ address: String) async throws -> Int {
        if let port = listeners.withLock({ l -> Int? in
            guard l[address] != nil else { return nil }
            l[address]?.users += 1
            return l[address]?.port
        }) {
            return port
        }
        let (ports, continuation) = AsyncStream<Result<Int, DaemonError>>.makeStream()
        var logger = Logger(label: "matinee.cast")
        logger.logLevel = .critical
        let app = server.castApplication(address: address, logger: logger) { port in continuation.yield(.success(port)) }
        let task = Task {
            do {
                try await app.run()
            } catch is CancellationError {
            } catch {
                continuation.yield(.failure(DaemonError("cannot serve the stream on \(address): \(HTTPService.describe(error))")))
            }
            continuation.finish()
        }
        var result: Result<Int, DaemonError> = .failure(DaemonError("the stream's server on \(address) did not start"))
        for await r in ports {
            result = r
            break
        }
        let port: Int
        do { port = try result.get() } catch {
            task.cancel()
            throw error
        }
        // Two casts may have opened it at once: keep one.
        let spare = listeners.withLock { l -> Task<Void, Never>? in
            if l[address] != nil {
                l[address]?.users += 1
                return task
            }
            l[address] = Listener(task: task, port: port, users: 1)
            return nil
        }
        if let spare {
            spare.cancel()
            return listeners.withLock { $0[address]?.port ?? port }
        }
        return port
    }

    private func close(_ address: String) {
        let task = listeners.withLock { l -> Task<Void, Never>? in
            guard var entry = l[address] else { return nil }
            entry.users -= 1
            if entry.users > 0 {
                l[address] = entry
                return nil
            }
            l[address] = nil
            return entry.task
        }
        task?.cancel()
    }
}

extension Casts {
    /// Ends the web UI's cast, if any, stopping the device (at most 5 s:
    /// a TV that went away does not hold up the daemon's stop).
    public func shutdown() async {
        guard let c = current.withLock({ c -> CastSession? in
            defer { c = nil }
            return c?.session
        }) else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await c.end() }
            group.addTask { try? await Task.sleep(for: .seconds(5)) }
            await group.next()
            group.cancelAll()
        }
        events.info("Stopped casting to \(c.renderer.name)")
    }
}

// MARK: The web UI's casts (CastService)

extension Casts: CastService {
    private func search(refresh: Bool) async -> [Renderer] {
        if !refresh, let f = found.withLock({ $0 }), ContinuousClock.now - f.at < .seconds(60) { return f.renderers }
        let (renderers, skipped) = await RendererDiscovery.discover(timeout: 2)
        for s in skipped { events.info("Casting: skipped a device: \(s)") }
        found.withLock { $0 = (ContinuousClock.now, renderers) }
        return renderers
    }

    private static func json(_ r: Renderer) -> RendererJSON { RendererJSON(udn: r.udn, name: r.name, model: r.model, host: r.host, kind: r.kind.rawValue) }

    public func renderers(refresh: Bool) async -> [RendererJSON] { await search(refresh: refresh).map(Self.json) }

    public func startCast(
        infoHash: String, file: Int, title: String, renderer: String, start: Double, subtitles: CastSubtitles?
    ) async throws -> CastJSON {
        guard let stream = hub.streams.first(where: { $0.torrent.id.hex == infoHash.lowercased() && $0.file.index == file }) else {
            throw ChannelServiceError("that stream is not open: play it first", badInput: true)
        }
        var known = await search(refresh: false)
        if !known.contains(where: { $0.udn == renderer }) { known = await search(refresh: true) }
        guard let target = known.first(where: { $0.udn == renderer }) else {
            throw ChannelServiceError("that TV did not answer on the network just now", badInput: false)
        }
        if let old = current.withLock({ c -> CastSession? in
            defer { c = nil }
            return c?.session
        }) {
            await old.end()
        }
        let session: CastSession
        do {
            session = try await self.start(
                path: "/stream/\(stream.torrent.id.hex)/\(stream.file.index)", title: title, fileName: stream.file.name,
                subtitles: subtitles, start: start, on: target)
        } catch let e as DaemonError {
            throw ChannelServiceError(e.message, badInput: false)
        }
        current.withLock { $0 = (session, title, stream.torrent.id.hex, stream.file.index) }
        return await castStatus() ?? CastJSON(renderer: Self.json(target), title: title, infoHash: infoHash, file: file, state: "loading", position: nil, duration: nil)
    }

    public func castStatus() async -> CastJSON? {
        guard let c = current.withLock({ $0 }) else { return nil }
        var json = CastJSON(
            renderer: Self.json(c.session.renderer), title: c.title, infoHash: c.infoHash, file: c.file, state: "loading", position: nil,
            duration: nil)
        do {
            let st = try await c.session.state()
            json.state = CastWords.state(st.transport)
            json.position = st.position
            json.duration = st.duration
        } catch {
            json.state = "unreachable"
            json.problem = "\(error)"
        }
        return json
    }

    public func controlCast(action: String, value: Double?) async throws -> CastJSON? {
        guard let c = current.withLock({ $0 }) else { throw ChannelServiceError("nothing is being cast", badInput: true) }
        do {
            switch action {
            case "play": try await c.session.client.play()
            case "pause": try await c.session.client.pause()
            case "seek":
                guard let value, value >= 0, value < 1e7 else { throw ChannelServiceError("seek takes a number of seconds", badInput: true) }
                try await c.session.seek(to: value)
            case "volume":
                guard let value, (0...100).contains(value) else { throw ChannelServiceError("volume takes 0 to 100", badInput: true) }
                try await c.session.client.setVolume(Int(value))
            default:
                let last = await castStatus()
                current.withLock { if $0?.session === c.session { $0 = nil } }
                await c.session.end()
                events.info("Stopped casting to \(c.session.renderer.name)")
                return last.map {
                    var s = $0
                    s.state = "stopped"
                    return s
                }
            }
        } catch let e as CastError {
            throw ChannelServiceError(e.description, badInput: false)
        }
        return await castStatus()
    }
}

/// A renderer's state in words (UPnP's words for the API and the CLI).
public enum CastWords {
    public static func state(_ transport: String) -> String {
        switch transport {
        case "PLAYING": "playing"
        case "PAUSED_PLAYBACK": "paused"
        case "STOPPED": "stopped"
        case "TRANSITIONING": "loading"
        case "NO_MEDIA_PRESENT": "idle"
        default: transport.lowercased()
        }
    }
}

/// One stream playing on one renderer.
public final class CastSession: Sendable {
    public let renderer: Renderer
    public let client: any CastDevice
    /// What the renderer plays; its URL is on the LAN face, with a capability.
    public let media: CastMedia
    /// For a converted stream: its URL from a given second (a seek loads it
    /// anew, and positions count from there).
    private let converted: (@Sendable (Double) -> String)?
    private let offset = Mutex<Double>(0)
    private let release: Mutex<(@Sendable () -> Void)?>

    /// What the renderer fetches.
    public var url: String { converted?(offset.withLock { $0 }) ?? media.url }
    public var isConverted: Bool { converted != nil }

    init(
        renderer: Renderer, client: any CastDevice, media: CastMedia, converted: (@Sendable (Double) -> String)?,
        release: @escaping @Sendable () -> Void
    ) {
        self.renderer = renderer
        self.client = client
        self.media = media
        self.converted = converted
        self.release = Mutex(release)
    }

    /// Loads the media on the device from `at` seconds and plays it.
    func load(at start: Double) async throws {
        var m = media
        if let converted {
            m.url = converted(start)
            offset.withLock { $0 = start >= 1 ? start : 0 }
        } else {
            m.start = start
        }
        try await client.load(m)
    }

    /// A seek: the device's own for the file as it is; a new converted
    /// stream from that second otherwise.
    public func seek(to seconds: Double) async throws {
        if converted != nil { try await load(at: seconds) } else { try await client.seek(to: seconds) }
    }

    /// The device's state, its position in the film (a converted stream's
    /// counts from where it started) and the film's length.
    public func state() async throws -> RendererState {
        var s = try await client.state()
        if converted != nil {
            let at = offset.withLock { $0 }
            s.position = s.position.map { $0 + at }
            s.duration = media.duration ?? s.duration
        } else if s.duration == nil {
            s.duration = media.duration
        }
        return s
    }

    /// Stops the renderer (unless told not to) and lets the LAN face close
    /// if no other cast uses it. Once; later calls do nothing.
    public func end(stopRenderer: Bool = true) async {
        guard let release = release.withLock({ r -> (@Sendable () -> Void)? in
            defer { r = nil }
            return r
        }) else { return }
        if stopRenderer { try? await client.stop() }
        await client.close()
        release()
    }
}
