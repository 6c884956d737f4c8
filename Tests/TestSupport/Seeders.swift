import Foundation

/// A python3-libtorrent peer (Tests/Fixtures/lt_seeder.py): an engine
/// independent of Matinee's own process.
public struct LibtorrentSeeder: Sendable {
    public let process: TestProcess
    public let port: Int
    public let infoHash: String
    public let magnet: String
    public var peer: String { "127.0.0.1:\(port)" }

    /// Seeds `data` (a file or folder), writing its .torrent to `torrentOut`.
    public static func start(
        data: String, torrentOut: String? = nil, torrentIn: String? = nil, trackers: [String] = [],
        uploadLimit: Int = 0, pieceSize: Int = 0
    ) async throws -> LibtorrentSeeder {
        var args = [Fixtures.seederScript, "seed", "--data", data, "--listen", "127.0.0.1:\(Ports.free())"]
        if let torrentOut { args += ["--torrent-out", torrentOut] }
        if let torrentIn { args += ["--torrent-in", torrentIn] }
        for t in trackers { args += ["--tracker", t] }
        if uploadLimit > 0 { args += ["--upload-limit", String(uploadLimit)] }
        if pieceSize > 0 { args += ["--piece-size", String(pieceSize)] }
        let p = try TestProcess("/usr/bin/python3", args, name: "lt_seeder")
        let info: [String: Any] = try await p.waitForLine { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        return LibtorrentSeeder(
            process: p, port: info["port"] as? Int ?? 0, infoHash: info["infohash"] as? String ?? "",
            magnet: info["magnet"] as? String ?? "")
    }
}

/// Transmission (transmission-cli) seeding a .torrent whose data is in `dataDir`.
public struct TransmissionSeeder: Sendable {
    public let process: TestProcess
    public let port: Int
    public var peer: String { "127.0.0.1:\(port)" }

    public static func start(torrent: String, dataDir: String, configDir: String) async throws -> TransmissionSeeder {
        let port = Ports.free()
        // Loopback only, no DHT/LPD/port mapping: a private swarm.
        let settings: [String: Any] = [
            "dht-enabled": false, "lpd-enabled": false, "pex-enabled": true, "utp-enabled": true,
            "port-forwarding-enabled": false, "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1",
            "peer-port": port, "peer-port-random-on-start": false, "encryption": 1,
            "speed-limit-up-enabled": false, "ratio-limit-enabled": false, "message-level": 1,
        ]
        try FileManager.default.createDirectory(atPath: configDir, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: settings).write(to: URL(fileURLWithPath: configDir + "/settings.json"))
        let p = try TestProcess(
            "/usr/bin/transmission-cli", ["-g", configDir, "-w", dataDir, "-p", String(port), "-M", "-ep", torrent],
            name: "transmission-cli")
        // It verifies the data, then says "Seeding" on its progress line.
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if p.stderr.contains("Seeding") || p.lines.contains(where: { $0.contains("Seeding") }) {
                return TransmissionSeeder(process: p, port: port)
            }
            if !p.isRunning { throw TestFailure("transmission-cli exited: \(p.stderr.suffix(1000))") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("transmission-cli did not start seeding: \(p.stderr.suffix(1000)) \(p.lines.suffix(3))")
    }
}

/// opentracker on loopback (HTTP announce on a free port).
public struct Tracker: Sendable {
    public let process: TestProcess
    public let port: Int
    public var announceURL: String { "http://127.0.0.1:\(port)/announce" }

    public static func start() async throws -> Tracker {
        let port = Ports.free()
        let p = try TestProcess("/usr/bin/opentracker", ["-i", "127.0.0.1", "-p", String(port), "-P", String(port)], name: "opentracker")
        // Ready when it accepts connections.
        for _ in 0..<100 {
            if canConnect(port: port) { return Tracker(process: p, port: port) }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("opentracker did not start: \(p.stderr)")
    }
}

public func canConnect(port: Int, host: String = "127.0.0.1") -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr(host)
    addr.sin_port = UInt16(port).bigEndian
    let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    return rc == 0
}
