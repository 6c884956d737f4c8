/// What the daemon tells its user while it works. The daemon never writes to
/// the console: it yields these, and the CLI renders them (a line on stderr,
/// a live progress line on a terminal).
public enum DaemonEvent: Sendable, Equatable {
    /// A line worth keeping: "Removed Sintel", "Put Open Films's pointer back…".
    case info(String)
    /// Something failed and the daemon carries on: "could not save resume data…".
    case problem(String)
    /// Work in progress, replaced by the next progress line or ended by `progressDone`.
    case progress(String)
    case progressDone
}

/// Where a daemon part sends its events: cheap to copy, safe from any task.
public struct Events: Sendable {
    private let sink: @Sendable (DaemonEvent) -> Void

    public init(_ sink: @escaping @Sendable (DaemonEvent) -> Void) { self.sink = sink }

    /// Events nobody reads (tests, benchmarks).
    public static let ignored = Events { _ in }

    /// A stream of events and where to send them; `finish` ends the stream.
    public static func stream() -> (events: Events, stream: AsyncStream<DaemonEvent>, finish: @Sendable () -> Void) {
        let (stream, continuation) = AsyncStream<DaemonEvent>.makeStream(bufferingPolicy: .unbounded)
        return (Events { continuation.yield($0) }, stream, { continuation.finish() })
    }

    public func send(_ event: DaemonEvent) { sink(event) }
    public func info(_ line: String) { sink(.info(line)) }
    public func problem(_ line: String) { sink(.problem(line)) }
    public func progress(_ line: String) { sink(.progress(line)) }
    public func progressDone() { sink(.progressDone) }
}
