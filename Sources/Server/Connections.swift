import HTTPTypes
public import Hummingbird
public import NIOCore
import NIOHTTPTypes
public import Streaming
import Synchronization

/// The request context of Matinee's server: Hummingbird's, plus the
/// connection the request came on, so that a stream can end its reader the
/// moment its client goes away.
public struct MatineeRequestContext: RequestContext, ConnectionContext {
    public var coreContext: CoreRequestContextStorage
    let channel: (any Channel)?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// A `Hangup` that fires when this request's connection closes (at once
    /// if it already has).
    func hangup() -> Hangup {
        let h = Hangup()
        channel?.closeFuture.whenComplete { _ in h.fire() }
        return h
    }
}

/// A request context that knows when its client goes away.
protocol ConnectionContext: RequestContext {
    func hangup() -> Hangup
}

/// How long and how many connections the server keeps (issue 12: 100
/// clients sending a request a byte at a time were all still open after 30 s).
public struct ConnectionLimits: Sendable {
    /// A connection that has not sent a whole request head this long after it
    /// opened, or after its last response ended, is closed. A response in
    /// progress is never cut: a player paused on a long stream keeps its
    /// connection however long it waits (TCP holds the bytes back).
    public var idleTimeout: Duration = .seconds(10)
    /// Connections open at once; past it, a request gets 503 and its connection is closed.
    public var maxConnections = 512

    public init() {}
}

/// Counts the open connections and refuses requests on those past the limit.
final class ConnectionCounter: Sendable {
    let limit: Int
    private let open = Mutex(0)

    init(limit: Int) { self.limit = limit }

    /// Counts one more; false if it is past the limit.
    func enter() -> Bool {
        open.withLock { n in
            n += 1
            return n <= limit
        }
    }

    func leave() { open.withLock { $0 -= 1 } }

    func handler() -> ConnectionLimitHandler { ConnectionLimitHandler(counter: self) }
}

/// One per connection, after the HTTP codec: counted from when it is added
/// to when it is removed; past the limit, the first request head is answered
/// with 503 and the connection closed.
final class ConnectionLimitHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let counter: ConnectionCounter
    private var counted = false
    private var refused = false
    private var answered = false

    init(counter: ConnectionCounter) { self.counter = counter }

    func handlerAdded(context: ChannelHandlerContext) {
        counted = true
        refused = !counter.enter()
    }

    func handlerRemoved(context: ChannelHandlerContext) { leave() }

    func channelInactive(context: ChannelHandlerContext) {
        leave()
        context.fireChannelInactive()
    }

    private func leave() {
        guard counted else { return }
        counted = false
        counter.leave()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard refused else { return context.fireChannelRead(data) }
        guard !answered, case .head = unwrapInboundIn(data) else { return }
        answered = true
        let body = ByteBuffer(string: "Matinee has too many connections open; try again in a moment\n")
        let head = HTTPResponse(
            status: .serviceUnavailable,
            headerFields: [
                .contentType: "text/plain; charset=utf-8", .contentLength: String(body.readableBytes), .connection: "close",
                .retryAfter: "5",
            ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.close(promise: nil)
    }
}
