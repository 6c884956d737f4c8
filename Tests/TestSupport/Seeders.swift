import Foundation

/// A python3-libtorrent peer (Tests/Fixtures/lt_seeder.py): an engine
/// independent of Matinee's own process.
public struct LibtorrentSeeder: Sendable {
    public let process: TestProcess
    public let port: Int
    public let infoHash: String
    public let magnet: String
    /// The loopback address it listens on: 127.0.0.1 unless told otherwise.
    public var host = "127.0.0.1"
    public var peer: String { "\(host):\(port)" }

    /// Seeds `data` (a file or folder), writing its .torrent to `torrentOut`.
    public static func start(
        data: String, torrentOut: String? = nil, torrentIn: String? = nil, trackers: [String] = [],
        uploadLimit: Int = 0, pieceSize: Int = 0, encryption: String = "enabled", corrupt: Bool = false,
        host: String = "127.0.0.1", peersLog: String? = nil
    ) async throws -> LibtorrentSeeder {
        var args = [Fixtures.seederScript, "seed", "--data", data, "--listen", "\(host):\(Ports.free())"]
        if let torrentOut { args += ["--torrent-out", torrentOut] }
        if let torrentIn { args += ["--torrent-in", torrentIn] }
        for t in trackers { args += ["--tracker", t] }
        if uploadLimit > 0 { args += ["--upload-limit", String(uploadLimit)] }
        if pieceSize > 0 { args += ["--piece-size", String(pieceSize)] }
        args += ["--encryption", encryption]
        if corrupt { args.append("--corrupt") }
        if let peersLog { args += ["--peers-log", peersLog] }
        let p = try TestProcess("/usr/bin/python3", args, name: "lt_seeder")
        let info: [String: Any] = try await p.waitForLine { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        return LibtorrentSeeder(
            process: p, port: info["port"] as? Int ?? 0, infoHash: info["infohash"] as? String ?? "",
            magnet: info["magnet"] as? String ?? "", host: host)
    }
}

/// Transmission (transmission-daemon, driven with transmission-remote)
/// seeding a .torrent whose data is in `dataDir`.
public struct TransmissionSeeder: Sendable {
    public let process: TestProcess
    public let port: Int
    public let rpcPort: Int
    public var peer: String { "127.0.0.1:\(port)" }

    public static func start(torrent: String, dataDir: String, configDir: String) async throws -> TransmissionSeeder {
        let port = Ports.free()
        let rpc = Ports.free()
        try FileManager.default.createDirectory(atPath: configDir, withIntermediateDirectories: true)
        // Loopback only, no DHT/LPD/port mapping: a private swarm.
        let p = try TestProcess(
            "/usr/bin/transmission-daemon",
            [
                "-f", "-g", configDir, "-T", "-p", String(rpc), "-r", "127.0.0.1", "-P", String(port),
                "-i", "127.0.0.1", "-O", "-Y", "-M", "-ep", "-w", dataDir, "--log-error",
            ],
            name: "transmission-daemon")
        for _ in 0..<200 where !canConnect(port: rpc) { try await Task.sleep(for: .milliseconds(50)) }
        let remote = ["127.0.0.1:\(rpc)"]
        try Fixtures.run("/usr/bin/transmission-remote", remote + ["-a", torrent, "-w", dataDir])
        // It verifies the data, then reports 100% and Seeding (or Idle).
        let deadline = ContinuousClock.now + .seconds(60)
        var info = ""
        while ContinuousClock.now < deadline {
            info = (try? Fixtures.run("/usr/bin/transmission-remote", remote + ["-t", "all", "-i"])) ?? ""
            if info.contains("Percent Done: 100%") && (info.contains("State: Seeding") || info.contains("State: Idle")) {
                return TransmissionSeeder(process: p, port: port, rpcPort: rpc)
            }
            if !p.isRunning { throw TestFailure("transmission-daemon exited: \(p.stderr.suffix(1000))") }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestFailure("transmission did not start seeding: \(info.suffix(800)) \(p.stderr.suffix(500))")
    }
}

/// opentracker on loopback (HTTP announce on a free port). Debian builds it
/// with an access whitelist: `allow` adds an info-hash and reloads the list.
public final class Tracker: Sendable {
    public let process: TestProcess
    public let port: Int
    private let whitelist: String
    public var announceURL: String { "http://127.0.0.1:\(port)/announce" }

    private init(process: TestProcess, port: Int, whitelist: String) {
        self.process = process
        self.port = port
        self.whitelist = whitelist
    }

    public static func start(directory: String) async throws -> Tracker {
        let port = Ports.free()
        let list = directory + "/tracker-whitelist"
        FileManager.default.createFile(atPath: list, contents: Data())
        let p = try TestProcess(
            "/usr/bin/opentracker", ["-i", "127.0.0.1", "-p", String(port), "-P", String(port), "-w", list],
            name: "opentracker")
        for _ in 0..<100 {
            if canConnect(port: port) { return Tracker(process: p, port: port, whitelist: list) }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("opentracker did not start: \(p.stderr)")
    }

    /// Lets the tracker serve this torrent (40 hex digits), waiting until it does.
    public func allow(_ infoHash: String) async throws {
        let existing = (try? String(contentsOfFile: whitelist, encoding: .utf8)) ?? ""
        try (existing + infoHash.lowercased() + "\n").write(toFile: whitelist, atomically: true, encoding: .utf8)
        process.kill(SIGHUP)
        var escaped = ""
        var i = infoHash.startIndex
        while i < infoHash.endIndex {
            let j = infoHash.index(i, offsetBy: 2)
            escaped += "%" + infoHash[i..<j]
            i = j
        }
        let probe =
            "\(announceURL)?info_hash=\(escaped)&peer_id=-MT0000-probeprobepr&port=9&uploaded=0&downloaded=0&left=0&event=stopped&compact=1"
        for _ in 0..<50 {
            if let r = try? await HTTP.request(probe, timeout: 2), !String(decoding: r.body, as: UTF8.self).contains("failure") {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("opentracker did not take \(infoHash) into its whitelist")
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

/// A private Mainline DHT on loopback: several python3-libtorrent sessions
/// (Tests/Fixtures/dht_node.py) that know each other. Matinee joins it with
/// `--dht-node` for each node.
public struct PrivateDHT: Sendable {
    public let process: TestProcess
    public let nodes: [String]

    /// `count` nodes on 127.0.0.1, or on `hosts` in turn (127.0.1.1, ...,
    /// or addresses of `namespace`, where the nodes then run).
    public static func start(count: Int = 4, hosts: [String] = [], in namespace: NetNamespace? = nil) async throws -> PrivateDHT {
        let args = [Fixtures.dhtNodeScript, "--count", String(count)] + hosts.flatMap { ["--host", $0] }
        let p =
            try namespace?.start("/usr/bin/python3", args, name: "dht nodes")
            ?? TestProcess("/usr/bin/python3", args, name: "dht nodes")
        let nodes: [String] = try await p.waitForLine(timeout: .seconds(60)) { line in
            ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any])?["nodes"] as? [String]
        }
        return PrivateDHT(process: p, nodes: nodes)
    }

    /// `--dht-node HOST:PORT` for every node.
    public var arguments: [String] { nodes.flatMap { ["--dht-node", $0] } }
}
