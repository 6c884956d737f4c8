import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The matinee binary, run as a user would, with its own MATINEE_HOME.
public struct MatineeCLI: Sendable {
    public let home: String
    /// The test host it runs on; nil: this machine's own network.
    public let namespace: NetNamespace?

    public init(home: String, in namespace: NetNamespace? = nil) {
        self.home = home
        self.namespace = namespace
    }

    /// Starts `matinee ARGS` in the background.
    public func start(_ args: [String], environment: [String: String] = [:]) throws -> TestProcess {
        var env = environment
        env["MATINEE_HOME"] = home
        let name = "matinee \(args.first ?? "")"
        if let namespace { return try namespace.start(Fixtures.matineeBinary, args, environment: env, name: name) }
        return try TestProcess(Fixtures.matineeBinary, args, environment: env, name: name)
    }

    /// Runs `matinee ARGS` to completion: (exit status, stdout, stderr).
    public func run(_ args: [String], timeout: Duration = .seconds(60)) async throws -> (status: Int32, stdout: String, stderr: String) {
        let p = try start(args)
        let status = try await p.waitForExit(timeout: timeout)
        return (status, p.lines.joined(separator: "\n"), p.stderr)
    }

    /// `matinee play` on loopback with a private (empty) DHT; returns the
    /// process and the stream URL it printed. Its engine log (peer events)
    /// goes to its stderr, for failure messages.
    public func play(
        _ source: String, _ extra: [String] = [], timeout: Duration = .seconds(60), environment: [String: String] = [:]
    ) async throws -> (TestProcess, String) {
        let p = try start(
            ["play", source, "--listen", "127.0.0.1:0", "--dht-node", "127.0.0.1:1"] + extra,
            environment: environment.merging(["MATINEE_ENGINE_LOG": "1"]) { a, _ in a })
        let url = try await p.waitForLine(timeout: timeout) { $0.hasPrefix("http://") ? $0 : nil }
        return (p, url)
    }

    /// `matinee seed` on loopback; returns the process and the magnet link.
    public func seed(_ path: String, _ extra: [String] = []) async throws -> (TestProcess, String) {
        let p = try start(["seed", path, "--listen", "127.0.0.1:0", "--dht-node", "127.0.0.1:1"] + extra)
        let magnet = try await p.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("magnet:") ? $0 : nil }
        return (p, magnet)
    }
}

/// A minimal HTTP client for the tests (URLSession, no caching, no redirects).
public enum HTTP {
    public struct Reply: Sendable {
        public let status: Int
        public let headers: [String: String]
        public let body: [UInt8]
        public func header(_ name: String) -> String? {
            headers.first { $0.key.lowercased() == name.lowercased() }?.value
        }
    }

    public static func request(
        _ url: String, method: String = "GET", headers: [String: String] = [:], body: [UInt8]? = nil, timeout: TimeInterval = 60
    ) async throws -> Reply {
        var r = URLRequest(url: URL(string: url)!, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        r.httpMethod = method
        if let body { r.httpBody = Data(body) }
        for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
        let config = URLSessionConfiguration.ephemeral
        config.urlCache = nil
        config.httpAdditionalHeaders = ["Accept-Encoding": "identity"]
        let session = URLSession(configuration: config)
        defer { session.finishTasksAndInvalidate() }
        let (data, response) = try await session.data(for: r)
        let http = response as! HTTPURLResponse
        var h = [String: String]()
        for (k, v) in http.allHeaderFields { h["\(k)"] = "\(v)" }
        return Reply(status: http.statusCode, headers: h, body: Array(data))
    }

    /// Polls a stream's status until every byte of the file is verified.
    public static func waitUntilComplete(_ streamURL: String, timeout: Duration = .seconds(90)) async throws -> [String: Any] {
        let statusURL = streamURL.replacingOccurrences(of: "/stream/", with: "/api/streams/")
        let deadline = ContinuousClock.now + timeout
        while true {
            let reply = try await request(statusURL)
            if let obj = try JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any],
                let size = obj["size"] as? Int, let buffered = obj["bufferedBytes"] as? Int, buffered == size
            {
                return obj
            }
            if ContinuousClock.now > deadline { throw TestFailure("the stream did not complete in \(timeout)") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    public static func status(_ streamURL: String) async throws -> [String: Any] {
        let reply = try await request(streamURL.replacingOccurrences(of: "/stream/", with: "/api/streams/"))
        return (try JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any]) ?? [:]
    }
}
