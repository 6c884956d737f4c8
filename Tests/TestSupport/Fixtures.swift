import Foundation

/// Paths and data the tests share.
public enum Fixtures {
    /// The package root, found from this file's location.
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static var seederScript: String { packageRoot + "/Tests/Fixtures/lt_seeder.py" }
    public static var dhtNodeScript: String { packageRoot + "/Tests/Fixtures/dht_node.py" }

    /// The built matinee binary (scripts/test builds it before running the tests).
    public static var matineeBinary: String {
        if let p = ProcessInfo.processInfo.environment["MATINEE_BIN"] { return p }
        for dir in [".build/debug", ".build/release"] {
            let p = packageRoot + "/" + dir + "/matinee"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return packageRoot + "/.build/debug/matinee"
    }

    /// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
    public static func bytes(count: Int, seed: UInt64) -> [UInt8] {
        var x = seed | 1
        var out = [UInt8](repeating: 0, count: count)
        var i = 0
        while i < count {
            x ^= x << 13
            x ^= x >> 7
            x ^= x << 17
            withUnsafeBytes(of: x) { b in
                for j in 0..<min(8, count - i) { out[i + j] = b[j] }
            }
            i += 8
        }
        return out
    }

    @discardableResult
    public static func writeRandomFile(_ path: String, size: Int, seed: UInt64) throws -> [UInt8] {
        let data = bytes(count: size, seed: seed)
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(data).write(to: URL(fileURLWithPath: path))
        return data
    }

    /// Makes an H.264/AAC MP4 with ffmpeg. `faststart` puts the index first.
    public static func makeVideo(_ path: String, seconds: Int = 20, faststart: Bool, size: String = "320x240") throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var args = [
            "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc=size=\(size):rate=25:duration=\(seconds)",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=\(seconds)",
            "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-b:v", "600k",
            "-c:a", "aac", "-b:a", "64k", "-shortest",
        ]
        if faststart { args += ["-movflags", "+faststart"] }
        args.append(path)
        try run("/usr/bin/ffmpeg", args)
    }

    /// Runs a command to completion; throws with its stderr if it fails.
    @discardableResult
    public static func run(_ exe: String, _ args: [String], environment: [String: String] = [:]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw TestFailure(
                "\(exe) \(args.joined(separator: " ")) failed (\(p.terminationStatus)): \(String(decoding: e, as: UTF8.self))")
        }
        return String(decoding: o, as: UTF8.self)
    }
}

/// A folder that is removed when the value goes away.
public final class TempDir: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "matinee-test") {
        let base = ProcessInfo.processInfo.environment["MATINEE_TEST_TMP"] ?? NSTemporaryDirectory()
        path = base + "/" + label + "-" + UUID().uuidString.prefix(8)
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func sub(_ name: String) -> String {
        let p = path + "/" + name
        try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Free TCP ports on loopback. The OS picks; a port in use by a later bind
/// is possible but rare, and each test uses ports it asked for itself.
public enum Ports {
    /// A loopback port held by another process (a listening socket) while
    /// the returned process lives: a port that is surely in use.
    public static func hold() async throws -> (process: TestProcess, port: Int) {
        let p = try TestProcess(
            "/usr/bin/python3",
            [
                "-c",
                """
                import socket, sys, time
                s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
                print(s.getsockname()[1], flush=True); time.sleep(600)
                """,
            ], name: "port holder")
        let port = try await p.waitForLine { Int($0) }
        return (p, port)
    }

    public static func free() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
