import Crypto
import Foundation
import TestSupport
import Testing
import TorrentKit

@testable import Catalog

/// A small valid catalog for `key`.
func sampleCatalog(key: [UInt8], sequence: Int64 = 5, titles: [CatalogDocument.Title]? = nil) -> CatalogDocument {
    var movie = CatalogDocument.Title(id: "sintel-2010", kind: .movie, title: "Sintel")
    movie.year = 2010
    movie.synopsis = "A lonely young woman searches for her dragon."
    movie.genres = ["Animation", "Fantasy"]
    movie.poster = "art/sintel-2010/poster.jpg"
    movie.sources = [CatalogDocument.Source(infohash: String(repeating: "ab", count: 20), file: 0, size: 1000, quality: "1080p")]
    var show = CatalogDocument.Title(id: "example-show-2024", kind: .series, title: "Example Show")
    show.year = 2024
    show.seasons = [
        CatalogDocument.Season(
            number: 1,
            episodes: [
                CatalogDocument.Episode(
                    number: 1, title: "Pilot",
                    sources: [CatalogDocument.Source(infohash: String(repeating: "cd", count: 20), file: 0, size: 10)])
            ])
    ]
    return CatalogDocument(
        channel: .init(key: Hex.encode(key), name: "Open Films"), sequence: sequence, issued: Date(),
        expires: Date().addingTimeInterval(86400), titles: titles ?? [movie, show])
}

@Suite("Channel addresses")
struct AddressTests {
    @Test("the BEP 46 magnet and the short form name the same key, both ways")
    func roundTrip() throws {
        let key = (0..<32).map { UInt8($0 * 7 & 0xff) }
        let a = try #require(ChannelAddress(publicKey: key))
        #expect(a.magnet == "magnet:?xs=urn:btpk:\(Hex.encode(key))")
        #expect(a.short.hasPrefix("matinee:") && a.short.count == 8 + 52)
        #expect(ChannelAddress(a.magnet) == a)
        #expect(ChannelAddress(a.short) == a)
        #expect(ChannelAddress(a.magnet.uppercased().replacingOccurrences(of: "MAGNET:?XS=URN:BTPK:", with: "magnet:?xs=urn:btpk:")) == a)
        #expect(ChannelAddress("magnet:?xs=urn:btpk:\(Hex.encode(key))&s=6162")?.salt == Array("ab".utf8))
    }

    @Test(
        "anything else is not an address",
        arguments: [
            "", "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567", "magnet:?xs=urn:btpk:abcd",
            "magnet:?xs=urn:btpk:" + String(repeating: "zz", count: 32), "matinee:abc", "https://example.org/",
            "matinee:" + String(repeating: "a", count: 51) + "1",
        ])
    func refused(_ text: String) {
        #expect(ChannelAddress(text) == nil)
    }
}

@Suite("Signatures and pointers")
struct SigningTests {
    @Test("a catalog signature verifies over the exact bytes and the prefix, and nothing else")
    func catalogSignature() throws {
        let key = Curve25519.Signing.PrivateKey()
        let pk = Array(key.publicKey.rawRepresentation)
        let bytes = try sampleCatalog(key: pk).encoded()
        let sig = try CatalogSignature.sign(bytes, with: key)
        #expect(sig.count == 64)
        #expect(CatalogSignature.isValid(sig, of: bytes, publicKey: pk))
        var tampered = bytes
        tampered[tampered.count / 2] ^= 1
        #expect(!CatalogSignature.isValid(sig, of: tampered, publicKey: pk))
        #expect(!CatalogSignature.isValid(sig, of: bytes + [0x20], publicKey: pk))
        #expect(!CatalogSignature.isValid(sig, of: bytes, publicKey: Array(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)))
        // Without the domain prefix the same key's signature does not verify.
        let bare = Array(try key.signature(for: bytes))
        #expect(!CatalogSignature.isValid(bare, of: bytes, publicKey: pk))
    }

    @Test("the BEP 46 value is {\"ih\": 20 bytes}; the item verifies; a damaged value is refused")
    func pointer() throws {
        let key = Curve25519.Signing.PrivateKey()
        let ih = try #require(TorrentID(string: "08ada5a7a6183aae1e09d831df6748d566095a10"))
        let item = try ChannelPointer.item(pointingAt: ih, sequence: 42, key: key)
        #expect(item.value == Array("d2:ih20:".utf8) + ih.bytes + Array("e".utf8))
        #expect(ChannelPointer.isValid(item))
        #expect(try ChannelPointer.catalogTorrent(in: item.value) == ih)
        var replayed = item
        replayed.sequence = 43
        #expect(!ChannelPointer.isValid(replayed))
        #expect(throws: CatalogError.self) { try ChannelPointer.catalogTorrent(in: Array("d2:ih3:abce".utf8)) }
        #expect(throws: CatalogError.self) { try ChannelPointer.catalogTorrent(in: Array("i42e".utf8)) }
    }
}

