import Streaming
import TestSupport
import Testing

@Suite("Streaming policies, on a manual clock")
struct StreamPolicyTests {
    typealias Watch = StallWatch<ManualClock>

    func seen(pieces: Int, rate: Int = 0, waiting: Bool = true, peers: Int = 3) -> Watch.Observation {
        Watch.Observation(verifiedPieces: pieces, downloadRate: rate, readerWaiting: waiting, peers: peers)
    }

    @Test("a reader waiting with peers connected and nothing arriving for 12 s: reconnect, then wait a full period again")
    func stall() {
        let clock = ManualClock()
        var w = Watch(verifiedPieces: 10, now: clock.now)
        for _ in 0..<11 {
            clock.advance(by: .seconds(1))
            #expect(w.observe(seen(pieces: 10), now: clock.now) == nil)
        }
        clock.advance(by: .seconds(1))
        #expect(w.observe(seen(pieces: 10), now: clock.now) == .reconnect)
        // The next reconnect needs another whole period of nothing.
        clock.advance(by: .seconds(11))
        #expect(w.observe(seen(pieces: 10), now: clock.now) == nil)
        clock.advance(by: .seconds(1))
        #expect(w.observe(seen(pieces: 10), now: clock.now) == .reconnect)
    }

    @Test("not a stall: a piece verified, data flowing at 1 KiB/s or more, no reader waiting, or no peer to reconnect")
    func notStalls() {
        let clock = ManualClock()
        var w = Watch(verifiedPieces: 0, now: clock.now)
        // A new piece every 10 s keeps it quiet forever.
        for i in 1...5 {
            clock.advance(by: .seconds(10))
            #expect(w.observe(seen(pieces: i), now: clock.now) == nil)
        }
        // A big piece on a slow swarm: bytes flow, no piece completes.
        for _ in 0..<30 {
            clock.advance(by: .seconds(1))
            #expect(w.observe(seen(pieces: 5, rate: 1024), now: clock.now) == nil)
        }
        // Nobody reading: nothing to unstick, and the wait starts over.
        clock.advance(by: .seconds(30))
        #expect(w.observe(seen(pieces: 5, waiting: false), now: clock.now) == nil)
        clock.advance(by: .seconds(11))
        #expect(w.observe(seen(pieces: 5), now: clock.now) == nil)
        // No peers: reconnecting would do nothing; once one comes, it does.
        clock.advance(by: .seconds(5))
        #expect(w.observe(seen(pieces: 5, peers: 0), now: clock.now) == nil)
        #expect(w.observe(seen(pieces: 5, peers: 1), now: clock.now) == .reconnect)
    }

    @Test("the start-up phase ends when the first bytes are in, or is forced after its limit; once")
    func startup() {
        let clock = ManualClock()
        var quick = StartupPhase<ManualClock>(now: clock.now)
        clock.advance(by: .seconds(2))
        #expect(quick.check(ready: false, now: clock.now) == nil)
        #expect(quick.check(ready: true, now: clock.now) == .wantWholeFile(forced: false))
        #expect(quick.check(ready: true, now: clock.now) == nil)
        #expect(quick.isOver)

        var slow = StartupPhase<ManualClock>(limit: .seconds(15), now: clock.now)
        clock.advance(by: .milliseconds(14_900))
        #expect(slow.check(ready: false, now: clock.now) == nil)
        clock.advance(by: .milliseconds(100))
        #expect(slow.check(ready: false, now: clock.now) == .wantWholeFile(forced: true))
        clock.advance(by: .seconds(1))
        #expect(slow.check(ready: true, now: clock.now) == nil)
    }

    @Test("piece priorities: deadline pieces urgent, then pieces wanted soon, whole files normal, the rest not wanted")
    func priorities() {
        // Two files of 4 pieces each; the second is wanted whole, the first
        // has a deadline on its piece 1 only; a stray index is ignored.
        let second = PieceMap(pieceLength: 100, pieceCount: 8, fileOffset: 400, fileSize: 400)
        let p = PiecePriorities.plan(pieceCount: 8, wholeFiles: [second], deadlines: [1, 5, 42])
        let n = StreamWindowPlanner.normalPriority
        #expect(p == [0, 7, 0, 0, n, 7, n, n])
        // Pieces wanted soon rank above normal and below deadlines, in either file.
        let soon = PiecePriorities.plan(pieceCount: 8, wholeFiles: [second], deadlines: [1], soon: [1: 6, 2: 6, 7: 5])
        #expect(soon == [0, 7, 6, 0, n, n, n, 5])
    }
}
