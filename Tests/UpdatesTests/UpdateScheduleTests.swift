import Testing
import Updates

@Suite("When the daemon checks for releases, and whether it installs them")
struct UpdateScheduleTests {
    let s = UpdateSchedule.daemon

    @Test("checks are 3 to 5 hours apart; the first comes 1 to 10 minutes after start")
    func waits() {
        #expect(s.next(unit: 0) == .seconds(3 * 3600))
        #expect(s.next(unit: 0.5) == .seconds(4 * 3600))
        #expect(s.next(unit: 0.999_999) < .seconds(5 * 3600) && s.next(unit: 0.999_999) > .seconds(5 * 3600 - 1))
        #expect(s.next(unit: 7) == .seconds(5 * 3600), "a draw out of range is clamped")
        #expect(s.first(unit: 0) == .seconds(60), "the DHT fills first")
        #expect(s.first(unit: 1) == .seconds(600))
        #expect(s.first(unit: -1) == .seconds(60))
        let quick = UpdateSchedule(interval: .seconds(100), firstWithin: .seconds(10))
        #expect(quick.first(unit: 0) == .seconds(10) && quick.first(unit: 1) == .seconds(10), "never later than asked")
        #expect(UpdateSchedule(interval: .seconds(100), jitter: 5).jitter == 0.9)
    }

    @Test("a ready release is offered unless automatic updates are on, installed only into a bundle, never under a player")
    func action() {
        #expect(UpdateSchedule.action(automatic: false, installable: true, playing: false) == .offer)
        #expect(UpdateSchedule.action(automatic: true, installable: false, playing: false) == .offer)
        #expect(UpdateSchedule.action(automatic: true, installable: true, playing: true) == .waitForPlayer)
        #expect(UpdateSchedule.action(automatic: true, installable: true, playing: false) == .install)
    }
}
