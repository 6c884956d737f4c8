import Foundation
import Synchronization

/// A child process for tests (a seeder, a tracker, the matinee binary), with
/// its output collected line by line. Killed when released.
public final class TestProcess: @unchecked Sendable {
    public let process = Process()
    private let out = Pipe()
    private let err = Pipe()
    private final class Output: Sendable {
        let lines = Mutex<[String]>([])
        let stderr = Mutex<String>("")
        let raw = Mutex<[UInt8]>([])
    }
    private let output = Output()
    public let name: String

    public init(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        currentDirectory: String? = nil, name: String? = nil
    ) throws {
        self.name = name ?? (executable as NSString).lastPathComponent
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let o = output
        Self.drain(out.fileHandleForReading) { data in
            o.raw.withLock { raw in
                raw += data
                while let nl = raw.firstIndex(of: 10) {
                    let line = String(decoding: raw[..<nl], as: UTF8.self)
                    raw.removeSubrange(...nl)
                    o.lines.withLock { $0.append(line) }
                }
            }
        }
        Self.drain(err.fileHandleForReading) { data in
            o.stderr.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
    }

    private static func drain(_ h: FileHandle, _ sink: @escaping @Sendable ([UInt8]) -> Void) {
        let t = Thread {
            while true {
                let d = h.availableData
                if d.isEmpty { break }
                sink(Array(d))
            }
        }
        t.start()
    }

    public var lines: [String] { output.lines.withLock { $0 } }
    public var stderr: String { output.stderr.withLock { $0 } }
    public var isRunning: Bool { process.isRunning }

    /// Waits for a stdout line for which `match` returns a value.
    public func waitForLine<T>(timeout: Duration = .seconds(30), _ match: @Sendable (String) -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        var seen = 0
        while true {
            let ls = lines
            for l in ls[seen...] { if let v = match(l) { return v } }
            seen = ls.count
            if !process.isRunning && lines.count == seen {
                throw TestFailure(
                    "\(name) exited (\(process.terminationStatus)) before printing the expected line; stderr: \(stderr.suffix(2000))")
            }
            if ContinuousClock.now > deadline {
                throw TestFailure(
                    "\(name) printed no expected line within \(timeout); stdout: \(ls.suffix(5)) stderr: \(stderr.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Waits until `match` finds what it looks for in stderr so far.
    public func waitForStderr<T>(timeout: Duration = .seconds(30), _ match: @Sendable (String) -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let v = match(stderr) { return v }
            if !process.isRunning {
                throw TestFailure(
                    "\(name) exited (\(process.terminationStatus)) before writing the expected text; stderr: \(stderr.suffix(2000))")
            }
            if ContinuousClock.now > deadline {
                throw TestFailure("\(name) wrote no expected text within \(timeout); stderr: \(stderr.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Waits for exit; returns the status. Kills the process after `timeout`.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                kill(SIGKILL)
                throw TestFailure("\(name) did not exit within \(timeout); stdout: \(lines.suffix(5)) stderr: \(stderr.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        // let the drain threads catch the last output
        try await Task.sleep(for: .milliseconds(100))
        return process.terminationStatus
    }

    public func kill(_ signal: Int32 = SIGTERM) {
        if process.isRunning { Foundation.kill(process.processIdentifier, signal) }
    }

    deinit {
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
