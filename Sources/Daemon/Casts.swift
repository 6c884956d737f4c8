public import Casting
import Foundation
import Hummingbird
import Logging
public import Server
import Streaming
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
    private let events: Events
    private let listeners = Mutex<[String: Listener]>([:])

    public init(server: StreamServer, events: Events = .ignored) {
        self.server = server
        self.events = events
    }

    /// The addresses the LAN face listens on now, with their ports (none
    /// while nothing is cast).
    public var lanAddresses: [String: Int] { listeners.withLock { $0.mapValues(\.port) } }

    /// Starts `path` (`/stream/<infohash>/<file>`) playing on `renderer`:
    /// opens the LAN face, hands the renderer a capability URL on it with
    /// DIDL-Lite metadata, and presses Play.
    public func start(path: String, title: String, fileName: String, duration: Double?, on renderer: Renderer) async throws -> CastSession {
        guard let address = LocalAddresses.facing(renderer.host) else {
            throw DaemonError("no network interface of this machine is on \(renderer.name)'s network (\(renderer.host))")
        }
        let port = try await open(address)
        let url = "http://\(address):\(port)" + server.capability.sign(path)
        let client = RendererClient(renderer)
        let session = CastSession(renderer: renderer, client: client, url: url) { [weak self] in self?.close(address) }
        do {
            let metadata = DIDL.item(title: title, url: url, mimeType: MediaType.forFile(fileName), duration: duration)
            // A renderer busy with something else takes a new URI only once
            // stopped (gmediarender, many TVs); one with nothing to stop may
            // refuse this, which is fine.
            try? await client.stop()
            try await client.load(url: url, metadata: metadata)
            try await client.play()
        } catch {
            await session.end(stopRenderer: false)
            throw DaemonError("cannot cast to \(renderer.name): \(error)")
        }
        events.info("Casting \(title) to \(renderer.name) (\(renderer.host))")
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

/// One stream playing on one renderer.
public final class CastSession: Sendable {
    public let renderer: Renderer
    public let client: RendererClient
    /// What the renderer fetches (on the LAN face, with a capability).
    public let url: String
    private let release: Mutex<(@Sendable () -> Void)?>

    init(renderer: Renderer, client: RendererClient, url: String, release: @escaping @Sendable () -> Void) {
        self.renderer = renderer
        self.client = client
        self.url = url
        self.release = Mutex(release)
    }

    public func state() async throws -> RendererState { try await client.state() }

    /// Stops the renderer (unless told not to) and lets the LAN face close
    /// if no other cast uses it. Once; later calls do nothing.
    public func end(stopRenderer: Bool = true) async {
        guard let release = release.withLock({ r -> (@Sendable () -> Void)? in
            defer { r = nil }
            return r
        }) else { return }
        if stopRenderer { try? await client.stop() }
        release()
    }
}
