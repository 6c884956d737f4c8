import Foundation
import NIOCore
import TestSupport
import Testing

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
    static func start(
        name: String, files: [String: [UInt8]], pieceSize: Int = 32 << 10, seederUploadLimit: Int = 0
    ) async throws -> LoopbackSwarm {
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

    @Test("several readers of one file at once, each byte-exact; a finished reader releases its window")
    func severalReaders() async throws {
        let data = Fixtures.bytes(count: 3 << 20, seed: 12)
        let swarm = try await LoopbackSwarm.start(name: "two", files: ["b.bin": data], pieceSize: 16 << 10, seederUploadLimit: 600_000)
        let meta = try await swarm.torrent.metadata()
        let index = meta.visibleFiles[0].index
        let stream = try await swarm.hub.stream(swarm.torrent.id, fileIndex: index)
        let ranges: [Range<Int64>] = [0..<200_000, 1_500_000..<1_700_000, 2_900_000..<3_145_728]
        let results = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for (i, r) in ranges.enumerated() {
                group.addTask { (i, try await collect(stream.bytes(r))) }
            }
            var out = [Int: [UInt8]]()
            for try await (i, bytes) in group { out[i] = bytes }
            return out
        }
        for (i, r) in ranges.enumerated() {
            #expect(results[i] == Array(data[Int(r.lowerBound)..<Int(r.upperBound)]), "range \(r)")
        }
        // Every reader finished: no reader is left, and no window deadline remains
        // on a piece that is still missing (the head/tail pins aside, which were verified).
        #expect(stream.readerOffsets.isEmpty)
        let missing = stream.deadlinePieces.filter { !swarm.torrent.pieces.contains($0) }
        #expect(missing.isEmpty, "deadlines left on \(missing.sorted())")
        await swarm.stop()
    }

    @Test("an abandoned reader (client gone mid-range) releases its window at once")
    func abandonedReader() async throws {
        let data = Fixtures.bytes(count: 8 << 20, seed: 13)
        // A very slow seeder: the window cannot fill before we walk away.
        let swarm = try await LoopbackSwarm.start(name: "slow", files: ["c.bin": data], pieceSize: 16 << 10, seederUploadLimit: 20_000)
        let meta = try await swarm.torrent.metadata()
        let stream = try await swarm.hub.stream(swarm.torrent.id, fileIndex: meta.visibleFiles[0].index)
        let reader = Task { try await collect(stream.bytes(4_000_000..<5_000_000)) }
        for _ in 0..<100 where stream.readerOffsets.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        #expect(stream.readerOffsets == [4_000_000])
        let window = stream.deadlinePieces
        let first = stream.map.piece(at: 4_000_000)
        #expect(window.isSuperset(of: first..<first + 4))
        reader.cancel()
        _ = await reader.result
        for _ in 0..<100 where !stream.readerOffsets.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        #expect(stream.readerOffsets.isEmpty)
        #expect(stream.deadlinePieces.isDisjoint(with: first..<first + 4))
        await swarm.stop()
    }

    @Test("after the start-up phase the whole selected file downloads, with nobody reading")
    func wholeFileAfterStartup() async throws {
        let data = Fixtures.bytes(count: 3 << 20, seed: 14)
        let swarm = try await LoopbackSwarm.start(name: "whole", files: ["d.bin": data], pieceSize: 16 << 10)
        let meta = try await swarm.torrent.metadata()
        let stream = try await swarm.hub.stream(swarm.torrent.id, fileIndex: meta.visibleFiles[0].index)
        let deadline = ContinuousClock.now + .seconds(60)
        while stream.status().bufferedBytes < Int64(data.count), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(!stream.isStartingUp)
        #expect(stream.status().bufferedBytes == Int64(data.count))
        #expect(try await collect(stream.bytes(0..<Int64(data.count))) == data)
        await swarm.stop()
    }
}
