import Foundation
import Testing
import TestSupport

/// The daemon's HTTP API (docs/api.md) against a real channel on a private
/// DHT: the routes, and the refusals of notes/security.md.
@Suite("HTTP API of serve", .serialized)
struct APITests {
    @Test("titles, one title, artwork and channels; state changes need our Origin and the CSRF token; no CORS")
    func catalogRoutes() async throws {
        let dir = TempDir()
        let dht = try await PrivateDHT.start(count: 8)
        _ = try makeLibrary(dir.path + "/lib")
        let (pub, address) = try await startPublisher("API Films", library: dir.path + "/lib", home: dir.sub("publisher"), dht: dht)

        let viewer = MatineeCLI(home: dir.sub("viewer"))
        let serve = try viewer.start(["serve", "--listen", "127.0.0.1:0"] + dht.arguments)
        let base = try await serve.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }
        let origin = base
        let session = try await HTTP.request(base + "/api/session")
        let token = try #require((try JSONSerialization.jsonObject(with: Data(session.body)) as? [String: String])?["csrfToken"])
        #expect(token.count == 64)

        let add = Array(#"{"address": "\#(address)"}"#.utf8)
        func post(_ headers: [String: String]) async throws -> HTTP.Reply {
            try await HTTP.request(base + "/api/channels", method: "POST", headers: ["Content-Type": "application/json"].merging(headers) { $1 }, body: add, timeout: 120)
        }
        // Refusals first: nothing may be added by them.
        #expect(try await post(["Origin": origin]).status == 403, "a POST without the CSRF token")
        #expect(try await post(["Origin": "http://evil.example", "X-Matinee-CSRF": token]).status == 403, "a cross-origin POST")
        #expect(try await post(["Sec-Fetch-Site": "cross-site", "X-Matinee-CSRF": token]).status == 403, "a cross-site POST without Origin")
        #expect(try await post(["Host": "evil.example:80", "Origin": "http://evil.example:80", "X-Matinee-CSRF": token]).status == 421, "a rebinding Host")
        #expect(try await HTTP.request(base + "/api/channels", method: "GET").body.count > 0)
        let before = try JSONSerialization.jsonObject(with: Data(try await HTTP.request(base + "/api/channels").body)) as? [[String: Any]]
        #expect(before?.map { $0["name"] as? String } == ["Open Films"])

        // The real thing: found on the DHT, fetched, verified, imported.
        let added = try await post(["Origin": origin, "X-Matinee-CSRF": token])
        #expect(added.status == 201, "\(String(decoding: added.body, as: UTF8.self))")
        #expect(added.header("Access-Control-Allow-Origin") == nil)
        let bad = try await HTTP.request(
            base + "/api/channels", method: "POST", headers: ["Origin": origin, "X-Matinee-CSRF": token],
            body: Array(#"{"address": "not a channel"}"#.utf8))
        #expect(bad.status == 422)

        let titles = try await HTTP.request(base + "/api/titles?q=tiny%20dragon")
        #expect(titles.status == 200 && titles.header("Content-Type")?.hasPrefix("application/json") == true)
        #expect(titles.header("Access-Control-Allow-Origin") == nil)
        let groups = try #require(try JSONSerialization.jsonObject(with: Data(titles.body)) as? [[String: Any]])
        let entry = try #require((groups.first?["entries"] as? [[String: Any]])?.first)
        #expect(entry["id"] as? String == "tiny-dragon-2021")
        let doc = try #require(entry["title"] as? [String: Any])
        #expect(doc["synopsis"] as? String == "A <script>alert(1)</script> dragon learns to fly.", "catalog text comes back as data, unchanged")
        let poster = try #require(entry["poster"] as? String)
        let art = try await HTTP.request(base + poster)
        #expect(art.status == 200 && art.header("Content-Type") == "image/jpeg" && art.body.count == 2000)
        #expect(try await HTTP.request(base + "/api/title?ref=tiny-dragon-2021").status == 200)
        #expect(try await HTTP.request(base + "/api/title?ref=nothing-here").status == 404)
        #expect(try await HTTP.request(base + "/api/titles?kind=alien").status == 400)
        let series = try JSONSerialization.jsonObject(with: Data(try await HTTP.request(base + "/api/titles?kind=series").body)) as? [[String: Any]]
        #expect(series?.map { $0["title"] as? String } == ["Little Show"])
        #expect(try await HTTP.request(base + "/api/titles", headers: ["Host": "evil.example"]).status == 421)

        // Remove it again (same rules for DELETE).
        let channels = try #require(try JSONSerialization.jsonObject(with: Data(try await HTTP.request(base + "/api/channels").body)) as? [[String: Any]])
        let key = try #require(channels.first { $0["name"] as? String == "API Films" }?["key"] as? String)
        #expect(try await HTTP.request(base + "/api/channels/\(key)", method: "DELETE", headers: ["Origin": origin]).status == 403)
        #expect(try await HTTP.request(base + "/api/channels/\(key)", method: "DELETE", headers: ["Origin": origin, "X-Matinee-CSRF": token]).status == 204)
        let after = try JSONSerialization.jsonObject(with: Data(try await HTTP.request(base + "/api/titles?q=tiny").body)) as? [[String: Any]]
        #expect(after?.isEmpty == true)

        serve.kill()
        _ = try await serve.waitForExit()
        pub.kill()
        _ = try await pub.waitForExit()
    }
}
