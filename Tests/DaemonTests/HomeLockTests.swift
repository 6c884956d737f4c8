import Daemon
import Foundation
import TestSupport
import Testing

@Suite("One engine per home")
struct HomeLockTests {
    @Test("the lock refuses a second holder, names the first, and is free again once released")
    func lock() throws {
        let dir = TempDir()
        let home = Home(data: dir.sub("home"), downloads: dir.sub("home") + "/downloads")
        var first: HomeLock? = try HomeLock.acquire(home, for: "matinee serve")
        #expect(HomeLock.holder(home) == "matinee serve, pid \(getpid())")
        #expect(throws: DaemonError.self) { try HomeLock.acquire(home, for: "matinee play") }
        do {
            _ = try HomeLock.acquire(home, for: "matinee play")
        } catch let e as DaemonError {
            #expect(e.message.contains("already running") && e.message.contains("matinee serve, pid"))
        }
        _ = first
        first = nil
        #expect(HomeLock.holder(home) == nil)
        let again = try HomeLock.acquire(home, for: "matinee play")
        #expect(HomeLock.holder(home) == "matinee play, pid \(getpid())")
        _ = again
    }
}
