import Foundation
import Hummingbird
import Logging
import Server

/// Starts the HTTP server as a child task and returns the port it bound, or
/// a one-line error if it cannot bind.
enum HTTPRunner {
    static func start(_ server: StreamServer, in group: inout ThrowingTaskGroup<Void, any Error>) async throws -> Int {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "matinee.http")
        logger.logLevel = ProcessInfo.processInfo.environment["MATINEE_HTTP_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .critical
        let app = server.application(logger: logger) { port in continuation.yield(port) }
        group.addTask {
            do {
                try await app.run()
                continuation.finish()
            } catch {
                continuation.finish()
                throw CLIError("cannot serve HTTP on \(server.host):\(server.port): \(Self.describe(error))")
            }
        }
        for await port in ports { return port }
        // The server stopped before it listened: its task holds the error.
        try await group.next()
        throw CLIError("the HTTP server stopped before it started")
    }

    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("Address already in use") || text.contains("EADDRINUSE") { return "the port is in use" }
        return text
    }
}
