import Foundation
import TestSupport
import Testing

/// Channels and playback with libtorrent's default listen interfaces (no
/// `--listen`), as users run Matinee, on test hosts with several interfaces.
/// Each host is a network namespace holding only the links the test makes,
/// so nothing sent here can leave this machine.
@Suite("Channels and play with the default listen interfaces", .serialized)
struct DefaultNetworkTests {
    /// "The internet" (a private DHT and a publisher) and a user's machine
    /// joined to it by a veth pair that carries its default routes (IPv4 and
    /// IPv6: libtorrent runs a DHT node for each, and nobody on the DHT
    /// speaks IPv6), plus a LAN interface with no route to the internet.
    @Test(
        "a channel behind the default route is found through the daemon, its swarm is counted, its pointer re-put, its title plays by id and by magnet, with no --listen anywhere"
    )
    func multiHomed() async throws {
        let dir = TempDir()
        let (net, home, gateway, r) = try NetNamespace.hostBehindInternet("net", "home", subnet: 231)
        let lan = try NetNamespace("lan")
        _ = try NetNamespace.link(home, ["10.232.\(r).2/24"], lan, ["10.232.\(r).1/24"])

        let dht = try await PrivateDHT.start(count: 6, hosts: [gateway], in: net)
        let film = try makeLibrary(dir.path + "/lib")
        let publisher = MatineeCLI(home: dir.sub("publisher"), in: net)
        let address = try await Self.publish(publisher, library: dir.path + "/lib", dht: dht)
        defer { address.process.kill() }

        // The daemon, as `matinee` starts it; `channel add` then goes through it.
        let viewer = MatineeCLI(home: dir.sub("viewer"), in: home)
        var serve = try viewer.start(["serve"] + dht.arguments)
        defer { serve.kill() }
        var base = try await serve.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }
        let added = try await viewer.run(["channel", "add", address.magnet, "--timeout", "60"] + dht.arguments, timeout: .seconds(120))
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stderr.contains("through the running Matinee") && added.stderr.contains("Tiny Films: version"), "\(added.stderr)")

        // The title page's swarm health: a DHT peer lookup finds the publisher.
        let swarm =
            try JSONSerialization.jsonObject(with: Data(try await home.get(base + "/api/swarm?ref=tiny-dragon-2021"))) as? [String: Any]
        #expect(swarm?["source"] as? String == "dht" && (swarm?["peers"] as? Int ?? 0) >= 1, "\(swarm ?? [:])")

        // A restarted daemon puts the channel's pointer back on the DHT.
        serve.kill()
        _ = try await serve.waitForExit(timeout: .seconds(30))
        serve = try viewer.start(["serve"] + dht.arguments)
        base = try await serve.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }
        let put = try await serve.waitForStderr(timeout: .seconds(90)) { text in
            text.split(separator: "\n").first { $0.contains("Put Tiny Films's pointer") }.map(String.init)
        }
        #expect(!put.hasSuffix(": 0 nodes took it"), "\(put)")

        let play = try viewer.start(["play", "tiny-dragon-2021"] + dht.arguments, environment: ["MATINEE_ENGINE_LOG": "1"])
        defer { play.kill() }
        let url = try await play.waitForLine(timeout: .seconds(90)) { $0.hasPrefix("http://") ? $0 : nil }
        let body = try await home.get(url)
        #expect(body == film, "\(play.stderr.suffix(2000))")
        // With the daemon running, play is its client: the daemon streams it.
        #expect(url.hasPrefix(base + "/stream/") && play.stderr.contains("Playing through the running Matinee"), "\(play.stderr)")
        play.kill()
        _ = try await play.waitForExit()

        // By magnet alone, from a fresh home: metadata and peers come through the DHT.
        let json = try await viewer.run(["search", "tiny", "dragon", "--json"])
        let groups = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        // The daemon answered it (from the index, a poster is a file path).
        let poster = (groups.first?["entries"] as? [[String: Any]])?.first?["poster"] as? String
        #expect(poster?.hasPrefix(base + "/api/art?") == true, "\(poster ?? "no poster")")
        let sources = try #require((groups.first?["entries"] as? [[String: Any]])?.first?["sources"] as? [[String: Any]])
        let magnet = try #require(sources.first?["magnet"] as? String)
        let stranger = MatineeCLI(home: dir.sub("stranger"), in: home)
        let byMagnet = try stranger.start(["play", magnet] + dht.arguments, environment: ["MATINEE_ENGINE_LOG": "1"])
        defer { byMagnet.kill() }
        let magnetURL = try await byMagnet.waitForLine(timeout: .seconds(90)) { $0.hasPrefix("http://") ? $0 : nil }
        #expect(try await home.get(magnetURL) == film, "\(byMagnet.stderr.suffix(2000))")
    }

    /// A DHT whose nodes sit on several loopback addresses, on a host whose
    /// default route (which takes libtorrent's DHT nodes) leads to an empty
    /// namespace:
    /// Matinee must listen where its bootstrap nodes are.
    @Test("a DHT on 127.0.K.1 addresses: publish, add and play with no --listen")
    func loopbackDHT() async throws {
        let dir = TempDir()
        let host = try NetNamespace("lo")
        let r = Int.random(in: 1...250)
        let void = try NetNamespace("void")
        let (wan, _) = try NetNamespace.link(host, ["10.233.\(r).2/24", "fd33:\(r)::2/64"], void, [])
        try host.run(["route", "add", "default", "dev", wan])
        try host.run(["-6", "route", "add", "default", "dev", wan])

        let dht = try await PrivateDHT.start(count: 6, hosts: ["127.0.1.1", "127.0.2.1", "127.0.3.1"], in: host)
        let film = try makeLibrary(dir.path + "/lib")
        let publisher = MatineeCLI(home: dir.sub("publisher"), in: host)
        let made = try await publisher.run(["channel", "new", "Tiny Films"])
        let magnet = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(made.status == 0 && magnet.hasPrefix("magnet:"), "\(made.stderr)")

        // The viewer adds the channel before its publisher has put it on the
        // DHT (it is still hashing): --timeout is the budget for looking.
        let viewer = MatineeCLI(home: dir.sub("viewer"), in: host)
        let add = try viewer.start(["channel", "add", magnet, "--timeout", "120"] + dht.arguments)
        let pub = try publisher.start(["publish", dir.path + "/lib", "--channel", "Tiny Films"] + dht.arguments)
        defer { pub.kill() }
        _ = try await pub.waitForLine(timeout: .seconds(120)) { $0.hasPrefix("magnet:") ? $0 : nil }
        #expect(try await add.waitForExit(timeout: .seconds(150)) == 0, "\(add.stderr)")
        #expect(add.stderr.contains("Tiny Films: version"), "\(add.stderr)")

        let play = try viewer.start(["play", "tiny-dragon-2021"] + dht.arguments, environment: ["MATINEE_ENGINE_LOG": "1"])
        defer { play.kill() }
        let url = try await play.waitForLine(timeout: .seconds(90)) { $0.hasPrefix("http://") ? $0 : nil }
        #expect(try await host.get(url) == film, "\(play.stderr.suffix(2000))")
    }

    /// `channel new` and `publish` without --listen; returns once the DHT took the pointer.
    static func publish(_ cli: MatineeCLI, library: String, dht: PrivateDHT) async throws -> (process: TestProcess, magnet: String) {
        let made = try await cli.run(["channel", "new", "Tiny Films"])
        guard made.status == 0 else { throw TestFailure("channel new failed: \(made.stderr)") }
        let p = try cli.start(["publish", library, "--channel", "Tiny Films"] + dht.arguments)
        let magnet = try await p.waitForLine(timeout: .seconds(120)) { $0.hasPrefix("magnet:") ? $0 : nil }
        guard p.stderr.contains("DHT") else { throw TestFailure("publish said nothing of the DHT: \(p.stderr)") }
        return (p, magnet)
    }
}
