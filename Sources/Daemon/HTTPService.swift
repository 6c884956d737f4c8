import Foundation
import Hummingbird
import Logging
import Server
import ServiceLifecycle
import Synchronization

/// The HTTP server as a service: reports the port it bound, and turns a
/// failure to bind into one line.
struct HTTPService: Service {
    let server: StreamServer
    let onListening: @Sendable (Int) async -> Void

    func run() async throws {
        var logger = Logger(label: "matinee.http")
        logger.logLevel = ProcessInfo.processInfo.environment["MATINEE_HTTP_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .critical
        let app = server.application(logger: logger, onListening: onListening)
        do {
            try await app.run()
        } catch is CancellationError {
        } catch {
            throw DaemonError("cannot serve HTTP on \(server.host):\(server.port): \(Self.describe(error))")
        }
    }

    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("Address already in use") || text.contains("EADDRINUSE") { return "the port is in use" }
        return text
    }
}

/// The engine as a service: first to start, last to stop. Stopping saves
/// resume data and the DHT state, whether the group shuts down gracefully
/// or is cancelled (the save runs outside the cancelled task).
struct EngineService: Service {
    let runtime: EngineRuntime

    func run() async throws {
        try? await gracefulShutdown()
        let runtime = runtime
        await Task { await runtime.shutdown() }.value
    }
}

/// A job repeated on a schedule until the daemon stops: the channel
/// refresher, the pointer re-putter, the library's upkeep. Starts once
/// `ready` opens (the DHT answers), and never throws: a failed round is
/// reported by the job itself and the next round comes on time.
struct RepeatingJob: Service {
    let name: String
    let ready: Latch
    /// The wait before the first round, then before each next one.
    let first: @Sendable () -> Duration
    let next: @Sendable () -> Duration
    let work: @Sendable () async -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await ready.wait()
            var wait = first()
            while !Task.isCancelled {
                do { try await Task.sleep(for: wait) } catch { return }
                await work()
                wait = next()
            }
        }
    }
}
