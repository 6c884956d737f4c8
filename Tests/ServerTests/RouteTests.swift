import Catalog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Server
import Streaming
import Synchronization
import TestSupport
import Testing

/// The routes in-process (HummingbirdTesting), against fake services: the
/// checks every request goes through, and each area's validation. No
/// engine, no DHT, no sockets.
@Suite("Routes in-process")
struct RouteTests {
    static let hash = "aabbccddeeff00112233445566778899aabbccdd"

    struct Channels: ChannelService {
        let calls = Calls()
        func addChannel(address: String) async throws -> String {
            calls.add("add \(address)")
            if address == "nowhere" { throw ChannelServiceError("nobody holds that channel", badInput: false) }
            throw ChannelServiceError("\"\(address)\" is not a channel address", badInput: true)
        }
        func removeChannel(key: String) async throws { calls.add("remove \(key)") }
        func refreshChannel(key: String) async throws -> String { "refreshed" }
    }

    struct Playback: PlaybackService {
        let calls = Calls()
        func play(ref: String, episode: String?, quality: String?) async throws -> (path: String, label: String) {
            throw ChannelServiceError("no title \"\(ref)\" in the catalog", badInput: true)
        }
        func listFiles(_ r: StreamRequest) async throws -> [TorrentFileJSON] { [TorrentFileJSON(index: 0, path: "a.mkv", size: 10)] }
        func startStream(_ r: StreamRequest) async throws -> StreamStart {
            calls.add("stream \(r.source ?? "-") \(r.torrent ?? "-") \(r.peers ?? [])")
            return StreamStart(
                path: "/stream/\(RouteTests.hash)/0", infoHash: RouteTests.hash, file: 0, name: "a.mkv", size: 10, label: nil)
        }
    }

    struct Library: LibraryService {
        let calls = Calls()
        func settings() async -> AppSettings { AppSettings(downloadDir: "/tmp/d", proxy: "socks5://viewer:s%40cret@10.0.0.1:1080") }
        func updateSettings(_ s: AppSettings) async throws -> String {
            calls.add("settings \(s.downloadDir) \(s.proxy)")
            return "Settings saved."
        }
        func downloads() async -> [DownloadInfo] { [] }
        func removeDownload(infoHash: String, deleteData: Bool) async throws -> String {
            throw ChannelServiceError("no download \(infoHash)", badInput: true)
        }
        func addSeed(torrent: [UInt8], savePath: String) async throws -> String {
            calls.add("seed \(torrent.count) bytes from \(savePath)")
            return "Seeding"
        }
        func network() async -> NetworkInfo {
            NetworkInfo(proxy: nil, proxyOnly: false, anonymousMode: false, incoming: true, problem: nil, summary: "Direct.")
        }
    }

    struct Updates: UpdateService {
        let calls = Calls()
        func updateStatus() async -> UpdateStatus {
            UpdateStatus(
                version: "0.1.0", build: 1000, installable: true, channel: nil, problem: nil, checking: false, step: nil,
                lastCheck: nil, lastResult: nil, ready: .init(version: "0.2.0", build: 2000, notes: "Faster seeks."), automatic: false,
                restarting: false)
        }
        func checkForUpdate() async throws -> UpdateStatus {
            calls.add("check")
            var s = await updateStatus()
            s.checking = true
            return s
        }
        func applyUpdate() async throws -> String {
            calls.add("apply")
            throw ChannelServiceError("an update check is running: try again when it ends", badInput: true)
        }
        func rollBack() async throws -> String {
            calls.add("rollback")
            return "Back to Matinee 0.0.9"
        }
    }

    final class Calls: Sendable {
        private let list = Mutex<[String]>([])
        func add(_ s: String) { list.withLock { $0.append(s) } }
        var all: [String] { list.withLock { $0 } }
    }

    let channels = Channels()
    let playback = Playback()
    let library = Library()
    let updates = Updates()
    let dir = TempDir()

    /// The server as the daemon builds it; `port` 80 lets the test
    /// framework's "localhost" through the Host check.
    func app(port: Int = 80) throws -> (some ApplicationProtocol, StreamServer) {
        let store = try CatalogStore(path: dir.path + "/catalog.sqlite")
        var server = StreamServer(hub: StreamHub(), port: port, catalog: (store, channels, playback, dir.path))
        server.library = library
        server.updates = updates
        return (Application(router: server.router(allowlist: HostAllowlist(port: port))), server)
    }

