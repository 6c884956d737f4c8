import Crypto
import Foundation
import TestSupport
import Testing
import TorrentKit

/// BEP 44 mutable items over a real private DHT on loopback.
@Suite("DHT", .serialized)
struct DHTTests {
    static func dhtSession(_ dht: PrivateDHT) async throws -> TorrentSession {
        var c = SessionConfiguration()
        c.listenInterfaces = [HostPort(host: "127.0.0.1", port: 0)]
        c.dhtNodes = dht.nodes.compactMap(HostPort.init)
        return try await TorrentSession.start(c)
    }

    static func waitForRoutingTable(_ s: TorrentSession) async throws {
        for _ in 0..<100 {
            if await s.dhtNodeCount() > 0 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("the DHT routing table stayed empty")
    }

    static func signed(_ key: Curve25519.Signing.PrivateKey, seq: Int64, value: String, salt: [UInt8] = []) throws -> DHTMutableItem {
        let v = Array(value.utf8)
        let sig = try key.signature(for: DHTMutableItem.signedBytes(salt: salt, sequence: seq, value: v))
        return DHTMutableItem(
            publicKey: Array(key.publicKey.rawRepresentation), salt: salt, sequence: seq, value: v, signature: Array(sig))
    }

    @Test("an item put by one session is found by another; a newer one replaces it; an old or forged one does not")
    func putAndGet() async throws {
        let dht = try await PrivateDHT.start(count: 4)
        let a = try await Self.dhtSession(dht)
        let b = try await Self.dhtSession(dht)
        try await Self.waitForRoutingTable(a)
        try await Self.waitForRoutingTable(b)
        let key = Curve25519.Signing.PrivateKey()
        let pk = Array(key.publicKey.rawRepresentation)

        #expect(await b.dhtGet(publicKey: pk, timeout: .seconds(20)) == nil, "found an item nobody stored")

        let first = try Self.signed(key, seq: 1, value: "d2:ih20:aaaaaaaaaaaaaaaaaaaae")
        #expect(await a.dhtPut(first) > 0)
        #expect(await b.dhtGet(publicKey: pk) == first)

        let second = try Self.signed(key, seq: 2, value: "d2:ih20:bbbbbbbbbbbbbbbbbbbbe")
        #expect(await a.dhtPut(second) > 0)
        #expect(await b.dhtGet(publicKey: pk)?.sequence == 2)

        // Anyone may store what the key holder signed; a replay of seq 1 is
        // refused by the nodes, and a forged value never lands.
        _ = await b.dhtPut(first)
        var forged = second
        forged.sequence = 3
        forged.value = Array("d2:ih20:cccccccccccccccccccce".utf8)
        #expect(await b.dhtPut(forged) == 0)
        #expect(await a.dhtGet(publicKey: pk) == second)

        // A salt names a separate item under the same key.
        let salted = try Self.signed(key, seq: 1, value: "i42e", salt: Array("releases".utf8))
        #expect(await b.dhtPut(salted) > 0)
        #expect(await a.dhtGet(publicKey: pk, salt: Array("releases".utf8)) == salted)
        #expect(await a.dhtGet(publicKey: pk) == second)

        await a.shutdown()
        await b.shutdown()
    }
}
