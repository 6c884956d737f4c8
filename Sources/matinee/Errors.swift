import ArgumentParser
import Daemon
import TorrentKit

/// Runs a command: a `CLIError`, `DaemonError` or `EngineError` becomes one
/// line on stderr and exit status 1 (never a trace).
func reportingErrors(_ body: () async throws -> Void) async throws {
    let message: String
    do {
        try await body()
        return
    } catch let e as CLIError {
        message = e.message
    } catch let e as DaemonError {
        message = e.message
    } catch let e as EngineError {
        message = e.message
    }
    Console.endLive()
    Console.error(message)
    throw ExitCode(1)
}

/// An error shown to the user as one line, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
