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
        // Deadlines on the whole start-up window: these tests are about the
        // window; `startupGradient` tests the split of it.
        c.urgentBytes = 1 << 40
        return StreamWindowPlanner(
            map: PieceMap(pieceLength: 1 << 20, pieceCount: 100, fileOffset: 0, fileSize: 100 << 20),
            configuration: c, bytesPerSecond: 1 << 20)
    }

    func deadlines(_ actions: [StreamWindowPlanner.Action]) -> [Int: Int] {
        var d = [Int: Int]()
        for case let .setDeadline(p, ms) in actions { d[p] = ms }
        return d
    }

    func priorities(_ actions: [StreamWindowPlanner.Action]) -> [Int: Int] {
        var d = [Int: Int]()
        for case let .setPriority(p, prio) in actions { d[p] = prio }
        return d
    }

    @Test("start wants the head and the tail soon, the head first, without deadlines")
    func headAndTail() {
        var p = planner()
        let actions = p.start(have: { _ in false })
        #expect(deadlines(actions).isEmpty)
        #expect(priorities(actions) == [0: StreamWindowPlanner.laterPriority, 99: StreamWindowPlanner.tailPriority])
        #expect(p.soon == priorities(actions))
        // A reader at the head: the head piece is its deadline now, the tail still soon.
        let open = p.moveReader(1, to: 0, have: { _ in false })
        #expect(deadlines(open)[0] == 0)
        #expect(p.soon == [99: StreamWindowPlanner.tailPriority])
        // Verified pins are no longer wanted soon.
        _ = p.removeReader(1, have: { _ in false })
        #expect(p.replan(have: { $0 == 0 || $0 == 99 }).isEmpty)
        #expect(p.soon.isEmpty && p.pinsVerified(have: { $0 == 0 || $0 == 99 }))
    }

    @Test("with small pieces the head and tail pins are capped in pieces")
    func endPinsCapped() {
        var p = StreamWindowPlanner(map: PieceMap(pieceLength: 16 << 10, pieceCount: 1000, fileOffset: 0, fileSize: 1000 * (16 << 10)))
        let d = priorities(p.start(have: { _ in false }))
        #expect(Set(d.keys) == Set(0..<8).union(992..<1000))
    }

    @Test(
        "during start-up a reader's first bytes get deadlines, the rest of its window is wanted in bands; the swarm's rate widens the first part"
    )
    func startupGradient() {
        // 256 KiB pieces, a 48 MiB file; the default 1 MiB of deadlines; the
        // rest of the first 2 MiB at 6, of the window at 5.
        var c = StreamWindowPlanner.Configuration()
        c.maxPieces = 16
        c.soonBytes = 2 << 20
        var p = StreamWindowPlanner(
            map: PieceMap(pieceLength: 256 << 10, pieceCount: 192, fileOffset: 0, fileSize: 48 << 20), configuration: c,
            bytesPerSecond: 1 << 20)
        _ = p.start(have: { _ in false })
        #expect(p.windowPieces == 16)
        #expect(p.urgentPieces == 4)
        // A seek-like first read at 24 MiB: 96...99 urgent, 0 first; 100...103
        // at 6; 104...111 at 5, as is the head; the tail at 4.
        let open = p.moveReader(1, to: 24 << 20, have: { _ in false })
        #expect(deadlines(open) == [96: 0, 97: 250, 98: 500, 99: 750])
        func band(_ priority: Int) -> Set<Int> { Set(p.soon.filter { $0.value == priority }.keys) }
        #expect(band(StreamWindowPlanner.soonPriority) == Set(100..<104))
        #expect(band(StreamWindowPlanner.laterPriority) == Set(104..<112).union(0..<4))
        #expect(band(StreamWindowPlanner.tailPriority) == Set(188..<192))
        #expect(priorities(open)[100] == StreamWindowPlanner.soonPriority && priorities(open)[104] == StreamWindowPlanner.laterPriority)
        // Only the pieces that changed get an action: the window's rest here (the head and tail had theirs at start).
        #expect(Set(priorities(open).keys) == Set(100..<112))
        // 96 and 97 in and read: the deadlines move with the reader, on the 1 MiB from where it is.
        _ = p.moveReader(1, to: (24 << 20) + (512 << 10), have: { $0 == 96 || $0 == 97 })
        #expect(p.deadlines == [98, 99, 100, 101])
        #expect(p.soon[100] == nil && p.soon[102] == StreamWindowPlanner.soonPriority && p.soon[106] == StreamWindowPlanner.laterPriority)
        // The swarm measured at 3 MiB/s: 3 MiB of deadlines (12 pieces) from the next replan on.
        p.setDownloadRate(3 << 20)
        #expect(p.urgentPieces == 12)
        let wider = p.replan(have: { $0 == 96 || $0 == 97 })
        #expect(p.deadlines == Set(98..<110))
        #expect(Set(deadlines(wider).keys) == Set(102..<110))
        // The reader goes away: its window is not wanted any more during start-up (0), the pins still are.
        let gone = p.removeReader(1, have: { $0 == 96 || $0 == 97 })
        #expect(gone.contains(.clearDeadline(piece: 98, priority: 0)))
        #expect(priorities(gone) == [110: 0, 111: 0, 112: 0, 113: 0])
        #expect(p.deadlines.isEmpty)
        #expect(Set(p.soon.keys) == Set(0..<4).union(188..<192))
        // Playing: what is not wanted soon and has no deadline is normal, not 0.
        _ = p.startPlaying(have: { _ in false })
        let seek = p.moveReader(2, to: 10 << 20, have: { _ in false })
        #expect(Set(deadlines(seek).keys) == Set(40..<56), "while playing a seek's first 4 MiB all get deadlines")
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
        // A seek: the new window gets deadlines, the old one is released (to 0
        // during start-up, where only what readers need is wanted; to normal
        // priority once playing).
        let seek = p.moveReader(1, to: 50 << 20, have: { _ in false })
        #expect(Set(deadlines(seek).keys) == Set(50..<55))
        func cleared(_ actions: [StreamWindowPlanner.Action], to priority: Int) -> Set<Int> {
            Set(actions.compactMap { if case let .clearDeadline(piece, prio) = $0, prio == priority { return piece } else { return nil } })
        }
        #expect(cleared(seek, to: 0) == Set(10..<15))
        #expect(p.deadlines == Set(50..<55))
        _ = p.startPlaying(have: { _ in false })
        #expect(cleared(p.removeReader(1, have: { _ in false }), to: StreamWindowPlanner.normalPriority) == Set(50..<54))
    }

    @Test("verified pieces get no deadline and are not cleared")
    func verifiedPiecesSkipped() {
        var p = planner(windowSeconds: 5)
        let have: (Int) -> Bool = { $0 == 11 || $0 == 12 }
        let d = deadlines(p.moveReader(1, to: 10 << 20, have: have))
        #expect(Set(d.keys) == [10, 13, 14])
        let leave = p.moveReader(1, to: 80 << 20, have: { $0 == 10 || $0 == 11 || $0 == 12 })
        // 10 became verified meanwhile: nothing to clear for it.
        #expect(!leave.contains { if case .clearDeadline(10, _) = $0 { true } else { false } })
        #expect(leave.contains(.clearDeadline(piece: 13, priority: 0)))
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

    @Test("while playing, what lies behind the first reader waits until its buffer is in, with hysteresis")
    func holdsBehindFirstReader() {
        var c = StreamWindowPlanner.Configuration()
        c.windowSeconds = 2
        c.minPieces = 2
        c.bufferSeconds = 10  // 10 pieces at 1 MiB/s; wanted again at 20
        c.urgentBytes = 1 << 40
        var p = StreamWindowPlanner(
            map: PieceMap(pieceLength: 1 << 20, pieceCount: 100, fileOffset: 0, fileSize: 100 << 20), configuration: c,
            bytesPerSecond: 1 << 20)
        var have = Set([3])
        // During start-up nothing is held, wherever the reader is.
        _ = p.moveReader(1, to: 50 << 20, have: have.contains)
        #expect(p.held.isEmpty)
        // Playing: the missing pieces before the reader wait (3 is verified).
        let play = p.startPlaying(have: have.contains)
        #expect(priorities(play, 0) == Set(0..<50).subtracting([3]))
        #expect(p.held == Set(0..<50).subtracting([3]))
        // 15 pieces in ahead: more than the buffer, less than twice it, so still held.
        have.formUnion(50..<65)
        #expect(p.replan(have: have.contains).isEmpty)
        // 20 in: everything behind is wanted again.
        have.formUnion(65..<70)
        #expect(priorities(p.replan(have: have.contains), StreamWindowPlanner.normalPriority) == Set(0..<50).subtracting([3]))
        #expect(p.held.isEmpty)
        // The reader plays on to 61: 9 ahead, below the buffer, so held again (now up to 61).
        let on = p.moveReader(1, to: 61 << 20, have: have.contains)
        #expect(priorities(on, 0) == Set(0..<50).subtracting([3]))
        // A seek back to 10: its first 4 MiB get deadlines, 0...9 stay held, the rest is wanted again.
        let back = p.moveReader(1, to: 10 << 20, have: have.contains)
        #expect(Set(deadlines(back).keys) == [10, 11, 12, 13])
        #expect(priorities(back, StreamWindowPlanner.normalPriority) == Set(14..<50))
        #expect(p.held == Set(0..<10).subtracting([3]))
        // With no reader nothing is held.
        #expect(priorities(p.removeReader(1, have: have.contains), StreamWindowPlanner.normalPriority) == Set(0..<10).subtracting([3]))
        #expect(p.held.isEmpty)
    }

    @Test("a deadline piece the first reader leaves behind goes to 0 while held, not back to normal")
    func windowLeftBehindIsHeld() {
        var p = planner(windowSeconds: 3)
        _ = p.startPlaying(have: { _ in false })
        _ = p.moveReader(1, to: 10 << 20, have: { _ in false })
        #expect(p.deadlines == [10, 11, 12, 13])
        let on = p.moveReader(1, to: 12 << 20, have: { $0 == 10 })
        #expect(on.contains(.clearDeadline(piece: 11, priority: 0)))
        #expect(!on.contains(.setPriority(piece: 11, priority: 0)), "one action per piece")
        #expect(p.held.contains(11) && !p.held.contains(10))
    }

    @Test("while playing, only a seek gets deadlines (on its first 4 MiB); reading on, or opening where a reader ended, gets none")
    func playingDeadlinesOnlyForSeeks() {
        var p = planner(windowSeconds: 10)
        _ = p.moveReader(1, to: 0, have: { _ in false })
        #expect(p.deadlines == Set(0..<10), "start-up: the whole window")
        // Start-up over with 0...5 in: what is left of the first 4 MiB keeps its deadlines.
        let play = p.startPlaying(have: { $0 < 2 })
        #expect(p.deadlines == [2, 3])
        #expect(Set(play.compactMap { if case let .clearDeadline(x, _) = $0 { return x } else { return nil } }) == Set(4..<10))
        // Reading on: no new deadlines, the old ones are left behind.
        let on = p.moveReader(1, to: 3 << 20, have: { $0 < 3 })
        #expect(deadlines(on).isEmpty)
        #expect(p.deadlines == [3])
        _ = p.moveReader(1, to: 6 << 20, have: { $0 < 6 })
        #expect(p.deadlines.isEmpty)
        // The range ends; the next request opens where it stopped: reading on.
        _ = p.removeReader(1, have: { $0 < 7 })
        #expect(deadlines(p.moveReader(2, to: (6 << 20) + 300_000, have: { $0 < 7 })).isEmpty)
        // A second reader far away is a seek: its first 4 MiB get deadlines, 0 first.
        let seek = deadlines(p.moveReader(3, to: 60 << 20, have: { $0 < 7 || $0 == 61 }))
        #expect(Set(seek.keys) == [60, 62, 63])
        #expect(seek[60] == 0)
        // That reader reading on past its first 4 MiB has none left.
        _ = p.moveReader(3, to: 64 << 20, have: { $0 < 7 || (60...63).contains($0) })
        #expect(p.deadlines.isEmpty)
        // The same reader jumping back is a seek again.
        #expect(Set(deadlines(p.moveReader(3, to: 30 << 20, have: { $0 < 7 })).keys) == Set(30..<34))
    }

    @Test("a measured reading rate above the bitrate widens the window")
    func measuredRate() {
        var p = planner(windowSeconds: 5)
        #expect(p.windowPieces == 5)
        _ = p.setMeasuredRate(3 << 20, have: { _ in false })
        #expect(p.bytesPerSecond == 3 << 20)
        #expect(p.windowPieces == 15)
        #expect(p.millisecondsPerPiece == 333)
        // Below the bitrate it changes nothing; unknown again, the bitrate rules.
        _ = p.setMeasuredRate(1000, have: { _ in false })
        #expect(p.windowPieces == 5)
        _ = p.setMeasuredRate(nil, have: { _ in false })
        #expect(p.bytesPerSecond == 1 << 20)
    }

    @Test("the window stops at the end of the file")
    func endOfFile() {
        var p = planner(windowSeconds: 10)
        let d = deadlines(p.moveReader(1, to: 97 << 20, have: { _ in false }))
        #expect(Set(d.keys) == [97, 98, 99])
    }
}

@Suite("Playback rate")
struct PlaybackRateTests {
    @Test("the rate over the last seconds of reading; a seek starts again")
    func measures() {
        var r = PlaybackRate()
        r.observe(offset: 0, at: .seconds(0))
        r.observe(offset: 2 << 20, at: .seconds(2))
        #expect(r.bytesPerSecond == nil, "too soon")
        r.observe(offset: 4 << 20, at: .seconds(4))
        #expect(r.bytesPerSecond == 1 << 20)
        // Only the last 15 s count: the reader sped up to 3 MiB/s.
        for k in 1...15 { r.observe(offset: (4 << 20) + Int64(k) * (3 << 20), at: .seconds(4 + k)) }
        #expect(r.bytesPerSecond == 3 << 20)
        // A step back is a seek.
        r.observe(offset: 1 << 20, at: .seconds(20))
        #expect(r.bytesPerSecond == nil)
        // So is a jump far ahead.
        r.observe(offset: 1 << 30, at: .seconds(30))
        #expect(r.bytesPerSecond == nil)
        r.observe(offset: (1 << 30) + (8 << 20), at: .seconds(34))
        #expect(r.bytesPerSecond == 2 << 20)
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
