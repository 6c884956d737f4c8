import Foundation
import TestSupport
import Testing

/// Casting to a TV (issue 14): Debian's gmediarender, a real DLNA/UPnP
/// renderer on libupnp and GStreamer (fake sinks that still decode and keep
/// time), and a Chromecast written for the test (cast_receiver.py, checked
/// against python3-pychromecast), on a test host of their own. libupnp
/// refuses the loopback interface, so the TV and Matinee's host are two
/// network namespaces joined by a veth pair, with addresses that exist only
/// inside them and no route anywhere else (the searches must pick their
/// interface themselves).
@Suite("Casting to a TV: UPnP AV renderers and Chromecasts", .serialized)
struct CastTests {
    /// A SOAP action sent by the test itself, from `from`, to see what the renderer does.
    static func ask(_ from: NetNamespace, _ control: String, _ action: String, _ args: String = "") async throws -> String {
        let body =
            "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><u:\(action) xmlns:u=\"urn:schemas-upnp-org:service:AVTransport:1\"><InstanceID>0</InstanceID>\(args)</u:\(action)></s:Body></s:Envelope>"
        let p = try from.start(
            "/usr/bin/curl",
            [
                "-sS", "--max-time", "10", "-X", "POST", control, "-H", "Content-Type: text/xml; charset=\"utf-8\"", "-H",
                "SOAPACTION: \"urn:schemas-upnp-org:service:AVTransport:1#\(action)\"", "--data", body,
            ], name: "curl")
        _ = try await p.waitForExit(timeout: .seconds(20))
        return p.lines.joined(separator: "\n")
    }

    static func value(_ xml: String, _ tag: String) -> String? {
        guard let a = xml.range(of: "<\(tag)>"), let b = xml.range(of: "</\(tag)>", range: a.upperBound..<xml.endIndex) else { return nil }
        return String(xml[a.upperBound..<b.lowerBound])
    }

    static func seconds(_ t: String?) -> Double? {
        guard let parts = t?.split(separator: ":"), parts.count == 3 else { return nil }
        return parts.compactMap { Double($0) }.reduce(0) { $0 * 60 + $1 }
    }

    /// A home host with a seeded one-minute film and, on the LAN beside it, a
    /// TV host running gmediarender.
    struct World {
        let dir: TempDir
        let home: NetNamespace
        let tv: NetNamespace
        let r: Int
        let renderer: TestProcess
        let seeder: TestProcess?
        let port: String
        let size: Int
        var control: String { "http://10.234.\(r).2:\(port)/upnp/control/rendertransport1" }

        /// `seeded` false: the renderer alone (the test brings its own films).
        /// `mimeFilter`: gmediarender's `--mime-filter` (types it says it does not play).
        static func make(seeded: Bool = true, mimeFilter: String? = nil) async throws -> World {
            let dir = TempDir()
            let home = try NetNamespace("home")
            let tv = try NetNamespace("tv")
            let r = Int.random(in: 1...250)
            let (_, tvLink) = try NetNamespace.link(home, ["10.234.\(r).1/24"], tv, ["10.234.\(r).2/24"])
            let renderer = try tv.start(
                "/usr/bin/gmediarender",
                [
                    "-I", tvLink, "-f", "Living Room TV", "-u", "6d617469-6e65-6500-0000-\(String(format: "%012d", r))",
                    "--gstout-videopipe=fakesink sync=true", "--gstout-audiopipe=fakesink sync=true", "--logfile", "stderr",
                ] + (mimeFilter.map { ["--mime-filter", $0] } ?? []), name: "gmediarender")
            // Its log (stderr) names the port libupnp took; stdout is not flushed until it exits.
            let port = try await CastTests.controlPort(renderer)
            guard seeded else { return World(dir: dir, home: home, tv: tv, r: r, renderer: renderer, seeder: nil, port: port, size: 0) }
            // A minute's film, seeded inside the home host at 300 kB/s: a few
            // times its bitrate, so it plays at once but is not all here by the
            // time of a seek (a reader waiting far into the file shows the
            // renderer's range request; one served from disk at once may be
            // gone before it is seen).
            try Fixtures.makeVideo(dir.path + "/film.mp4", seconds: 60, faststart: true)
            let size = (try FileManager.default.attributesOfItem(atPath: dir.path + "/film.mp4")[.size] as? Int) ?? 0
            let seeder = try home.start(
                "/usr/bin/python3",
                [
                    Fixtures.seederScript, "seed", "--data", dir.path + "/film.mp4", "--torrent-out", dir.path + "/film.torrent", "--listen",
                    "127.0.0.1:7001", "--upload-limit", "300000",
                ],
                name: "lt_seeder")
            _ = try await seeder.waitForLine(timeout: .seconds(30)) { $0.hasPrefix("{") ? true : nil }
            return World(dir: dir, home: home, tv: tv, r: r, renderer: renderer, seeder: seeder, port: port, size: size)
        }

