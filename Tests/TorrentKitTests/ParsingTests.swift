import Testing

@testable import TorrentKit

@Suite("Parsing untrusted input")
struct ParsingTests {
    func info(files: [[String]]? = nil, name: String = "film") -> [UInt8] {
        var entries: [(key: [UInt8], value: Bencode)] = [
            (Array("name".utf8), .bytes(Array(name.utf8))),
            (Array("piece length".utf8), .int(16384)),
            (Array("pieces".utf8), .bytes(Array(repeating: 0, count: 20))),
        ]
        if let files {
            entries.append(
                (
                    Array("files".utf8),
                    .list(
                        files.map { path in
                            .dict([(Array("length".utf8), .int(10)), (Array("path".utf8), .list(path.map { .bytes(Array($0.utf8)) }))])
                        })
                ))
        } else {
            entries.append((Array("length".utf8), .int(10)))
        }
        return Bencode.dict(entries).encoded()
    }

    @Test func bencodeRoundTrip() throws {
        let v = Bencode.dict([(Array("a".utf8), .list([.int(-3), .bytes([0, 1, 2])]))])
        #expect(try Bencode.decode(v.encoded()) == v)
        #expect(String(decoding: v.encoded(), as: UTF8.self) == "d1:ali-3e3:\u{0}\u{1}\u{2}ee")
    }

    @Test("garbage, truncation and nesting bombs are errors, not crashes")
    func bencodeGarbage() {
        for bad in ["", "x", "i12", "d3:abc", "l", "5:abc", "i-e", "d1:a", String(repeating: "l", count: 10_000)] {
            #expect(throws: Bencode.DecodeError.self) { try Bencode.decode(Array(bad.utf8)) }
        }
    }

    @Test func safePathsPass() throws {
        try TorrentPathCheck.validate(infoDictionary: info(files: [["Season 01", "Épisode 1.mkv"], ["a.srt"]]))
        try TorrentPathCheck.validate(infoDictionary: info())
    }

    @Test(
        "paths that leave the download folder are refused",
        arguments: [
            [["..", "escape.txt"]], [["a", "..", "..", "b"]], [["/etc", "passwd"]], [[""]], [["a/b"]], [["."]],
        ])
    func hostilePaths(_ files: [[String]]) {
        #expect(throws: EngineError.self) { try TorrentPathCheck.validate(infoDictionary: info(files: files)) }
    }

    @Test("symbolic links (BEP 47) are refused, in v1 file lists and v2 file trees")
    func symlinks() {
        let v1 = Array(
            "d5:filesld4:attr1:l6:lengthi0e4:pathl4:linke12:symlink pathl3:etc6:passwdeee4:name1:x12:piece lengthi16384e6:pieces0:e".utf8)
        #expect(throws: EngineError.self) { try TorrentPathCheck.validate(infoDictionary: v1) }
        let v2 = Array("d9:file treed4:linkd0:d4:attr1:l12:symlink pathl3:etceeee4:name1:xe".utf8)
        #expect(throws: EngineError.self) { try TorrentPathCheck.validate(infoDictionary: v2) }
        let padding = Array("d5:filesld4:attr1:p6:lengthi5e4:pathl4:.pad1:5eee4:name1:xe".utf8)
        #expect(throws: Never.self) { try TorrentPathCheck.validate(infoDictionary: padding) }
    }

    @Test func hostileName() {
        #expect(throws: EngineError.self) { try TorrentPathCheck.validate(infoDictionary: info(name: "..")) }
        #expect(throws: EngineError.self) { try TorrentPathCheck.validate(infoDictionary: info(name: "../../x")) }
    }

