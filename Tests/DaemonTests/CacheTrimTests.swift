import Daemon
import Foundation
import Testing
import TorrentKit

@Suite("Cache limit")
struct CacheTrimTests {
    func id(_ n: UInt8) -> TorrentID { TorrentID(string: String(repeating: String(format: "%02x", n), count: 20))! }

    func entry(_ n: UInt8, size: Int64, finished: Bool = true, playing: Bool = false, playedAt t: TimeInterval) -> CacheTrim.Entry {
        CacheTrim.Entry(id: id(n), size: size, finished: finished, playing: playing, lastPlayed: Date(timeIntervalSince1970: t))
    }

    @Test("least recently played goes first, only until what is stored fits")
    func order() {
        let entries = [entry(1, size: 400, playedAt: 300), entry(2, size: 400, playedAt: 100), entry(3, size: 400, playedAt: 200)]
        #expect(CacheTrim.plan(entries, limit: 1200) == [])
        #expect(CacheTrim.plan(entries, limit: 1000) == [.evict(id(2))])
        #expect(CacheTrim.plan(entries, limit: 400) == [.evict(id(2)), .evict(id(3))])
    }

    @Test("never what is being played or still downloading, even if the cache stays over")
    func spared() {
        let entries = [
            entry(1, size: 500, playing: true, playedAt: 100), entry(2, size: 500, finished: false, playedAt: 150),
            entry(3, size: 500, playedAt: 200),
        ]
        #expect(CacheTrim.plan(entries, limit: 0) == [.evict(id(3))])
    }

    @Test("never what the user downloaded for offline, however old")
    func keptForOffline() {
        var oldest = entry(1, size: 500, playedAt: 100)
        oldest.kept = true
        let entries = [oldest, entry(2, size: 500, playedAt: 200), entry(3, size: 500, playedAt: 300)]
        #expect(CacheTrim.plan(entries, limit: 600) == [.evict(id(2)), .evict(id(3))])
    }
}
