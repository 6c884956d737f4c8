import Catalog
import Testing

@Suite("When the daemon refreshes channels")
struct RefreshScheduleTests {
    @Test("waits vary by a quarter either way around the interval")
    func jitter() {
        let s = RefreshSchedule.daemon
        #expect(s.interval == .seconds(480))
        #expect(s.nextRefresh(unit: 0) == .seconds(360))
        #expect(s.nextRefresh(unit: 0.5) == .seconds(480))
        #expect(s.nextRefresh(unit: 0.999_999) < .seconds(600))
        #expect(s.nextRefresh(unit: 7) == .seconds(600), "a draw out of range is clamped")
    }

    @Test("the first refresh comes within a minute of starting")
    func first() {
        let s = RefreshSchedule.daemon
        #expect(s.firstRefresh(unit: 0) == .zero)
        #expect(s.firstRefresh(unit: 0.5) == .seconds(30))
        #expect(RefreshSchedule(interval: .seconds(20)).firstRefresh(unit: 0.5) == .seconds(10))
    }

    @Test("waits drawn from a generator stay in range and average the interval")
    func drawn() {
        var g = SplitMix(seed: 42)
        let s = RefreshSchedule(interval: .seconds(100), jitter: 0.25)
        let waits = (0..<2000).map { _ in s.nextRefresh(using: &g) }
        #expect(waits.allSatisfy { $0 >= .seconds(75) && $0 <= .seconds(125) })
        let mean = waits.reduce(Duration.zero, +) / waits.count
        #expect(mean > .seconds(98) && mean < .seconds(102))
    }
}

/// A seeded generator, so the draws are the same every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
