import Foundation
import Testing

@testable import Streaming

@Suite("Piece map")
struct PieceMapTests {
    // 100-byte pieces; the file starts at byte 250 of the torrent and is 1000 bytes.
    let map = PieceMap(pieceLength: 100, pieceCount: 20, fileOffset: 250, fileSize: 1000)

    @Test func piecesOfRanges() {
        #expect(map.pieces == 2...12)
        #expect(map.piece(at: 0) == 2)
        #expect(map.piece(at: 49) == 2)
        #expect(map.piece(at: 50) == 3)
        #expect(map.pieces(covering: 0..<1) == 2...2)
        #expect(map.pieces(covering: 40..<60) == 2...3)
        #expect(map.pieces(covering: 999..<5000) == 12...12)
        #expect(map.pieces(covering: 1000..<1001) == nil)
        #expect(map.fileRange(of: 2) == 0..<50)
        #expect(map.fileRange(of: 12) == 950..<1000)
    }

    @Test func verifiedRangesMerge() {
        var have = Array(repeating: false, count: 20)
        for p in [2, 3, 5, 12] { have[p] = true }
        #expect(map.verifiedRanges(have: have) == [0..<150, 250..<350, 950..<1000])
    }
}

@Suite("Stream window planner")
struct PlannerTests {
    // 1 MiB pieces, a 100 MiB file from the start of the torrent, at 1 MB/s.
    func planner(windowSeconds: Double = 10) -> StreamWindowPlanner {
        var c = StreamWindowPlanner.Configuration()
        c.windowSeconds = windowSeconds
        c.minPieces = 2
        c.maxPieces = 20
        return StreamWindowPlanner(
            map: PieceMap(pieceLength: 1 << 20, pieceCount: 100, fileOffset: 0, fileSize: 100 << 20),
            configuration: c, bytesPerSecond: 1 << 20)
    }

    func deadlines(_ actions: [StreamWindowPlanner.Action]) -> [Int: Int] {
        var d = [Int: Int]()
        for case let .setDeadline(p, ms) in actions { d[p] = ms }
        return d
    }

    @Test("start makes the head and the tail urgent, head first")
    func headAndTail() {
        var p = planner()
        let d = deadlines(p.start(have: { _ in false }))
        #expect(Set(d.keys) == [0, 99])
        #expect(d[0]! < d[99]!)
    }

    @Test("with small pieces the head and tail pins are capped in pieces")
    func endPinsCapped() {
        var p = StreamWindowPlanner(map: PieceMap(pieceLength: 16 << 10, pieceCount: 1000, fileOffset: 0, fileSize: 1000 * (16 << 10)))
        let d = deadlines(p.start(have: { _ in false }))
        #expect(Set(d.keys) == Set(0..<8).union(992..<1000))
    }

    @Test("the window is sized in seconds of playback and follows the reader")
    func windowFollowsReader() {
        var p = planner(windowSeconds: 5)
        #expect(p.windowPieces == 5)
        let first = deadlines(p.moveReader(1, to: 10 << 20, have: { _ in false }))
        #expect(Set(first.keys) == Set(10..<15))
        #expect(first[10] == 0)
        #expect(first[11]! > first[10]!)
        // Moving within the same piece changes nothing.
        #expect(p.moveReader(1, to: (10 << 20) + 5, have: { _ in false }).isEmpty)
        // A seek: the new window gets deadlines, the old one is released to normal priority.
        let seek = p.moveReader(1, to: 50 << 20, have: { _ in false })
        #expect(Set(deadlines(seek).keys) == Set(50..<55))
        let cleared = seek.compactMap { a -> Int? in
            if case let .clearDeadline(piece, priority) = a, priority == StreamWindowPlanner.normalPriority { return piece }
            return nil
        }
        #expect(Set(cleared) == Set(10..<15))
        #expect(p.deadlines == Set(50..<55))
    }

    @Test("verified pieces get no deadline and are not cleared")
    func verifiedPiecesSkipped() {
        var p = planner(windowSeconds: 5)
        let have: (Int) -> Bool = { $0 == 11 || $0 == 12 }
        let d = deadlines(p.moveReader(1, to: 10 << 20, have: have))
        #expect(Set(d.keys) == [10, 13, 14])
        let leave = p.moveReader(1, to: 80 << 20, have: { $0 == 10 || $0 == 11 || $0 == 12 })
        // 10 became verified meanwhile: nothing to clear for it.
        #expect(!leave.contains(.clearDeadline(piece: 10, priority: StreamWindowPlanner.normalPriority)))
        #expect(leave.contains(.clearDeadline(piece: 13, priority: StreamWindowPlanner.normalPriority)))
    }

