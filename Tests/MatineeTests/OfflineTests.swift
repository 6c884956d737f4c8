import Foundation
import TestSupport
import Testing

/// Pressing Play with nobody to ask (issue 13): the daemon as users start
/// it (every interface), its only DHT node dead, so the bundled Open Films
/// titles cannot be found.
@Suite("Offline and cancelled starts", .serialized)
struct OfflineTests {
    static func daemon(_ dir: TempDir) async throws -> (TestProcess, String, [String: String]) {
        let cli = MatineeCLI(home: dir.sub("home"))
        let serve = try cli.start(["serve", "--dht-node", "127.0.0.1:1"])
        let base = try await serve.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }
        let session = try await HTTP.request(base + "/api/session")
        let token = try #require((try JSONSerialization.jsonObject(with: Data(session.body)) as? [String: String])?["csrfToken"])
        return (serve, base, ["Origin": base, "X-Matinee-CSRF": token, "Content-Type": "application/json"])
    }

    static func object(_ reply: HTTP.Reply) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(reply.body))) as? [String: Any] ?? [:]
    }

    @Test("offline, Play says so (not a minute of waiting, not 'nobody shares it') and leaves no download behind")
    func offline() async throws {
        let dir = TempDir()
        let (serve, base, write) = try await Self.daemon(dir)
        defer { serve.kill() }
        // The default wait is 60 s: an answer within 40 s comes from the check.
        let r = try await HTTP.request(
            base + "/api/play", method: "POST", headers: write, body: Array(#"{"ref": "big-buck-bunny-2008"}"#.utf8), timeout: 40)
        let message = Self.object(r)["error"] as? String ?? ""
        #expect(r.status == 502, "\(r.status) \(message)")
        #expect(message.hasPrefix("you appear to be offline") && message.contains("Big Buck Bunny"), "\(message)")
        #expect(try await HTTP.request(base + "/api/downloads").body == Array("[]".utf8), "a ghost download is left")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/home/resume/dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c.resume"))
    }

    @Test("a start that waits shows what it found, and Cancel stops it without a trace")
    func cancel() async throws {
        let dir = TempDir()
        let (serve, base, write) = try await Self.daemon(dir)
        defer { serve.kill() }
        let started = Task {
            try await HTTP.request(
                base + "/api/play", method: "POST", headers: write, body: Array(#"{"ref": "sintel-2010"}"#.utf8), timeout: 90)
        }
        var progress: [String: Any] = [:]
        for _ in 0..<100 where progress["dhtNodes"] == nil {
            try await Task.sleep(for: .milliseconds(100))
            progress = Self.object(try await HTTP.request(base + "/api/play/progress?ref=sintel-2010"))
        }
        #expect(progress["dhtNodes"] is Int && progress["peers"] as? Int == 0 && progress["hasMetadata"] as? Bool == false, "\(progress)")
        let cancelled = try await HTTP.request(
            base + "/api/play/cancel", method: "POST", headers: write, body: Array(#"{"ref": "sintel-2010"}"#.utf8))
        #expect(cancelled.status == 200)
        let r = try await started.value
        #expect(r.status == 422 && (Self.object(r)["error"] as? String)?.contains("cancelled") == true, "\(Self.object(r))")
        #expect(try await HTTP.request(base + "/api/play/progress?ref=sintel-2010").status == 404)
        #expect(try await HTTP.request(base + "/api/downloads").body == Array("[]".utf8), "a ghost download is left")
        // Nothing to cancel now.
        let again = try await HTTP.request(
            base + "/api/play/cancel", method: "POST", headers: write, body: Array(#"{"ref": "sintel-2010"}"#.utf8))
        #expect(again.status == 404)
    }
}
