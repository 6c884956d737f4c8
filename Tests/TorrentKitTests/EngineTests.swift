import Foundation
import TestSupport
import Testing

@testable import TorrentKit

@Suite("Engine")
struct EngineTests {
    static func loopbackSession() async throws -> TorrentSession {
        var c = SessionConfiguration()
        c.listenInterfaces = [HostPort(host: "127.0.0.1", port: 0)]
        c.enableDHT = false
        c.enableLSD = false
        c.enableUPnP = false
        return try await TorrentSession.start(c)
    }

    @Test("a file seeded by one session downloads byte-exact in another")
    func seedAndLeech() async throws {
        let dir = TempDir()
        let data = try Fixtures.writeRandomFile(dir.path + "/seed/clip.bin", size: 3 << 20 + 12345, seed: 7)
        let torrent = try await TorrentMaker.make(path: dir.path + "/seed/clip.bin", pieceSize: 64 << 10)
        let meta = try TorrentMetadata(torrentFile: torrent)
        #expect(meta.visibleFiles.count == 1)
        #expect(meta.totalSize == Int64(data.count))

        let seeder = try await Self.loopbackSession()
        var seedOptions = AddTorrentOptions(source: .torrentFile(torrent), savePath: dir.path + "/seed")
        seedOptions.streaming = false
        seedOptions.seedMode = true
        _ = try await seeder.add(seedOptions)
        let seedPort = await seeder.listenPort

        let leecher = try await Self.loopbackSession()
        var opts = AddTorrentOptions(source: .magnet(meta.magnetLink()), savePath: dir.path + "/leech")
        opts.peers = [HostPort(host: "127.0.0.1", port: seedPort)]
        let t = try await leecher.add(opts)
        let m = try await t.metadata()
        #expect(m.id == meta.id)
        t.setFilePriorities([4])
        for p in 0..<m.pieceCount { try await t.pieces.wait(for: p) }
        let got = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/leech/clip.bin"))
        #expect(Array(got) == data)
        await leecher.shutdown()
        await seeder.shutdown()
    }

    /// With libtorrent 2.0's default (mmap) disk I/O a piece is reported
    /// verified before it is in the file; a stream that read the file at once
    /// served zeros (seen as a corrupt stream from transmission on a loaded
    /// machine). The session uses POSIX disk I/O, which writes first.
    @Test("each piece, read from its file as soon as it is reported verified, has its real bytes")
    func readAfterVerify() async throws {
        let dir = TempDir()
        let data = try Fixtures.writeRandomFile(dir.path + "/seed/many.bin", size: 6 << 20, seed: 17)
        let pieceSize = 16 << 10
        let torrent = try await TorrentMaker.make(path: dir.path + "/seed/many.bin", pieceSize: pieceSize)
        let meta = try TorrentMetadata(torrentFile: torrent)
        let seeder = try await Self.loopbackSession()
        var so = AddTorrentOptions(source: .torrentFile(torrent), savePath: dir.path + "/seed")
        so.streaming = false
        so.seedMode = true
        _ = try await seeder.add(so)
        let leecher = try await Self.loopbackSession()
        let alerts = leecher.alerts()
        var o = AddTorrentOptions(source: .torrentFile(torrent), savePath: dir.path + "/leech")
        o.peers = [HostPort(host: "127.0.0.1", port: await seeder.listenPort)]
        o.streaming = false
        let t = try await leecher.add(o)
        let path = dir.path + "/leech/many.bin"
        var bad: [Int] = []
        var seen = 0
        for await a in alerts {
            guard case let .pieceFinished(id, piece) = a, id == meta.id else { continue }
            let fd = open(path, O_RDONLY)
            #expect(fd >= 0)
            var buf = [UInt8](repeating: 0, count: pieceSize)
            let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, pieceSize, off_t(piece * pieceSize)) }
            close(fd)
            if n != pieceSize || buf != Array(data[piece * pieceSize..<(piece + 1) * pieceSize]) { bad.append(piece) }
            seen += 1
            if seen == meta.pieceCount { break }
        }
        #expect(bad.isEmpty, "pieces read with the wrong bytes: \(bad)")
        await leecher.shutdown()
        await seeder.shutdown()
    }

    @Test("alerts arrive as an AsyncStream: metadata, each verified piece, status")
    func alertStream() async throws {
        let dir = TempDir()
        try Fixtures.writeRandomFile(dir.path + "/seed/a.bin", size: 512 << 10, seed: 8)
        let torrent = try await TorrentMaker.make(path: dir.path + "/seed/a.bin", pieceSize: 32 << 10)
        let meta = try TorrentMetadata(torrentFile: torrent)
        let seeder = try await Self.loopbackSession()
        var so = AddTorrentOptions(source: .torrentFile(torrent), savePath: dir.path + "/seed")
        so.streaming = false
        so.seedMode = true
        _ = try await seeder.add(so)
        let leecher = try await Self.loopbackSession()
        let alerts = leecher.alerts()
        var o = AddTorrentOptions(source: .magnet(meta.magnetLink()), savePath: dir.path + "/leech")
        o.peers = [HostPort(host: "127.0.0.1", port: await seeder.listenPort)]
        let t = try await leecher.add(o)
        _ = try await t.metadata()
        t.setFilePriorities([4])
        var pieces = Set<Int>()
        var sawMetadata = false
        var sawStatus = false
        for await a in alerts {
            switch a {
            case let .pieceFinished(id, piece) where id == meta.id: pieces.insert(piece)
            case let .metadataReceived(id) where id == meta.id: sawMetadata = true
            case let .status(id, _) where id == meta.id: sawStatus = true
            default: break
            }
            if pieces.count == meta.pieceCount && sawStatus { break }
        }
        #expect(sawMetadata)
        #expect(pieces == Set(0..<meta.pieceCount))
        await leecher.shutdown()
        await seeder.shutdown()
    }
}
