import Crypto
import Foundation
import TestSupport
import Testing
import TorrentKit

@testable import Catalog

/// The subscriber's checks against real catalog torrents and real DHT
/// pointers: what a hostile or confused publisher (or a replaying node) can
/// send, and that the last good catalog survives all of it.
@Suite("Channel resolver", .serialized)
struct ResolverTests {
    /// Seeds a catalog folder from `seeder` and points the channel at it.
    static func publish(
        _ doc: CatalogDocument, json: [UInt8]? = nil, signature: [UInt8]? = nil, extraFiles: [String: String] = [:],
        key: Curve25519.Signing.PrivateKey, seeder: TorrentSession, dir: String
    ) async throws {
        let body = try json ?? doc.encoded()
        let root = dir + "/pub/\(doc.sequence)-\(UUID().uuidString.prefix(6))"
        let folder = root + "/matinee-catalog"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(body).write(to: URL(fileURLWithPath: folder + "/catalog.json"))
        let sig = try signature ?? CatalogSignature.sign(body, with: key)
        try Data(sig).write(to: URL(fileURLWithPath: folder + "/catalog.sig"))
        for (rel, text) in extraFiles {
            try FileManager.default.createDirectory(
                atPath: ((folder + "/" + rel) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: folder + "/" + rel, atomically: true, encoding: .utf8)
        }
        let torrent = try await TorrentMaker.make(path: folder)
        var o = AddTorrentOptions(source: .torrentFile(torrent), savePath: root)
        o.streaming = false
        o.seedMode = true
        let t = try await seeder.add(o)
        t.announce()
        let item = try ChannelPointer.item(pointingAt: t.id, sequence: doc.sequence, key: key)
        #expect(await seeder.dhtPut(item) > 0)
    }

    static func catalog(_ key: Curve25519.Signing.PrivateKey, seq: Int64, titles: [String]) -> CatalogDocument {
        let pk = Array(key.publicKey.rawRepresentation)
        return sampleCatalog(
            key: pk, sequence: seq,
            titles: titles.map { name in
                var t = CatalogDocument.Title(id: LibraryScanner.slug(name, 2000), kind: .movie, title: name)
                t.year = 2000
                t.sources = [CatalogDocument.Source(infohash: String(repeating: "ab", count: 20), file: 0, size: 1)]
                return t
            })
    }

    @Test("good, then tampered, wrong-key, path-escaping and replayed versions: each refused in one line, the good one kept")
    func hostileVersions() async throws {
        let dir = TempDir()
        let dht = try await PrivateDHT.start(count: 4)
        let publisher = try await dht.session()
        let viewer = try await dht.session()
        let key = Curve25519.Signing.PrivateKey()
        let address = try #require(ChannelAddress(publicKey: Array(key.publicKey.rawRepresentation)))
        let store = try CatalogStore(path: dir.path + "/catalog.sqlite")
        try await store.addChannel(key: address.hex, name: "Test", address: address.magnet)
        var resolver = ChannelResolver(session: viewer, store: store, channelsDir: dir.path + "/channels")
        resolver.lookupBudget = .seconds(20)
        resolver.downloadTimeout = .seconds(60)

        // Version 10: good.
        try await Self.publish(Self.catalog(key, seq: 10, titles: ["Good One", "Good Two"]), key: key, seeder: publisher, dir: dir.path)
        #expect(try await resolver.refresh(address) == .updated(sequence: 10, titles: 2))
        #expect(try await store.search(.init(words: "good")).count == 2)
        #expect(try await resolver.refresh(address) == .unchanged(sequence: 10))

        func expectRefused(_ kind: CatalogError.Kind, _ what: String) async throws {
            let error = try await #require(throws: CatalogError.self, "\(what)") { _ = try await resolver.refresh(address) }
            #expect(error.kind == kind, "\(what): \(error.message)")
            #expect(!error.message.contains("\n"))
            #expect(try await store.search(.init(words: "good")).count == 2, "\(what): the last good catalog was lost")
            #expect(try await store.channel(address.hex)?.lastError == error.message)
            #expect(try await store.channel(address.hex)?.highestSequence == 10)
        }

        // Version 11: catalog.json changed after signing.
        let v11 = Self.catalog(key, seq: 11, titles: ["Evil"])
        let signed11 = try v11.encoded()
        var changed = v11
        changed.titles[0].title = "Evil, edited"
        try await Self.publish(
            v11, json: try changed.encoded(), signature: try CatalogSignature.sign(signed11, with: key), key: key, seeder: publisher,
            dir: dir.path)
        try await expectRefused(.badSignature, "tampered catalog.json")

        // Version 12: the pointer is the channel's, the catalog signed by another key.
        let other = Curve25519.Signing.PrivateKey()
        let v12 = Self.catalog(key, seq: 12, titles: ["Impostor"])
        try await Self.publish(
            v12, signature: try CatalogSignature.sign(try v12.encoded(), with: other), key: key, seeder: publisher, dir: dir.path)
        try await expectRefused(.badSignature, "catalog signed by another key")

        // Version 13: signed, but its poster path is not in the torrent.
        var v13 = Self.catalog(key, seq: 13, titles: ["Wanderer"])
        v13.titles[0].poster = "art/missing.jpg"
        try await Self.publish(v13, key: key, seeder: publisher, dir: dir.path)
        try await expectRefused(.unsafePath, "a path the torrent does not have")

        // Version 14: signed, with the sequence inside differing from the pointer's.
        let v14 = Self.catalog(key, seq: 14, titles: ["Mismatch"])
        var inner = v14
        inner.sequence = 99
        try await Self.publish(v14, json: try inner.encoded(), key: key, seeder: publisher, dir: dir.path)
        try await expectRefused(.malformed, "sequence mismatch")

        // Version 15 (unsent): a catalog.json over the size limit, signed.
        // Refused before it is parsed; checked on the downloaded folder.
        let big = dir.path + "/big/matinee-catalog"
        try FileManager.default.createDirectory(atPath: big, withIntermediateDirectories: true)
        let padded = try Self.catalog(key, seq: 15, titles: ["Huge"]).encoded() + [UInt8](repeating: 0x20, count: CatalogDocument.maxBytes)
        try Data(padded).write(to: URL(fileURLWithPath: big + "/catalog.json"))
        try Data(try CatalogSignature.sign(padded, with: key)).write(to: URL(fileURLWithPath: big + "/catalog.sig"))
        let tooBig = try #require(throws: CatalogError.self) {
            try resolver.verify(files: big, key: Array(key.publicKey.rawRepresentation), sequence: 15)
        }
        #expect(tooBig.kind == .tooLarge)

        // A replay: somewhere else (a second DHT) the channel's old version 9
        // circulates, properly signed. A viewer that accepted 10 refuses it.
        let dht2 = try await PrivateDHT.start(count: 3)
        let replayer = try await dht2.session()
        let viewer2 = try await dht2.session()
        try await Self.publish(Self.catalog(key, seq: 9, titles: ["Old"]), key: key, seeder: replayer, dir: dir.path)
        var resolver2 = ChannelResolver(session: viewer2, store: store, channelsDir: dir.path + "/channels")
        resolver2.lookupBudget = .seconds(20)
        let error = try await #require(throws: CatalogError.self) { _ = try await resolver2.refresh(address) }
        #expect(error.kind == .replay)
        #expect(try await store.search(.init(words: "good")).count == 2)
        #expect(try await store.search(.init(words: "old")).isEmpty)

        // A good version 15 is still accepted after all that.
        try await Self.publish(Self.catalog(key, seq: 15, titles: ["Good Three"]), key: key, seeder: publisher, dir: dir.path)
        #expect(try await resolver.refresh(address) == .updated(sequence: 15, titles: 1))
        #expect(try await store.channel(address.hex)?.lastError == nil)
        #expect(try await store.channel(address.hex)?.isStale == false)

        // Version 16 expired before it arrived: still shown, marked stale.
        var v16 = Self.catalog(key, seq: 16, titles: ["Old News"])
        v16.issued = "2020-01-01T00:00:00Z"
        v16.expires = "2020-02-01T00:00:00Z"
        try await Self.publish(v16, key: key, seeder: publisher, dir: dir.path)
        #expect(try await resolver.refresh(address) == .updated(sequence: 16, titles: 1))
        #expect(try await store.channel(address.hex)?.isStale == true)
        #expect(try await store.search(.init(words: "news")).count == 1)

        for s in [publisher, viewer, replayer, viewer2] { await s.shutdown() }
    }
}