    @Test("a garbage .torrent gives a one-line error")
    func garbageTorrent() {
        for bad in [[], Array("hello".utf8), Array("d4:infod4:name1:xee".utf8)] as [[UInt8]] {
            do {
                _ = try TorrentMetadata(torrentFile: bad)
                Issue.record("accepted garbage")
            } catch let e as EngineError {
                #expect(!e.message.contains("\n"))
                #expect(!e.message.isEmpty)
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }

    @Test func magnets() throws {
        let id = try Magnet.torrentID(of: "magnet:?xt=urn:btih:08ada5a7a6183aae1e09d831df6748d566095a10&dn=x&x.pe=127.0.0.1:7000")
        #expect(id.hex == "08ada5a7a6183aae1e09d831df6748d566095a10")
        #expect(
            Magnet.peerHints(in: "magnet:?xt=urn:btih:08ada5a7a6183aae1e09d831df6748d566095a10&x.pe=127.0.0.1%3A7000&x.pe=[::1]:8")
                == [HostPort(host: "127.0.0.1", port: 7000), HostPort(host: "::1", port: 8)])
        // Upper case is the same link (issue 12); a display name keeps its case.
        let upper = "MAGNET:?XT=URN:BTIH:08ADA5A7A6183AAE1E09D831DF6748D566095A10&DN=Big%20Film&X.PE=127.0.0.1:7000"
        #expect(try Magnet.torrentID(of: upper).hex == "08ada5a7a6183aae1e09d831df6748d566095a10")
        #expect(
            try Magnet.torrentID(of: "Magnet:?xt=URN:BTIH:BCW2LJ5GDA5K4HQJ3AY56Z2I2VTASWQQ").hex
                == "08ada5a7a6183aae1e09d831df6748d566095a10")
        #expect(
            Magnet.normalized(upper) == "magnet:?xt=urn:btih:08ADA5A7A6183AAE1E09D831DF6748D566095A10&dn=Big%20Film&x.pe=127.0.0.1:7000")
        #expect(Magnet.peerHints(in: upper) == [HostPort(host: "127.0.0.1", port: 7000)])
        for bad in ["magnet:?dn=nothing", "magnet:?xt=urn:btih:zz", "http://x", "magnet:", "MAGNET:?XT=URN:BTIH:ZZ"] {
            #expect(throws: EngineError.self) { try Magnet.torrentID(of: bad) }
        }
    }

    @Test func torrentIDs() {
        #expect(TorrentID(string: "08ADA5A7A6183AAE1E09D831DF6748D566095A10")?.hex == "08ada5a7a6183aae1e09d831df6748d566095a10")
        #expect(TorrentID(string: "BCW2LJ5GDA5K4HQJ3AY56Z2I2VTASWQQ")?.hex == "08ada5a7a6183aae1e09d831df6748d566095a10")
        #expect(TorrentID(string: "nothex") == nil)
        #expect(HostPort("127.0.0.1:80") == HostPort(host: "127.0.0.1", port: 80))
        #expect(HostPort("[::1]:80")?.host == "::1")
        #expect(HostPort("::1:80") == nil)
        #expect(HostPort("host:99999") == nil)
    }

    @Test("seeding stops at the ratio or time limit, only once the download is done")
    func seedingPolicy() {
        var s = TorrentStatus()
        s.totalWanted = 100
        s.allTimeDownload = 100
        s.allTimeUpload = 500
        let policy = SeedingPolicy(enabled: true, ratioLimit: 2, seedTimeLimit: 60)
        #expect(policy.decide(s) == .keepSharing)  // still downloading
        s.isFinished = true
        #expect(policy.decide(s) != .keepSharing)
        s.allTimeUpload = 100
        #expect(policy.decide(s) == .keepSharing)
        s.seedingSeconds = 61
        #expect(policy.decide(s) != .keepSharing)
        #expect(SeedingPolicy(enabled: false).decide(s) == .stop(reason: "sharing is off (--no-seed)"))
        #expect(SeedingPolicy(enabled: true, ratioLimit: nil, seedTimeLimit: nil).decide(s) == .keepSharing)
    }
}

@Suite("Peer search")
struct PeerSearchTests {
    @Test("with no peers it looks again with backoff; peers reset it")
    func backoff() {
        var s = PeerSearch(startedAt: 0)
        var fired = [Double]()
        var t = 0.0
        while t <= 200 {
            if s.shouldSearch(now: t, peers: 0, wantsData: true) { fired.append(t) }
            t += 1
        }
        #expect(fired == [2, 7, 17, 37, 77, 137, 197])
        let a = s.shouldSearch(now: 300, peers: 3, wantsData: true)
        let b = s.shouldSearch(now: 301, peers: 0, wantsData: true)
        let c = s.shouldSearch(now: 302, peers: 0, wantsData: true)
        let d = s.shouldSearch(now: 999, peers: 0, wantsData: false)
        #expect([a, b, c, d] == [false, false, true, false])
    }
}
