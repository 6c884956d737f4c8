import Foundation
import NIOCore
import Testing
import TestSupport
@testable import Streaming
@testable import TorrentKit

/// A seeder session and a streaming leecher session on loopback.
struct LoopbackSwarm {
    let dir: TempDir
    let seeder: TorrentSession
    let leecher: TorrentSession
    let torrent: Torrent
    let hub: StreamHub

    static func session() async throws -> TorrentSession {
        var c = SessionConfiguration()
        c.listenInterfaces = [HostPort(host: "127.0.0.1", port: 0)]
        c.enableDHT = false
        c.enableLSD = false
        c.enableUPnP = false
        return try await TorrentSession.start(c)
    }

    /// Seeds `files` (relative path -> bytes) as one torrent named `name`.
    static func start(name: String, files: [String: [UInt8]], pieceSize: Int = 32 << 10, seederUploadLimit: Int = 0) async throws -> LoopbackSwarm {
        let dir = TempDir()
        for (path, bytes) in files {
            let full = dir.path + "/seed/" + name + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: full))
        }
        let root = files.count == 1 && files.keys.first == "" ? dir.path + "/seed/" + name : dir.path + "/seed/" + name
        let tbytes = try await TorrentMaker.make(path: root, pieceSize: pieceSize)
        let seeder = try await session()
        var so = AddTorrentOptions(source: .torrentFile(tbytes), savePath: dir.path + "/seed")
        so.streaming = false
        so.seedMode = true
        let st = try await seeder.add(so)
        if seederUploadLimit > 0 { st.setUploadLimit(seederUploadLimit) }
        let port = await seeder.listenPort
        let leecher = try await session()
        var lo = AddTorrentOptions(source: .torrentFile(tbytes), savePath: dir.path + "/leech")
        lo.peers = [HostPort(host: "127.0.0.1", port: port)]
        let t = try await leecher.add(lo)
        let hub = StreamHub()
        hub.register(t, savePath: dir.path + "/leech")
        return LoopbackSwarm(dir: dir, seeder: seeder, leecher: leecher, torrent: t, hub: hub)
    }

    func stop() async {
        await leecher.shutdown()
        await seeder.shutdown()
    }
}

func collect(_ seq: FileByteSequence) async throws -> [UInt8] {
    var out = [UInt8]()
    for try await var chunk in seq { out += chunk.readBytes(length: chunk.readableBytes) ?? [] }
    return out
}

@Suite("Streaming reads")
struct StreamReadTests {
    @Test("a range in the middle, requested before anything is downloaded, returns the right bytes")
    func middleRangeFirst() async throws {
        let data = Fixtures.bytes(count: 2 << 20, seed: 11)
        let swarm = try await LoopbackSwarm.start(name: "one", files: ["a.bin": data], seederUploadLimit: 400_000)
        let meta = try await swarm.torrent.metadata()
        let index = meta.visibleFiles.first { $0.name == "a.bin" }!.index
        let stream = try await swarm.hub.stream(swarm.torrent.id, fileIndex: index)
        #expect(swarm.torrent.pieces.count == 0)
        let range: Range<Int64> = 1_000_003..<1_300_007
        let got = try await collect(stream.bytes(range))
        #expect(got == Array(data[1_000_003..<1_300_007]))
        await swarm.stop()
    }
}