@Suite("Catalog documents")
struct DocumentTests {
    let pk = Array(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)

    @Test("a valid catalog round-trips and validates")
    func valid() throws {
        let doc = sampleCatalog(key: pk)
        let back = try CatalogDocument.decode(try doc.encoded())
        #expect(back == doc)
        try back.validate(key: pk, sequence: 5)
        #expect(!back.isExpired())
        #expect(back.referencedPaths == ["art/sintel-2010/poster.jpg"])
    }

    @Test("unknown members are ignored (later versions may add optional ones)")
    func forwardCompatible() throws {
        var json = String(decoding: try sampleCatalog(key: pk).encoded(), as: UTF8.self)
        json = json.replacingOccurrences(of: "\"schema\"", with: "\"futureThing\" : [1, 2],\n  \"schema\"")
        try CatalogDocument.decode(Array(json.utf8)).validate(key: pk, sequence: nil)
    }

    static let breakers: [(String, @Sendable (inout CatalogDocument) -> Void)] = [
        ("schema 2", { $0.schema = 2 }),
        ("another key", { $0.channel.key = String(repeating: "00", count: 32) }),
        ("empty name", { $0.channel.name = "" }),
        ("sequence 0", { $0.sequence = 0 }),
        ("expires before issued", { $0.expires = "2000-01-01T00:00:00Z" }),
        ("bad time", { $0.issued = "yesterday" }),
        ("duplicate id", { $0.titles.append($0.titles[0]) }),
        ("bad id", { $0.titles[0].id = "Sintel 2010" }),
        ("empty title", { $0.titles[0].title = "" }),
        ("huge synopsis", { $0.titles[0].synopsis = String(repeating: "x", count: 10_001) }),
        ("title of 301 characters, non-ASCII", { $0.titles[0].title = String(repeating: "é", count: 301) }),
        ("DEL in a title", { $0.titles[0].title = "Sin\u{7f}tel" }),
        ("C1 control in a synopsis", { $0.titles[0].synopsis = "A \u{85}lonely young woman" }),
        ("control character", { $0.titles[0].title = "Sin\u{1b}[31mtel" }),
        ("right-to-left override", { $0.titles[0].title = "Sintel \u{202E}4pm.exe" }),
        ("bidi isolate in a genre", { $0.titles[0].genres = ["Anim\u{2067}ation"] }),
        ("zero-width space in the channel name", { $0.channel.name = "Open\u{200B} Films" }),
        ("byte-order mark in a synopsis", { $0.titles[0].synopsis = "\u{FEFF}A lonely young woman" }),
        ("year", { $0.titles[0].year = 99 }),
        ("no sources", { $0.titles[0].sources = [] }),
        ("bad infohash", { $0.titles[0].sources![0].infohash = "xyz" }),
        ("poster leaves the folder", { $0.titles[0].poster = "../../etc/passwd" }),
        ("absolute poster", { $0.titles[0].poster = "/etc/passwd" }),
        ("backslash path", { $0.titles[0].backdrop = "art\\..\\x" }),
        ("subtitle path", { $0.titles[0].sources![0].subtitles = [.init(language: "en", path: "a/../../b.srt")] }),
        ("movie with seasons", { $0.titles[0].seasons = $0.titles[1].seasons }),
        ("series without seasons", { $0.titles[1].seasons = [] }),
    ]

    @Test("lengths are counted in characters, not bytes: 300 two-byte or combined characters are a title")
    func lengthsInCharacters() throws {
        for title in [String(repeating: "é", count: 300), String(repeating: "e\u{301}", count: 300), String(repeating: "👩‍👧", count: 300)] {
            var doc = sampleCatalog(key: pk)
            doc.titles[0].title = title
            #expect(title.utf8.count > 300)
            try CatalogDocument.decode(try doc.encoded()).validate(key: pk, sequence: 5)
        }
        var doc = sampleCatalog(key: pk)
        doc.titles[0].title = String(repeating: "x", count: 300)
        try doc.validate(key: pk, sequence: 5)
        doc.titles[0].title += "x"
        #expect(throws: CatalogError.self) { try doc.validate(key: pk, sequence: 5) }
    }

