import Foundation
import TestSupport
import Testing

@Suite("Peers over a private DHT", .serialized)
struct DHTPlayTests {
    @Test("play finds a seeder through the DHT alone; a restart needs no bootstrap node, the saved routing table is enough")
    func routingTableKept() async throws {
        let dir = TempDir()
        let dht = try await PrivateDHT.start(count: 4)
        let a = try Fixtures.writeRandomFile(dir.path + "/a/first.mp4", size: 768 << 10, seed: 81)
        let b = try Fixtures.writeRandomFile(dir.path + "/b/second.mp4", size: 768 << 10, seed: 82)
        // Two seeders that nobody is told about: they announce on the DHT.
        let seederA = try MatineeCLI(home: dir.sub("seed-a")).start(
            ["seed", dir.path + "/a/first.mp4", "--listen", "127.0.0.1:0"] + dht.arguments)
        let seederB = try MatineeCLI(home: dir.sub("seed-b")).start(
            ["seed", dir.path + "/b/second.mp4", "--listen", "127.0.0.1:0"] + dht.arguments)
        let magnetA = try await seederA.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("magnet:") ? $0 : nil }
        let magnetB = try await seederB.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("magnet:") ? $0 : nil }
        let hashA = try #require(Self.infoHash(magnetA)), hashB = try #require(Self.infoHash(magnetB))

        // Run 1 knows the DHT nodes and only the info-hash of A.
        let viewer = MatineeCLI(home: dir.sub("viewer"))
        let run1 = try viewer.start(["play", hashA, "--listen", "127.0.0.1:0"] + dht.arguments)
        let url1 = try await run1.waitForLine(timeout: .seconds(90)) { $0.hasPrefix("http://") ? $0 : nil }
        #expect(try await HTTP.request(url1, timeout: 60).body == a)
        run1.kill()
        #expect(try await run1.waitForExit() == 0, "\(run1.stderr.suffix(1500))")
        #expect(FileManager.default.fileExists(atPath: dir.path + "/viewer/session.state"))

        // Without the saved table, a dead bootstrap node finds nobody: the
        // DHT reaches no one, and that is said as such (issue 13).
        let stranger = MatineeCLI(home: dir.sub("stranger"))
        let lost = try stranger.start(["play", hashB, "--listen", "127.0.0.1:0", "--dht-node", "127.0.0.1:1", "--timeout", "20"])
        #expect(try await lost.waitForExit(timeout: .seconds(60)) == 1)
        #expect(lost.stderr.contains("matinee: you appear to be offline"), "\(lost.stderr)")

        // ...while the viewer, given the same dead node, finds B from its saved table.
        let run2 = try viewer.start(["play", hashB, "--listen", "127.0.0.1:0", "--dht-node", "127.0.0.1:1", "--timeout", "60"])
        let url2 = try await run2.waitForLine(timeout: .seconds(90)) { $0.hasPrefix("http://") ? $0 : nil }
        #expect(try await HTTP.request(url2, timeout: 60).body == b)
        run2.kill()
        _ = try await run2.waitForExit()
        seederA.kill()
        seederB.kill()
        _ = try await seederA.waitForExit()
        _ = try await seederB.waitForExit()
    }

    static func infoHash(_ magnet: String) -> String? {
        guard let r = magnet.range(of: "urn:btih:") else { return nil }
        return String(magnet[r.upperBound...].prefix(40))
    }
}
