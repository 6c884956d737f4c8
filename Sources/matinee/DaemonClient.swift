import Daemon
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

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
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: r)
        } catch {
            throw CLIError("the running Matinee (\(file.url)) stopped answering: \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return (status, data.isEmpty ? nil : try? JSONSerialization.jsonObject(with: data))
    }

    /// A GET's body, or nil unless it answered 200.
    func data(_ path: String, timeout: TimeInterval = 5) async -> Data? {
        guard let url = URL(string: file.url + path) else { return nil }
        let r = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        guard let (data, response) = try? await session.data(for: r), (response as? HTTPURLResponse)?.statusCode == 200 else { return nil }
        return data
    }

    /// A state change; returns the daemon's message, or throws its error as
    /// one line.
    func change(_ method: String, _ path: String, body: [String: Any]? = nil) async throws -> String? {
        let (status, json) = try await send(method, path, body: body)
        let object = json as? [String: Any]
        guard (200..<300).contains(status) else {
            let error = object?["error"]
            let message =
                (error as? String) ?? ((error as? [String: Any])?["message"] as? String) ?? "the running Matinee answered \(status)"
            throw CLIError(message)
        }
        return object?["message"] as? String
    }
}