    func json(_ object: Any) -> ByteBuffer { ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object)) }

    func headers(_ server: StreamServer, origin: String? = "http://localhost", token: Bool = true) -> HTTPFields {
        var h: HTTPFields = [.contentType: "application/json"]
        if let origin { h[.origin] = origin }
        if token { h[HTTPField.Name("X-Matinee-CSRF")!] = server.token.value }
        return h
    }

    @Test("a Host that is not this server's name and port: 421 before any route runs")
    func host() async throws {
        let (app, _) = try app(port: 8080)
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/titles", method: .get) { r in #expect(r.status == .misdirectedRequest) }
            try await client.execute(uri: "/api/session", method: .get) { r in #expect(r.status == .misdirectedRequest) }
        }
    }

    @Test("requests another site's page makes are refused, reads included; every answer says same-origin only")
    func crossSiteReads() async throws {
        let (app, _) = try app()
        try await app.test(.router) { client in
            for uri in ["/api/art?ref=anything", "/api/titles", "/api/session", "/", "/api/swarm?ref=x"] {
                for site in ["cross-site", "same-site"] {
                    try await client.execute(uri: uri, method: .get, headers: [HTTPField.Name("Sec-Fetch-Site")!: site]) { r in
                        #expect(r.status == .forbidden, "\(uri) \(site)")
                        #expect(String(buffer: r.body).contains("\(site) request refused"), "\(uri)")
                        #expect(r.headers[HTTPField.Name("Cross-Origin-Resource-Policy")!] == "same-origin")
                    }
                }
            }
            #expect(channels.calls.all.isEmpty, "no refused request reached the service")
            for site in ["same-origin", "none"] {
                try await client.execute(uri: "/api/titles", method: .get, headers: [HTTPField.Name("Sec-Fetch-Site")!: site]) { r in
                    #expect(r.status == .ok, "\(site)")
                    #expect(r.headers[HTTPField.Name("Cross-Origin-Resource-Policy")!] == "same-origin")
                }
            }
        }
    }

    @Test("state changes need the same origin and the CSRF token; reads need neither")
    func csrf() async throws {
        let (app, server) = try app()
        try await app.test(.router) { client in
            let body = json(["address": "x"])
            try await client.execute(
                uri: "/api/channels", method: .post, headers: headers(server, origin: "http://evil.example"), body: body
            ) { r in
                #expect(r.status == .forbidden)
            }
            try await client.execute(uri: "/api/channels", method: .post, headers: headers(server, token: false), body: body) { r in
                #expect(r.status == .forbidden)
            }
            var wrong = headers(server)
            wrong[HTTPField.Name("X-Matinee-CSRF")!] = String(repeating: "0", count: 64)
            try await client.execute(uri: "/api/channels", method: .post, headers: wrong, body: body) { r in #expect(r.status == .forbidden)
            }
            try await client.execute(uri: "/api/settings", method: .put, headers: headers(server, token: false), body: json([:])) { r in
                #expect(r.status == .forbidden)
            }
            #expect(channels.calls.all.isEmpty, "no refused request reached the service")
            // The page learns the token from its own origin.
            try await client.execute(uri: "/api/session", method: .get) { r in
                #expect(r.status == .ok)
                #expect(String(buffer: r.body).contains(server.token.value))
            }
            try await client.execute(uri: "/api/channels", method: .post, headers: headers(server), body: body) { r in
                #expect(r.status == .unprocessableContent)
            }
            #expect(channels.calls.all == ["add x"])
        }
    }

    @Test("updates: the status is a read; check, apply and rollback are changes behind the CSRF check, their refusals one line")
    func updates() async throws {
        let (app, server) = try app()
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/update", method: .get) { r in
                #expect(r.status == .ok)
                let s = try JSONDecoder().decode(UpdateStatus.self, from: Data(buffer: r.body))
                #expect(s.ready?.version == "0.2.0" && s.ready?.notes == "Faster seeks.")
            }
            for path in ["/api/update/check", "/api/update/apply", "/api/update/rollback"] {
                try await client.execute(uri: path, method: .post, headers: headers(server, origin: "http://evil.example")) { r in
                    #expect(r.status == .forbidden, "\(path)")
                }
                try await client.execute(uri: path, method: .post, headers: headers(server, token: false)) { r in
                    #expect(r.status == .forbidden, "\(path)")
                }
            }
            #expect(updates.calls.all.isEmpty, "no refused request reached the service")
            try await client.execute(uri: "/api/update/check", method: .post, headers: headers(server)) { r in
                #expect(r.status == .accepted)
                let s = try JSONDecoder().decode(UpdateStatus.self, from: Data(buffer: r.body))
                #expect(s.checking)
            }
            try await client.execute(uri: "/api/update/apply", method: .post, headers: headers(server)) { r in
                #expect(r.status == .unprocessableContent)
                #expect(String(buffer: r.body) == #"{"error":"an update check is running: try again when it ends"}"#)
            }
            try await client.execute(uri: "/api/update/rollback", method: .post, headers: headers(server)) { r in
                #expect(r.status == .ok && String(buffer: r.body).contains("Back to Matinee 0.0.9"))
            }
            #expect(updates.calls.all == ["check", "apply", "rollback"])
        }
    }

    @Test("streams need a capability; a signed path for another file or torrent is refused")
    func capability() async throws {
        let (app, server) = try app()
        try await app.test(.router) { client in
            try await client.execute(uri: "/stream/\(Self.hash)/0", method: .get) { r in #expect(r.status == .forbidden) }
            let other = server.capability.sign("/stream/\(Self.hash)/1")
            let parts = other.split(separator: "?", maxSplits: 1)
            try await client.execute(uri: "/stream/\(Self.hash)/0?" + parts[1], method: .get) { r in #expect(r.status == .forbidden) }
            // A valid capability for a torrent the hub does not have: 404, not a file.
            try await client.execute(uri: server.capability.sign("/stream/\(Self.hash)/0"), method: .get) { r in
                #expect(r.status == .notFound)
            }
        }
    }

    @Test(
        "the LAN face: subtitles of a cast with a capability, as WebVTT and SRT, with the CORS header; GET and HEAD only; the API, the UI and cross-site refusals are not there; the loopback face never sends the CORS header"
    )
    func castFace() async throws {
        let (main, server) = try app()
        let lan = Application(router: server.castRouter(allowlist: HostAllowlist(port: 80)))
        let id = server.castTexts.put("WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nTom &amp; Jerry &lt;3\n\n")
        let vtt = server.capability.sign("/subtitles/\(id).vtt"), srt = server.capability.sign("/subtitles/\(id).srt")
        let allowOrigin = HTTPField.Name("Access-Control-Allow-Origin")!
        try await lan.test(.router) { client in
            // A Chromecast's player is a page of another origin: cross-site is its normal case here.
            let tv: HTTPFields = [HTTPField.Name("Sec-Fetch-Site")!: "cross-site", .origin: "https://www.gstatic.com"]
            try await client.execute(uri: vtt, method: .get, headers: tv) { r in
                #expect(r.status == .ok && r.headers[.contentType] == "text/vtt; charset=utf-8")
                #expect(r.headers[allowOrigin] == "*" && String(buffer: r.body).hasPrefix("WEBVTT"))
            }
            try await client.execute(uri: srt, method: .get) { r in
                #expect(String(buffer: r.body) == "1\n00:00:01,000 --> 00:00:02,500\nTom & Jerry ‹3\n\n", "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/subtitles/\(id).vtt", method: .get) { r in
                #expect(r.status == .forbidden && r.headers[allowOrigin] == nil)
            }
            try await client.execute(uri: server.capability.sign("/subtitles/\(id).ass"), method: .get) { r in #expect(r.status == .notFound) }
            try await client.execute(uri: server.capability.sign("/stream/\(Self.hash)/0"), method: .get) { r in
                #expect(r.status == .notFound, "a stream the hub does not have")
            }
            for uri in ["/", "/api/titles", "/api/session", "/api/streams", "/metrics", "/api/subtitles?ref=x&infohash=y&index=0"] {
                try await client.execute(uri: uri, method: .get) { r in #expect(r.status == .notFound, "\(uri)") }
            }
            for method in [HTTPRequest.Method.post, .put, .delete, .options] {
                try await client.execute(uri: vtt, method: method, headers: headers(server)) { r in
                    #expect(r.status == .methodNotAllowed && r.headers[allowOrigin] == nil, "\(method)")
                }
            }
            server.castTexts.remove(id)
            try await client.execute(uri: vtt, method: .get) { r in #expect(r.status == .notFound, "gone with its cast") }
        }
        try await main.test(.router) { client in
            try await client.execute(uri: vtt, method: .get) { r in #expect(r.status == .notFound, "not on the loopback face") }
            try await client.execute(uri: "/api/titles", method: .get) { r in #expect(r.status == .ok && r.headers[allowOrigin] == nil) }
        }
    }

    @Test("validation: malformed bodies are 400, refusals 422, failures of the network 502, each with one message")
    func validation() async throws {
        let (app, server) = try app()
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/channels", method: .post, headers: headers(server), body: ByteBuffer(string: "{")) { r in
                #expect(r.status == .badRequest)
            }
            try await client.execute(uri: "/api/channels", method: .post, headers: headers(server), body: json(["address": "nowhere"])) {
                r in
                #expect(r.status == .badGateway)
                #expect(String(buffer: r.body).contains("nobody holds that channel"))
            }
            try await client.execute(uri: "/api/play", method: .post, headers: headers(server), body: json(["ref": "no-such-film"])) { r in
                #expect(r.status == .unprocessableContent)
                #expect(String(buffer: r.body).contains("no title"))
            }
            try await client.execute(uri: "/api/downloads/nothex", method: .delete, headers: headers(server)) { r in
                #expect(r.status == .badRequest)
            }
            try await client.execute(uri: "/api/downloads/\(Self.hash)", method: .delete, headers: headers(server)) { r in
                #expect(r.status == .unprocessableContent)
            }
            // Settings the page could never produce are refused before the service sees them.
            var bad = try JSONSerialization.jsonObject(with: JSONEncoder().encode(AppSettings(downloadDir: "/tmp/d"))) as! [String: Any]
            bad["downloadDir"] = "relative/path"
            try await client.execute(uri: "/api/settings", method: .put, headers: headers(server), body: json(bad)) { r in
                #expect(r.status == .unprocessableContent)
                #expect(String(buffer: r.body).contains("absolute path"))
            }
            // System folders, control characters and ports below 1024 (issue 13),
            // each named by field for the form.
            for (field, value, words) in [
                ("downloadDir", "/" as Any, "holds other folders"), ("downloadDir", "/etc", "the system's"),
                ("downloadDir", "/usr/local/films", "the system's"), ("downloadDir", "/tmp/../etc/x", "/etc is the system's"),
                ("downloadDir", "/tmp/a\nb", "control character"), ("peerPort", 80, "between 1024 and 65535"),
                ("httpPort", 65536, "between 1024 and 65535"), ("cacheLimitGiB", -1, "cache limit"),
                // Issue 14: the proxy.
                ("proxy", "http://127.0.0.1:3128", "only SOCKS5 proxies"), ("proxy", "socks5://127.0.0.1", "a host and a port"),
                ("proxyOnly", true, "needs a proxy address"),
            ] {
                var wrong = bad
                wrong["downloadDir"] = "/tmp/elsewhere"
                wrong[field] = value
                try await client.execute(uri: "/api/settings", method: .put, headers: headers(server), body: json(wrong)) { r in
                    #expect(r.status == .unprocessableContent, "\(field) = \(value)")
                    let body = (try? JSONSerialization.jsonObject(with: Data(buffer: r.body))) as? [String: Any]
                    let reason = (body?["fields"] as? [String: String])?[field]
                    #expect(reason?.contains(words) == true && body?["error"] as? String == reason, "\(field) = \(value): \(body ?? [:])")
                }
            }
            bad["downloadDir"] = "/tmp/elsewhere"
            bad["cacheLimitGiB"] = 1e9
            bad["peerPort"] = 1024
            bad["proxy"] = "socks5://viewer:secret@127.0.0.1:1080"
            bad["proxyOnly"] = true
            try await client.execute(uri: "/api/settings", method: .put, headers: headers(server), body: json(bad)) { r in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
            }
            // The proxy's password never reaches the page; sent back hidden, the saved one is kept.
            var shown: [String: Any] = [:]
            try await client.execute(uri: "/api/settings", method: .get) { r in
                #expect(!String(buffer: r.body).contains("cret"), "\(String(buffer: r.body))")
                shown = (try? JSONSerialization.jsonObject(with: Data(buffer: r.body))) as? [String: Any] ?? [:]
            }
            #expect(shown["proxy"] as? String == "socks5://viewer:********@10.0.0.1:1080", "\(shown)")
            try await client.execute(uri: "/api/settings", method: .put, headers: headers(server), body: json(shown)) { r in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
            }
            #expect(library.calls.all.last == "settings /tmp/d socks5://viewer:s%40cret@10.0.0.1:1080", "\(library.calls.all)")
            shown["proxy"] = "socks5://viewer:********@10.6.6.6:1080"
            try await client.execute(uri: "/api/settings", method: .put, headers: headers(server), body: json(shown)) { r in
                #expect(r.status == .unprocessableContent && String(buffer: r.body).contains("type the proxy's password again"))
            }
            #expect(library.calls.all.last == "settings /tmp/d socks5://viewer:s%40cret@10.0.0.1:1080", "another host never gets the saved password")
            // A seed from a relative folder, or a body that is not base64: refused.
            try await client.execute(
                uri: "/api/downloads", method: .post, headers: headers(server), body: json(["torrent": "AAAA", "savePath": "data"])
            ) { r in
                #expect(r.status == .unprocessableContent)
            }
            try await client.execute(
                uri: "/api/downloads", method: .post, headers: headers(server), body: json(["torrent": "%%", "savePath": "/d"])
            ) { r in
                #expect(r.status == .badRequest)
            }
            try await client.execute(
                uri: "/api/downloads", method: .post, headers: headers(server), body: json(["torrent": "AAAA", "savePath": "/d"])
            ) { r in
                #expect(r.status == .created)
            }
            #expect(
                library.calls.all == [
                    "settings /tmp/elsewhere socks5://viewer:secret@127.0.0.1:1080", "settings /tmp/d socks5://viewer:s%40cret@10.0.0.1:1080",
                    "seed 3 bytes from /d",
                ])
            try await client.execute(uri: "/api/titles?kind=opera", method: .get) { r in #expect(r.status == .badRequest) }
            try await client.execute(uri: "/api/title?ref=nothing", method: .get) { r in #expect(r.status == .notFound) }
        }
    }

    @Test("POST /api/streams hands the request to playback and answers with a signed path")
    func startStream() async throws {
        let (app, server) = try app()
        try await app.test(.router) { client in
            let body = json(["source": "magnet:?xt=urn:btih:\(Self.hash)", "peers": ["127.0.0.1:6881"]])
            try await client.execute(uri: "/api/streams", method: .post, headers: headers(server), body: body) { r in
                #expect(r.status == .created)
                let o = try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any]
                let path = o?["path"] as? String ?? ""
                let q = URLComponents(string: path)?.queryItems ?? []
                #expect(path.hasPrefix("/stream/\(Self.hash)/0?"))
                #expect(
                    server.capability.allows(
                        path: "/stream/\(Self.hash)/0", exp: q.first { $0.name == "exp" }?.value, cap: q.first { $0.name == "cap" }?.value))
            }
            try await client.execute(uri: "/api/streams", method: .post, headers: headers(server), body: ByteBuffer(string: "[]")) { r in
                #expect(r.status == .badRequest)
            }
            try await client.execute(uri: "/api/files", method: .post, headers: headers(server), body: body) { r in
                #expect(r.status == .ok)
                let files = try JSONDecoder().decode([TorrentFileJSON].self, from: Data(buffer: r.body))
                #expect(files == [TorrentFileJSON(index: 0, path: "a.mkv", size: 10)])
            }
        }
        #expect(playback.calls.all == ["stream magnet:?xt=urn:btih:\(Self.hash) - [\"127.0.0.1:6881\"]"])
    }
}