    @Test("joiners that scripts and emoji need are text, not hidden format characters")
    func joinersAllowed() throws {
        var doc = sampleCatalog(key: pk)
        doc.titles[0].title = "\u{645}\u{6CC}\u{200C}\u{62E}\u{648}\u{627}\u{647}\u{645} \u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}"
        try CatalogDocument.decode(try doc.encoded()).validate(key: pk, sequence: 5)
    }

    @Test("a hidden format character is named in the error")
    func formatCharacterNamed() throws {
        var doc = sampleCatalog(key: pk)
        doc.titles[0].title = "Sintel \u{202E}4pm.exe"
        let error = try #require(throws: CatalogError.self) { try CatalogDocument.decode(try doc.encoded()).validate(key: pk, sequence: 5) }
        #expect(error.message == "the catalog is not valid: titles[0].title contains an invisible format character (U+202E)")
    }

    @Test("each broken rule is refused with one line", arguments: 0..<DocumentTests.breakers.count)
    func refused(_ i: Int) throws {
        var doc = sampleCatalog(key: pk)
        Self.breakers[i].1(&doc)
        let error = try #require(throws: CatalogError.self) {
            try CatalogDocument.decode(try doc.encoded()).validate(key: pk, sequence: 5)
        }
        #expect(!error.message.contains("\n"), "\(Self.breakers[i].0)")
    }

    @Test("a sequence that differs from the DHT pointer's is refused")
    func sequenceMismatch() {
        #expect(throws: CatalogError.self) { try sampleCatalog(key: pk, sequence: 5).validate(key: pk, sequence: 6) }
    }

    @Test(
        "garbage, wrong types and oversize are one-line errors",
        arguments: [
            "", "not json", "[]", "{\"schema\": \"one\"}", "{\"schema\": 1}",
        ])
    func garbage(_ text: String) throws {
        let error = try #require(throws: CatalogError.self) { try CatalogDocument.decode(Array(text.utf8)) }
        #expect(error.kind == .malformed)
        #expect(!error.message.contains("\n"))
    }

    @Test("a catalog over 32 MiB is refused before parsing")
    func oversize() throws {
        let error = try #require(throws: CatalogError.self) {
            try CatalogDocument.decode([UInt8](repeating: 0x20, count: CatalogDocument.maxBytes + 1))
        }
        #expect(error.kind == .tooLarge)
    }

    @Test("an expired catalog is recognised")
    func expired() {
        var doc = sampleCatalog(key: pk)
        doc.issued = "2020-01-01T00:00:00Z"
        doc.expires = "2020-02-01T00:00:00Z"
        #expect(doc.isExpired())
    }
}

@Suite("Channel keys")
struct KeyTests {
    @Test("a new key file is 0600 in a 0700 folder and loads back by name and by address")
    func createAndLoad() throws {
        let dir = TempDir()
        let folder = dir.path + "/keys"
        let k = try ChannelKey.create(name: "Open Films", in: folder)
        var st = stat()
        #expect(stat(k.path, &st) == 0 && st.st_mode & 0o777 == 0o600)
        #expect(stat(folder, &st) == 0 && st.st_mode & 0o777 == 0o700)
        #expect(try ChannelKey.load(named: "open films", in: folder).publicKey == k.publicKey)
        #expect(try ChannelKey.load(named: k.address.short, in: folder).publicKey == k.publicKey)
        #expect(throws: CatalogError.self) { try ChannelKey.create(name: "Open Films", in: folder) }
    }

    @Test("a key file others can read is refused, with the chmod to run")
    func loosePermissions() throws {
        let dir = TempDir()
        let k = try ChannelKey.create(name: "Leaky", in: dir.path + "/keys")
        chmod(k.path, 0o644)
        let error = try #require(throws: CatalogError.self) { try ChannelKey.load(path: k.path) }
        #expect(error.kind == .keyFile)
        #expect(error.message.contains("chmod 600"))
    }

    @Test("a damaged key file is refused")
    func damaged() throws {
        let dir = TempDir()
        let k = try ChannelKey.create(name: "Broken", in: dir.path + "/keys")
        try "{\"name\": \"Broken\", \"secretKey\": \"00\"}".write(toFile: k.path, atomically: false, encoding: .utf8)
        chmod(k.path, 0o600)
        #expect(throws: CatalogError.self) { try ChannelKey.load(path: k.path) }
    }
}
