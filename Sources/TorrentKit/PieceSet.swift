import Synchronization

/// The pieces of one torrent that passed their hash check, kept current from
/// piece_finished alerts so that readers never ask libtorrent (a blocking
/// round trip) whether they may read. Readers can wait for a piece.
public final class PieceSet: Sendable {
    private struct Waiter {
        let piece: Int
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var have: [Bool] = []
        var haveCount = 0
        var waiters: [Int: Waiter] = [:]
        var nextToken = 0
        var failure: EngineError?
    }

    private let state = Mutex(State())

    public init(count: Int = 0) {
        state.withLock { $0.have = Array(repeating: false, count: count) }
    }

    public func contains(_ piece: Int) -> Bool {
        state.withLock { piece >= 0 && piece < $0.have.count && $0.have[piece] }
    }

    public var count: Int { state.withLock { $0.haveCount } }

    /// One Bool per piece: true when verified.
    public var snapshot: [Bool] { state.withLock { $0.have } }

    /// Marks a piece verified and wakes whoever waits for it.
    public func insert(_ piece: Int) {
        insert(contentsOf: [piece])
    }

    public func insert(contentsOf pieces: some Sequence<Int>) {
        let woken: [Waiter] = state.withLock { s in
            var changed = false
            for p in pieces where p >= 0 {
                if p >= s.have.count { s.have += Array(repeating: false, count: p + 1 - s.have.count) }
                if !s.have[p] {
                    s.have[p] = true
                    s.haveCount += 1
                    changed = true
                }
            }
            guard changed else { return [] }
            let ready = s.waiters.filter { $0.value.piece < s.have.count && s.have[$0.value.piece] }
            for k in ready.keys { s.waiters[k] = nil }
            return Array(ready.values)
        }
        for w in woken { w.continuation.resume() }
    }

    /// Sizes the set once the piece count is known (magnet links learn it late).
    public func resize(to count: Int) {
        state.withLock { s in
            if s.have.count < count { s.have += Array(repeating: false, count: count - s.have.count) }
        }
    }

    /// Returns once `piece` is verified. Throws if the torrent goes away or the
    /// waiting task is cancelled.
    public func wait(for piece: Int) async throws {
        if contains(piece) { return }
        let token = state.withLock { s -> Int in
            s.nextToken += 1
            return s.nextToken
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { s in
                    if let f = s.failure { return .failure(f) }
                    if piece < s.have.count && s.have[piece] { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    s.waiters[token] = Waiter(piece: piece, continuation: c)
                    return nil
                }
                if let outcome { c.resume(with: outcome) }
            }
        } onCancel: {
            let w = state.withLock { $0.waiters.removeValue(forKey: token) }
            w?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Fails every current and future waiter (the torrent was removed).
    public func fail(_ error: EngineError) {
        let all: [Waiter] = state.withLock { s in
            s.failure = error
            let w = Array(s.waiters.values)
            s.waiters = [:]
            return w
        }
        for w in all { w.continuation.resume(throwing: error) }
    }
}
