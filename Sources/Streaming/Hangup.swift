import Synchronization

/// Fires once, when the client a reader serves goes away (its connection
/// closed or was reset). A reader waiting for a piece that is not there
/// yet ends at once then, letting go of its deadline window and its file
/// descriptor (issue 12: 300 abandoned range requests had left 300 readers).
public final class Hangup: Sendable {
    private struct State {
        var fired = false
        var next = 0
        var actions: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    public var hasFired: Bool { state.withLock { $0.fired } }

    /// Runs every registered action, once; later registrations run at once.
    public func fire() {
        let actions = state.withLock { s -> [@Sendable () -> Void] in
            guard !s.fired else { return [] }
            s.fired = true
            defer { s.actions = [:] }
            return Array(s.actions.values)
        }
        for a in actions { a() }
    }

    /// Registers `action` until the returned token is cancelled.
    func onFire(_ action: @escaping @Sendable () -> Void) -> Registration {
        let key = state.withLock { s -> Int? in
            guard !s.fired else { return nil }
            s.next += 1
            s.actions[s.next] = action
            return s.next
        }
        guard let key else {
            action()
            return Registration(hangup: nil, key: 0)
        }
        return Registration(hangup: self, key: key)
    }

    struct Registration {
        let hangup: Hangup?
        let key: Int
        func cancel() { _ = hangup?.state.withLock { $0.actions.removeValue(forKey: key) } }
    }

    /// Runs `work` in a child task that is cancelled when the client goes away
    /// (or when the caller is cancelled).
    func cancellingOnFire<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await work() }
        let registration = onFire { task.cancel() }
        defer { registration.cancel() }
        return try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    }
}