        func end() {
            renderer.kill(SIGKILL)
            seeder?.kill()
        }
    }

    @Test(
        "cast --list finds the renderer; play --cast makes it fetch our stream from the LAN face with a capability and play at one second a second; a seek is a range request near its byte; Ctrl-C stops it and closes the LAN face; the LAN face serves nothing else"
    )
    func dlnaEndToEnd() async throws {
        let w = try await World.make()
        defer { w.end() }
        let (dir, home, tv, r, renderer, size, control) = (w.dir, w.home, w.tv, w.r, w.renderer, w.size, w.control)

        let cli = MatineeCLI(home: dir.sub("viewer"), in: home)
        let listed = try await cli.run(["cast", "--list"], timeout: .seconds(30))
        #expect(listed.status == 0 && listed.stdout.contains("Living Room TV  (gmediarender)  10.234.\(r).2"), "\(listed)")

        // As users run it: no --listen, no --dht-node.
        let play = try cli.start(["play", dir.path + "/film.torrent", "--peer", "127.0.0.1:7001", "--cast", "living room"])
        defer { play.kill(SIGKILL) }
        let local = try await play.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }
        _ = try await play.waitForStderr(timeout: .seconds(30)) { $0.contains("Casting to Living Room TV (10.234.\(r).2)") ? true : nil }

        let info = try await Self.ask(home, control, "GetPositionInfo")
        let uri = (Self.value(info, "TrackURI") ?? "").replacingOccurrences(of: "&amp;", with: "&")
        #expect(uri.hasPrefix("http://10.234.\(r).1:") && uri.contains("/stream/") && uri.contains("cap="), "\(info)")

