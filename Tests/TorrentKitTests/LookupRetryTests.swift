import Testing
import TorrentKit

@Suite("Looking for a channel within a budget")
struct LookupRetryTests {
    @Test("pauses double from one second up to fifteen")
    func backoff() {
        let r = LookupRetry(budget: .seconds(600))
        let pauses = (1...7).map { r.pause(afterEmptyLookups: $0, elapsed: .zero) }
        #expect(pauses == [1, 2, 4, 8, 15, 15, 15].map { Duration.seconds($0) })
    }

    @Test("a lookup gets at most 45 s, and never more than the budget left")
    func lookupTimeouts() {
        let r = LookupRetry(budget: .seconds(120))
        #expect(r.lookupTimeout(elapsed: .zero) == .seconds(45))
        #expect(r.lookupTimeout(elapsed: .seconds(100)) == .seconds(20))
        #expect(r.lookupTimeout(elapsed: .seconds(118)) == .seconds(2))
        #expect(r.lookupTimeout(elapsed: .milliseconds(118_500)) == nil, "too little left to be worth a lookup")
        #expect(r.lookupTimeout(elapsed: .seconds(200)) == nil)
    }

    @Test("no pause that would leave no time for the lookup after it")
    func pausesFitTheBudget() {
        let r = LookupRetry(budget: .seconds(30))
        #expect(r.pause(afterEmptyLookups: 1, elapsed: .seconds(20)) == .seconds(1))
        #expect(r.pause(afterEmptyLookups: 5, elapsed: .seconds(10)) == .seconds(15))
        #expect(r.pause(afterEmptyLookups: 5, elapsed: .seconds(14)) == nil)
        #expect(r.pause(afterEmptyLookups: 1, elapsed: .seconds(28)) == nil)
    }

    @Test("with empty routing tables it waits in short steps, within the budget")
    func noNodesYet() {
        let r = LookupRetry(budget: .seconds(10))
        #expect(r.pauseForNodes(elapsed: .zero) == .milliseconds(250))
        #expect(r.pauseForNodes(elapsed: .milliseconds(7_900)) == .milliseconds(100))
        #expect(r.pauseForNodes(elapsed: .seconds(9)) == nil)
    }

    /// The whole schedule as the resolver walks it when nothing is ever
    /// found: lookups that end at once, every pause taken in full.
    @Test("a 120 s budget with a DHT that never has the pointer: 10 lookups, then give up")
    func fullSchedule() {
        let r = LookupRetry(budget: .seconds(120))
        var t = Duration.zero
        var lookups = 0
        while r.lookupTimeout(elapsed: t) != nil {
            lookups += 1
            t += .seconds(3)  // one lookup
            guard let p = r.pause(afterEmptyLookups: lookups, elapsed: t) else { break }
            t += p
        }
        #expect(lookups == 10)
        #expect(t <= .seconds(120))
    }
}
