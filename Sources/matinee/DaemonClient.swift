import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// MATINEE_HOME/daemon.json, written by a running daemon (mode 0600): where
/// it listens and the token its API wants on state changes. CLI commands
/// that change state use it to act through the daemon, which owns the
/// engine and its port, instead of starting a second engine beside it.
struct DaemonFile: Codable {
    var url: String
    var token: String
    var pid: Int32

    func write(_ home: Home) throws {
        let bytes = Array(try JSONEncoder().encode(self))
        try Disk.writeAtomically(bytes, to: home.daemonFile)
        chmod(home.daemonFile, 0o600)
    }

    static func read(_ home: Home) -> DaemonFile? {
        guard let bytes = Disk.read(home.daemonFile, limit: 4096) else { return nil }
        return try? JSONDecoder().decode(DaemonFile.self, from: Data(bytes))
    }

    /// Removes the file if it is still this process's (a newer daemon may
    /// have replaced it).
    static func remove(_ home: Home, pid: Int32) {
        if read(home)?.pid == pid { try? FileManager.default.removeItem(atPath: home.daemonFile) }
    }
}

/// A running daemon, reached over its HTTP API on 127.0.0.1.
struct DaemonClient {
    let file: DaemonFile

    /// The daemon of this home, if one runs and answers as itself: the
    /// process lives and its API hands out the token the file names.
    static func find(_ home: Home) async -> DaemonClient? {
        guard let file = DaemonFile.read(home), file.pid > 0, kill(file.pid, 0) == 0,
              file.url.hasPrefix("http://127.0.0.1:")
        else { return nil }
        let client = DaemonClient(file: file)
        guard let (status, json) = try? await client.send("GET", "/api/session", timeout: 5), status == 200,
              (json as? [String: Any])?["csrfToken"] as? String == file.token
        else { return nil }
        return client
    }

    /// One request; returns the status and the JSON body (nil if none).
    func send(_ method: String, _ path: String, body: [String: Any]? = nil, timeout: TimeInterval = 300) async throws -> (Int, Any?) {
        guard let url = URL(string: file.url + path) else { throw CLIError("bad daemon address \(file.url)") }
        var r = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        r.httpMethod = method
        r.setValue(file.url, forHTTPHeaderField: "Origin")
        r.setValue(file.token, forHTTPHeaderField: "X-Matinee-CSRF")
        if let body {
            r.httpBody = try JSONSerialization.data(withJSONObject: body)
            r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let (data, response) = try await session.data(for: r)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return (status, data.isEmpty ? nil : try? JSONSerialization.jsonObject(with: data))
    }

    /// A state change; returns the daemon's message, or throws its error as
    /// one line.
    func change(_ method: String, _ path: String, body: [String: Any]? = nil) async throws -> String? {
        let (status, json) = try await send(method, path, body: body)
        let object = json as? [String: Any]
        guard (200..<300).contains(status) else {
            let error = object?["error"]
            let message = (error as? String) ?? ((error as? [String: Any])?["message"] as? String) ?? "the running Matinee answered \(status)"
            throw CLIError(message)
        }
        return object?["message"] as? String
    }
}
