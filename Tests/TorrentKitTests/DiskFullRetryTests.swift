import TestSupport
import Testing
import TorrentKit

@Suite("Writing again after a full disk")
struct DiskFullRetryTests {
    @Test("waits while the disk has less room than four pieces (16 MiB at least), retries once it has")
    func room() {
        let clock = ManualClock()
        var r = DiskFullRetry<ManualClock>(pieceLength: 1 << 20, now: clock.now)
        #expect(r.room == 16 << 20)
        #expect(r.check(freeBytes: 0, now: clock.now) == .wait)
        clock.advance(by: .seconds(10))
        #expect(r.check(freeBytes: (16 << 20) - 1, now: clock.now) == .wait)
        #expect(r.check(freeBytes: 16 << 20, now: clock.now) == .retry)
        #expect(DiskFullRetry<ManualClock>(pieceLength: 8 << 20, now: clock.now).room == 32 << 20)
    }

    @Test("tries anyway every five minutes, whatever the free space reads")
    func optimistic() {
        let clock = ManualClock()
        var r = DiskFullRetry<ManualClock>(pieceLength: 1 << 20, now: clock.now)
        clock.advance(by: .seconds(299))
        #expect(r.check(freeBytes: 0, now: clock.now) == .wait)
        clock.advance(by: .seconds(1))
        #expect(r.check(freeBytes: 0, now: clock.now) == .retry)
        clock.advance(by: .seconds(299))
        #expect(r.check(freeBytes: 0, now: clock.now) == .wait)
        clock.advance(by: .seconds(1))
        #expect(r.check(freeBytes: 0, now: clock.now) == .retry)
    }

    @Test("says which disk and how much is free, in whole MiB")
    func summary() {
        let t = DiskTrouble(folder: "/media/films", file: "/media/films/a.mkv", freeBytes: 3 << 20)
        #expect(t.summary == "the disk holding /media/films is full: 3 MiB free")
    }
}