    @Test("several readers each have a window; closing one releases only its own")
    func severalReaders() {
        var p = planner(windowSeconds: 3)
        _ = p.moveReader(1, to: 0, have: { _ in false })
        _ = p.moveReader(2, to: 40 << 20, have: { _ in false })
        #expect(p.deadlines == Set([0, 1, 2, 40, 41, 42]))
        let close = p.removeReader(2, have: { _ in false })
        #expect(Set(close.compactMap { if case let .clearDeadline(x, _) = $0 { return x } else { return nil } }) == [40, 41, 42])
        #expect(p.deadlines == [0, 1, 2])
    }

    @Test("a known bitrate resizes the window, within its bounds")
    func bitrate() {
        var p = planner(windowSeconds: 10)
        #expect(p.windowPieces == 10)
        _ = p.setBitrate(bytesPerSecond: 4 << 20, have: { _ in false })
        #expect(p.windowPieces == 20)  // 40 pieces wanted, clamped to maxPieces
        _ = p.setBitrate(bytesPerSecond: 10_000, have: { _ in false })
        #expect(p.windowPieces == 2)  // clamped to minPieces
    }

    func priorities(_ actions: [StreamWindowPlanner.Action], _ priority: Int) -> Set<Int> {
        Set(actions.compactMap { if case let .setPriority(p, prio) = $0, prio == priority { return p } else { return nil } })
    }

    @Test("past the window, the zone's seconds of playback are at the top priority; they follow the reader and go back to normal")
    func zoneFollowsReader() {
        var p = planner(windowSeconds: 5)
        #expect(p.zonePieces == 20)  // 20 s at 1 MiB/s
        let open = p.moveReader(1, to: 10 << 20, have: { $0 == 20 })
        #expect(priorities(open, StreamWindowPlanner.zonePriority) == Set(15..<35).subtracting([20]), "a verified piece needs nothing")
        #expect(p.zone == Set(15..<35).subtracting([20]))
        // Reading on by two pieces: the window takes 15 and 16 (deadlines,
        // no priority change), the zone gains 35 and 36.
        let on = p.moveReader(1, to: 12 << 20, have: { $0 == 20 || $0 < 12 })
        #expect(Set(deadlines(on).keys) == [15, 16])
        #expect(priorities(on, StreamWindowPlanner.zonePriority) == [35, 36])
        #expect(priorities(on, StreamWindowPlanner.normalPriority).isEmpty)
        // A seek: the old zone goes back to normal (but for a piece verified meanwhile).
        let seek = p.moveReader(1, to: 50 << 20, have: { $0 == 20 || $0 == 30 })
        #expect(priorities(seek, StreamWindowPlanner.zonePriority) == Set(55..<75))
        #expect(priorities(seek, StreamWindowPlanner.normalPriority) == Set(17..<37).subtracting([20, 30]))
        // Closing the reader releases its zone; the zone stops at the end of the file.
        #expect(priorities(p.removeReader(1, have: { _ in false }), StreamWindowPlanner.normalPriority) == Set(55..<75))
        #expect(p.zone.isEmpty)
        _ = p.moveReader(2, to: 90 << 20, have: { _ in false })
        #expect(p.zone == Set(95..<100))
    }

    @Test("the zone is sized by the bitrate, within its cap")
    func zoneBitrate() {
        var p = planner(windowSeconds: 5)
        _ = p.setBitrate(bytesPerSecond: 2 << 20, have: { _ in false })
        #expect(p.zonePieces == 40)
        _ = p.setBitrate(bytesPerSecond: 100 << 20, have: { _ in false })
        #expect(p.zonePieces == 256)
    }

    @Test("the window stops at the end of the file")
    func endOfFile() {
        var p = planner(windowSeconds: 10)
        let d = deadlines(p.moveReader(1, to: 97 << 20, have: { _ in false }))
        #expect(Set(d.keys) == [97, 98, 99])
    }
}

@Suite("Bitrate probe")
struct BitrateProbeTests {
    @Test func parsesFFprobeOutput() {
        func info(_ format: String) -> MediaInfo? { MediaInfo.parse(ffprobeJSON: Data("{\"format\": {\(format)}}".utf8)) }
        #expect(info(#""format_name": "mov", "duration": "30.000000", "size": "2500000", "bit_rate": "666666""#)?.bytesPerSecond == 83333)
        #expect(info(#""format_name": "mov", "duration": "10.0", "size": "1000000", "bit_rate": "N/A""#)?.bytesPerSecond == 100_000)
        #expect(info(#""format_name": "mov", "duration": "N/A", "size": "N/A""#)?.bytesPerSecond == nil)
        #expect(MediaInfo.parse(ffprobeJSON: Data()) == nil)
        #expect(MediaInfo.parse(ffprobeJSON: Data("{}".utf8)) == nil)
    }
}