        // Playing: the position moves about a second a second.
        var first: Double?
        for _ in 0..<40 where first == nil || first == 0 {
            try await Task.sleep(for: .milliseconds(250))
            first = Self.seconds(Self.value(try await Self.ask(home, control, "GetPositionInfo"), "RelTime"))
        }
        let t0 = ContinuousClock.now
        try await Task.sleep(for: .seconds(4))
        let later = Self.seconds(Self.value(try await Self.ask(home, control, "GetPositionInfo"), "RelTime")) ?? 0
        let elapsed = Double((ContinuousClock.now - t0).components.seconds)
        #expect(
            abs((later - (first ?? 0)) - elapsed) <= 1.5,
            "position \(first ?? -1) -> \(later) in \(elapsed) s; \(renderer.stderr.split(separator: "\n").filter { $0.contains("ERROR") || $0.contains("gstreamer") }.suffix(8))")

        // A seek to 0:45 of 1:00: the renderer asks our LAN face for a range far into the file.
        _ = try await Self.ask(home, control, "Seek", "<Unit>REL_TIME</Unit><Target>00:00:45</Target>")
        let status = local.components(separatedBy: "?")[0].replacingOccurrences(of: "/stream/", with: "/api/streams/")
        var farthest = 0
        for _ in 0..<40 where farthest < size / 2 {
            try await Task.sleep(for: .milliseconds(250))
            guard let bytes = try? await home.get(status) else {
                Issue.record(
                    "play is gone: \(play.stderr); \(renderer.stderr.split(separator: "\n").filter { $0.contains("ERROR") || $0.contains("gstreamer") || $0.contains("TransportState") }.suffix(12))")
                break
            }
            let st = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] ?? [:]
            farthest = max(farthest, (st["readers"] as? [Int] ?? []).max() ?? 0)
        }
        #expect(farthest >= size / 2, "no reader past the middle of \(size) bytes after the seek (farthest \(farthest))")

        // The LAN face serves the capability URL and nothing else, to the renderer's host.
        let lan = uri.components(separatedBy: "/stream/")[0]
        for path in ["/", "/api/settings", "/api/streams", "/ui/app.js", "/metrics"] {
            let (code, _) = try await tv.request(lan + path)
            #expect(code == 404, "\(path) answered \(code) on the LAN face")
        }
        let (bare, _) = try await tv.request(uri.components(separatedBy: "?")[0])
        #expect(bare == 403, "a stream without its capability: \(bare)")
        let (granted, _) = try await tv.request(uri, headers: ["Range": "bytes=0-99"])
        #expect(granted == 206)

        // Ctrl-C: the renderer stops, play ends cleanly, the LAN face closes.
        play.kill(SIGINT)
        #expect(try await play.waitForExit(timeout: .seconds(30)) == 0, "\(play.stderr)")
        let state = Self.value(try await Self.ask(home, control, "GetTransportInfo"), "CurrentTransportState")
        #expect(state == "STOPPED", "\(state ?? "no answer")")
        let closed = try? await tv.request(uri, timeout: 5)
        #expect(closed == nil, "the LAN face still answers after the cast: \(closed.map { "\($0.status)" } ?? "")")
    }

    @Test(
        "the daemon's API drives the TV (renderers listed, a cast, play, pause, seek, volume, stop, refusals); the player lists the TV, casts to it and becomes its remote, in Chromium (the demo's films, Matinee on the home host)"
    )
    func castFromTheDaemon() async throws {
        let w = try await World.make(seeded: false)
        defer { w.end() }
        let demo = try MatineeCLI(home: w.dir.sub("demo"), in: w.home).start(["demo", "--no-browser"])
        defer { demo.kill() }
        let base = try await demo.waitForLine(timeout: .seconds(180)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }
        _ = try await demo.waitForStderr(timeout: .seconds(120)) { $0.contains("Serving on") ? true : nil }

        // The API, as the web UI uses it.
        let api = try await DaemonAPI.open(base, on: w.home)
        func post(_ path: String, _ body: [String: Any]) async throws -> (status: Int, body: [String: Any]) { try await api.post(path, body) }
        let opened = try await post("/api/streams", ["source": "signal-test-2022"])
        #expect(opened.status == 201, "\(opened)")
        let listed = try await api.renderers()
        let tv = try #require(listed.first { $0["name"] as? String == "Living Room TV" }, "\(listed)")
        #expect(tv["host"] as? String == "10.234.\(w.r).2")
        #expect(try await w.home.request(base + "/api/cast").status == 404, "nothing cast yet")
        let notOpen = try await post(
            "/api/cast", ["infoHash": String(repeating: "a", count: 40), "file": 0, "title": "x", "renderer": tv["udn"] ?? ""])
        #expect(notOpen.status == 422 && (notOpen.body["error"] as? String ?? "").contains("not open"), "\(notOpen)")
        let cast = try await post(
            "/api/cast",
            ["infoHash": opened.body["infoHash"] ?? "", "file": opened.body["file"] ?? 0, "title": "Signal Test", "renderer": tv["udn"] ?? ""])
        #expect(cast.status == 201, "\(cast)")
        func waitFor(_ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ ok: ([String: Any]) -> Bool) async throws {
            try await api.waitFor(what, sourceLocation: sourceLocation, ok)
        }
        try await waitFor("playing") { $0["state"] as? String == "playing" && ($0["position"] as? Double ?? 0) >= 1 }
        #expect(try await post("/api/cast/control", ["action": "pause"]).status == 200)
        try await waitFor("paused") { $0["state"] as? String == "paused" }
        #expect(try await post("/api/cast/control", ["action": "play"]).status == 200)
        try await waitFor("playing again") { $0["state"] as? String == "playing" }
        #expect(try await post("/api/cast/control", ["action": "seek", "value": 12]).status == 200)
        try await waitFor("at 0:12") { ($0["position"] as? Double ?? 0) >= 11 }
        #expect(try await post("/api/cast/control", ["action": "volume", "value": 30]).status == 200)
        #expect(try await post("/api/cast/control", ["action": "volume", "value": 300]).status == 422)
        #expect(try await post("/api/cast/control", ["action": "dance"]).status == 400)
        let uri = (Self.value(try await Self.ask(w.home, w.control, "GetPositionInfo"), "TrackURI") ?? "").replacingOccurrences(of: "&amp;", with: "&")
        #expect(try await post("/api/cast/control", ["action": "stop"]).status == 200)
        #expect(try await w.home.request(base + "/api/cast").status == 404)
        #expect(Self.value(try await Self.ask(w.home, w.control, "GetTransportInfo"), "CurrentTransportState") == "STOPPED")
        #expect((try? await w.tv.request(uri, timeout: 5)) == nil, "the LAN face still answers after the cast")

        // play --cast through the running daemon (the demo): its API does the casting.
        // (`matinee demo` keeps its home in demo/ of MATINEE_HOME.)
        let viaDaemon = try MatineeCLI(home: w.dir.path + "/demo/demo", in: w.home).start(["play", "paper-boats-2023", "--cast", "living"])
        defer { viaDaemon.kill(SIGKILL) }
        _ = try await viaDaemon.waitForStderr(timeout: .seconds(60)) { $0.contains("Casting to Living Room TV through the running Matinee") ? true : nil }
        try await waitFor("playing, cast by play") { $0["state"] as? String == "playing" && $0["title"] as? String == "Paper Boats" }
        viaDaemon.kill(SIGINT)
        #expect(try await viaDaemon.waitForExit(timeout: .seconds(30)) == 0, "\(viaDaemon.stderr)")
        #expect(try await w.home.request(base + "/api/cast").status == 404, "Ctrl-C on play stops the cast")
        #expect(Self.value(try await Self.ask(w.home, w.control, "GetTransportInfo"), "CurrentTransportState") == "STOPPED")

        // The player.
        let seen = try await runBrowser(
            base: base, artifacts: "cast", extra: ["--cast", "aurora-2024"], screens: ["cast-1-menu", "cast-2-remote"], on: w.home)
        #expect(seen["renderers"] as? [String] == ["Living Room TV"], "\(seen)")
        #expect((seen["remote"] as? [String])?.first == "Playing on Living Room TV", "\(seen)")
        #expect(seen["pausedHere"] as? Bool == true && seen["playingHereAgain"] as? Bool == true, "\(seen)")
        #expect((seen["pausedOnTV"] as? String)?.hasPrefix("paused") == true, "\(seen)")

        // A Chromecast joins the LAN; the API casts a film to it with its subtitles.
        let chromecast = try await FakeChromecast.start(on: w)
        defer { chromecast.process.kill() }
        let found = try await api.renderers(refresh: true)
        let kitchen = try #require(found.first { $0["name"] as? String == "Kitchen Cast" }, "\(found)")
        #expect(kitchen["kind"] as? String == "chromecast" && kitchen["host"] as? String == "10.234.\(w.r).2", "\(kitchen)")
        let played = try await post("/api/play", ["ref": "aurora-2024"])
        let streamURL = played.body["url"] as? String ?? ""
        let subURL = ((played.body["subtitles"] as? [[String: Any]])?.first?["url"] as? String) ?? ""
        let q = URLComponents(string: "http://x" + subURL)?.queryItems ?? []
        func item(_ name: String) -> String { q.first { $0.name == name }?.value ?? "" }
        let parts = streamURL.components(separatedBy: "?")[0].split(separator: "/")
        #expect(parts.count == 3 && !subURL.isEmpty, "\(played)")
        let withSubs = try await post(
            "/api/cast",
            [
                "infoHash": parts.count == 3 ? String(parts[1]) : "", "file": parts.count == 3 ? Int(parts[2]) ?? 0 : 0, "title": "Aurora",
                "renderer": kitchen["udn"] ?? "", "subtitles": ["ref": item("ref"), "infohash": item("infohash"), "index": Int(item("index")) ?? 0, "language": "en"],
            ])
        #expect(withSubs.status == 201, "\(withSubs)")
        let load = try await chromecast.waitFor("load")
        let track = (load["tracks"] as? [[String: Any]])?.first ?? [:]
        #expect(load["title"] as? String == "Aurora" && load["active"] as? [Int] == [1], "\(load)")
        #expect(track["trackContentType"] as? String == "text/vtt" && track["language"] as? String == "en", "\(load)")
        #expect((track["trackContentId"] as? String ?? "").hasPrefix("http://10.234.\(w.r).1:"), "\(track)")
        // The TV's player fetches the track from another origin: the CORS header lets it read it.
        let fetchedTrack = try await chromecast.waitFor("track")
        #expect(fetchedTrack["status"] as? Int == 200 && fetchedTrack["cors"] as? String == "*", "\(fetchedTrack)")
        #expect((fetchedTrack["head"] as? String ?? "").contains("Every bay hides another."), "\(fetchedTrack)")
        try await waitFor("playing on the Chromecast") {
            ($0["renderer"] as? [String: Any])?["name"] as? String == "Kitchen Cast" && $0["state"] as? String == "playing"
        }
        let beforeSeek = chromecast.events.count
        #expect(try await post("/api/cast/control", ["action": "seek", "value": 6]).status == 200)
        _ = try await chromecast.waitFor("seek", after: beforeSeek) { $0["to"] as? Double == 6 }
        let afterSeek = try await chromecast.waitFor("fetch", after: beforeSeek)
        #expect((afterSeek["range"] as? String ?? "bytes=0-") != "bytes=0-" && afterSeek["status"] as? Int == 206, "\(afterSeek)")
        try await waitFor("at 0:06 on the Chromecast") { ($0["position"] as? Double ?? 0) >= 6 }
        #expect(try await post("/api/cast/control", ["action": "volume", "value": 40]).status == 200)
        _ = try await chromecast.waitFor("volume") { $0["level"] as? Double == 0.4 }
        let trackURL = track["trackContentId"] as? String ?? ""
        #expect(try await post("/api/cast/control", ["action": "stop"]).status == 200)
        _ = try await chromecast.waitFor("app-stop")
        #expect((try? await w.tv.request(trackURL, timeout: 5)) == nil, "the subtitles are still served after the cast")
    }

    @Test(
        "a TV that does not list the file's type gets it converted: the renderer plays /transcode from the LAN face, a seek is a new conversion from that second, and the position counts from the film's start; Matinee's Ctrl-C stops the TV"
    )
    func dlnaConverts() async throws {
        let w = try await World.make(seeded: false, mimeFilter: "-video/x-matroska")
        defer { w.end() }
        // A minute's film in Matroska (H.264 and AAC: remuxed, not re-encoded).
        try Fixtures.makeVideo(w.dir.path + "/film.mkv", seconds: 60, faststart: false)
        let seeder = try w.home.start(
            "/usr/bin/python3",
            [Fixtures.seederScript, "seed", "--data", w.dir.path + "/film.mkv", "--torrent-out", w.dir.path + "/film.torrent", "--listen", "127.0.0.1:7001"],
            name: "lt_seeder")
        defer { seeder.kill() }
        _ = try await seeder.waitForLine(timeout: .seconds(30)) { $0.hasPrefix("{") ? true : nil }
        let serve = try MatineeCLI(home: w.dir.sub("viewer"), in: w.home).start(["serve", "--dht-node", "127.0.0.1:1"])
        defer { serve.kill() }
        let base = try await serve.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }
        let api = try await DaemonAPI.open(base, on: w.home)
        func post(_ path: String, _ body: [String: Any]) async throws -> (status: Int, body: [String: Any]) { try await api.post(path, body) }
        let torrent = try Data(contentsOf: URL(fileURLWithPath: w.dir.path + "/film.torrent")).base64EncodedString()
        let opened = try await post("/api/streams", ["torrent": torrent, "peers": ["127.0.0.1:7001"]])
        #expect(opened.status == 201, "\(opened)")
        let listed = try await api.renderers()
        let tv = try #require(listed.first { $0["name"] as? String == "Living Room TV" }, "\(listed)")
        let cast = try await post(
            "/api/cast", ["infoHash": opened.body["infoHash"] ?? "", "file": opened.body["file"] ?? 0, "title": "Film", "renderer": tv["udn"] ?? ""])
        #expect(cast.status == 201, "\(cast)")
        func trackURI() async throws -> String {
            (Self.value(try await Self.ask(w.home, w.control, "GetPositionInfo"), "TrackURI") ?? "").replacingOccurrences(of: "&amp;", with: "&")
        }
        let uri = try await trackURI()
        #expect(uri.hasPrefix("http://10.234.\(w.r).1:") && uri.contains("/transcode/") && uri.contains("cap="), "\(uri)")
        #expect(serve.stderr.contains("converted: it cannot play the file as it is"), "\(serve.stderr.suffix(800))")
        func waitFor(_ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ ok: ([String: Any]) -> Bool) async throws {
            try await api.waitFor(what, sourceLocation: sourceLocation, ok)
        }
        try await waitFor("playing the converted stream") { $0["state"] as? String == "playing" && ($0["position"] as? Double ?? 0) >= 2 }
        #expect(try await post("/api/cast/control", ["action": "seek", "value": 30]).status == 200)
        let sought = try await trackURI()
        #expect(sought.contains("/transcode/") && sought.contains("start=30.000"), "\(sought)")
        try await waitFor("playing from 0:30") {
            $0["state"] as? String == "playing" && ($0["position"] as? Double ?? 0) >= 31 && ($0["duration"] as? Double ?? 0) > 55
        }
        // Matinee stops (Ctrl-C) while the TV plays: the TV stops too, rather than losing its stream.
        serve.kill(SIGINT)
        #expect(try await serve.waitForExit(timeout: .seconds(60)) == 0, "\(serve.stderr.suffix(800))")
        #expect(serve.stderr.contains("Stopped casting to Living Room TV"), "\(serve.stderr.suffix(800))")
        #expect(Self.value(try await Self.ask(w.home, w.control, "GetTransportInfo"), "CurrentTransportState") == "STOPPED")
    }

    /// The daemon's API from the home host, as the web UI uses it (the CSRF
    /// token read once), and the cast's status awaited.
    struct DaemonAPI {
        let base: String
        let host: NetNamespace
        let token: String

        static func json(_ bytes: [UInt8]) -> [String: Any] { (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:] }

        static func open(_ base: String, on host: NetNamespace) async throws -> DaemonAPI {
            DaemonAPI(base: base, host: host, token: json(try await host.get(base + "/api/session"))["csrfToken"] as? String ?? "")
        }

        func post(_ path: String, _ body: [String: Any]) async throws -> (status: Int, body: [String: Any]) {
            let text = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
            let (status, reply) = try await host.request(
                base + path, method: "POST", headers: ["Origin": base, "X-Matinee-CSRF": token, "Content-Type": "application/json"], body: text)
            return (status, Self.json(reply))
        }

        func renderers(refresh: Bool = false) async throws -> [[String: Any]] {
            (try? JSONSerialization.jsonObject(with: Data(try await host.get(base + "/api/cast/renderers" + (refresh ? "?refresh=1" : ""))))) as? [[String: Any]] ?? []
        }

        /// Polls GET /api/cast until `ok` holds (20 s); records an issue otherwise.
        func waitFor(_ what: String, tries: Int = 80, sourceLocation: SourceLocation = #_sourceLocation, _ ok: ([String: Any]) -> Bool) async throws {
            var st: [String: Any] = [:]
            for _ in 0..<tries {
                st = Self.json(try await host.get(base + "/api/cast"))
                if ok(st) { return }
                try await Task.sleep(for: .milliseconds(250))
            }
            Issue.record("\(what): \(st)", sourceLocation: sourceLocation)
        }
    }

    /// The test's Chromecast (Tests/Fixtures/cast_receiver.py) on the TV
    /// host: Cast V2 over TLS with a self-signed certificate, announced by
    /// mDNS, reporting what it is asked and what it fetches.
    struct FakeChromecast {
        let process: TestProcess

        static func start(on w: World) async throws -> FakeChromecast {
            let cert = w.dir.path + "/cast-cert.pem", key = w.dir.path + "/cast-key.pem"
            let openssl = try TestProcess(
                "/usr/bin/openssl",
                ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-subj", "/CN=Chromecast", "-days", "2"],
                name: "openssl")
            _ = try await openssl.waitForExit(timeout: .seconds(30))
            let p = try w.tv.start(
                "/usr/bin/python3",
                [Fixtures.packageRoot + "/Tests/Fixtures/cast_receiver.py", "--address", "10.234.\(w.r).2", "--cert", cert, "--key", key, "--name", "Kitchen Cast"],
                name: "cast_receiver")
            _ = try await p.waitForLine(timeout: .seconds(30)) { $0.contains("\"listening\"") ? true : nil }
            return FakeChromecast(process: p)
        }

        var events: [[String: Any]] {
            process.lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        }

        /// The first event named `name` after the first `after` events for which `ok` holds.
        func waitFor(
            _ name: String, after: Int = 0, timeout: Duration = .seconds(30), _ ok: @escaping ([String: Any]) -> Bool = { _ in true }
        ) async throws -> [String: Any] {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if let e = events.dropFirst(after).first(where: { $0["event"] as? String == name && ok($0) }) { return e }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw TestFailure("the Chromecast saw no \(name) event in \(timeout): \(events.suffix(12)) \(process.stderr.suffix(1500))")
        }
    }

    @Test(
        "Chromecast: python3-pychromecast plays on the test's Chromecast (so it speaks Cast V2); cast --list finds it by mDNS; play --cast launches the media receiver, which fetches our stream from the LAN face with the CORS header; Ctrl-C stops the media and quits the app"
    )
    func chromecastEndToEnd() async throws {
        let w = try await World.make()
        defer { w.end() }
        let cast = try await FakeChromecast.start(on: w)
        defer { cast.process.kill() }

        // The reference sender, against files served on the home host.
        let web = w.dir.sub("web")
        try FileManager.default.copyItem(atPath: w.dir.path + "/film.mp4", toPath: web + "/film.mp4")
        try "WEBVTT\n\n00:00.000 --> 00:05.000\nHello\n".write(toFile: web + "/s.vtt", atomically: true, encoding: .utf8)
        let http = try w.home.start(
            "/usr/bin/python3", ["-m", "http.server", "--bind", "10.234.\(w.r).1", "--directory", web, "8765"], name: "http.server")
        defer { http.kill() }
        try await Task.sleep(for: .milliseconds(500))
        let reference = try w.home.start(
            "/usr/bin/python3",
            [
                Fixtures.packageRoot + "/Tests/Fixtures/pychromecast_client.py", "Kitchen Cast", "http://10.234.\(w.r).1:8765/film.mp4",
                "http://10.234.\(w.r).1:8765/s.vtt",
            ], name: "pychromecast")
        let referenceExit = try await reference.waitForExit(timeout: .seconds(90))
        #expect(referenceExit == 0, "\(reference.lines) \(reference.stderr.suffix(1500)) \(cast.events.suffix(10))")
        let referenceLoad = try await cast.waitFor("load")
        #expect((referenceLoad["tracks"] as? [[String: Any]])?.first?["trackContentType"] as? String == "text/vtt", "\(referenceLoad)")
        _ = try await cast.waitFor("track") { $0["status"] as? Int == 200 }
        _ = try await cast.waitFor("app-stop")

        let cli = MatineeCLI(home: w.dir.sub("viewer"), in: w.home)
        let listed = try await cli.run(["cast", "--list"], timeout: .seconds(30))
        #expect(listed.status == 0 && listed.stdout.contains("Kitchen Cast  (Chromecast)  10.234.\(w.r).2"), "\(listed)")
        #expect(listed.stdout.contains("Living Room TV  (gmediarender)"), "both kinds are listed: \(listed)")

        // As users run it: no --listen, no --dht-node.
        let mark = cast.events.count
        let play = try cli.start(["play", w.dir.path + "/film.torrent", "--peer", "127.0.0.1:7001", "--cast", "kitchen"])
        defer { play.kill(SIGKILL) }
        _ = try await play.waitForStderr(timeout: .seconds(60)) { $0.contains("Casting to Kitchen Cast (10.234.\(w.r).2)") ? true : nil }
        let load = try await cast.waitFor("load", after: mark)
        let url = load["url"] as? String ?? ""
        #expect(url.hasPrefix("http://10.234.\(w.r).1:") && url.contains("/stream/") && url.contains("cap="), "\(load)")
        #expect(load["contentType"] as? String == "video/mp4" && load["autoplay"] as? Bool == true, "\(load)")
        let fetched = try await cast.waitFor("fetch", after: mark)
        #expect(fetched["status"] as? Int == 206 && fetched["cors"] as? String == "*", "\(fetched)")
        // The CLI follows the TV: it asks for the media status.
        _ = try await cast.waitFor("message", after: mark) { $0["ns"] as? String == "urn:x-cast:com.google.cast.media" && $0["type"] as? String == "GET_STATUS" }
        // The LAN face answers the TV, and only with the capability.
        #expect(try await w.tv.request(url, headers: ["Range": "bytes=0-99"]).status == 206)
        #expect(try await w.tv.request(url.components(separatedBy: "?")[0]).status == 403)

        play.kill(SIGINT)
        #expect(try await play.waitForExit(timeout: .seconds(30)) == 0, "\(play.stderr.suffix(1500))")
        _ = try await cast.waitFor("media-stop", after: mark)
        _ = try await cast.waitFor("app-stop", after: mark)
        #expect((try? await w.tv.request(url, timeout: 5)) == nil, "the LAN face still answers after the cast")
    }

    /// The port libupnp took (it says so in its log).
    static func controlPort(_ renderer: TestProcess) async throws -> String {
        try await renderer.waitForStderr(timeout: .seconds(30)) { text in
            text.range(of: #"Registered IP=[0-9.]+ port=([0-9]+)"#, options: .regularExpression).map {
                String(text[$0].split(separator: "=").last ?? "")
            }
        }
    }
}
