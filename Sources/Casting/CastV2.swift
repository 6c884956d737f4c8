import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// Cast V2 (CASTV2), the protocol of Chromecasts and Google TVs: a TLS
/// connection to the device's port 8009 carrying length-prefixed protobuf
/// frames (`CastMessage`), each a JSON payload on a namespace. The pure
/// parts (frames, payloads, the player's state in UPnP's words) live here;
/// `ChromecastClient` is the shell that speaks them.
public enum CastV2 {
    public static let connection = "urn:x-cast:com.google.cast.tp.connection"
    public static let heartbeat = "urn:x-cast:com.google.cast.tp.heartbeat"
    public static let receiver = "urn:x-cast:com.google.cast.receiver"
    public static let media = "urn:x-cast:com.google.cast.media"
    /// The Default Media Receiver: Google's own player app on every device.
    public static let defaultMediaReceiver = "CC1AD845"
    public static let platform = "receiver-0"
    /// Longest frame taken from a device (real ones stay far below).
    public static let maxFrame = 64 << 10

    /// One message as it travels: source, destination, namespace, JSON.
    public struct Message: Sendable, Equatable {
        public var source: String
        public var destination: String
        public var namespace: String
        public var payload: String

        public init(source: String, destination: String, namespace: String, payload: String) {
            self.source = source
            self.destination = destination
            self.namespace = namespace
            self.payload = payload
        }
    }

    /// The protobuf bytes of `m` (without the length prefix).
    public static func encode(_ m: Message) throws -> [UInt8] {
        var p = Matinee_Cast_CastMessage()
        p.protocolVersion = .castv210
        p.sourceID = m.source
        p.destinationID = m.destination
        p.namespace = m.namespace
        p.payloadType = .string
        p.payloadUtf8 = m.payload
        return try p.serializedBytes()
    }

    /// A frame's message; nil for anything but a string payload.
    public static func decode(_ bytes: [UInt8]) -> Message? {
        guard bytes.count <= maxFrame, let p = try? Matinee_Cast_CastMessage(serializedBytes: bytes), p.payloadType == .string else { return nil }
        return Message(source: p.sourceID, destination: p.destinationID, namespace: p.namespace, payload: p.payloadUtf8)
    }

    /// A JSON payload from a dictionary of JSON values.
    public static func json(_ object: [String: Any]) -> String {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public static func object(_ payload: String) -> [String: Any]? {
        guard payload.utf8.count <= maxFrame else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any]
    }

    /// The LOAD request of the Default Media Receiver for `media` (one
    /// WebVTT text track, shown at once, when it has subtitles).
    public static func load(_ media: CastMedia, sessionId: String, requestId: Int, start: Double = 0) -> [String: Any] {
        var item: [String: Any] = [
            "contentId": media.url, "contentType": media.mimeType, "streamType": "BUFFERED",
            "metadata": ["metadataType": 1, "type": 1, "title": media.title],
        ]
        if let d = media.duration { item["duration"] = d }
        var body: [String: Any] = [
            "type": "LOAD", "requestId": requestId, "sessionId": sessionId, "media": item, "autoplay": true, "currentTime": start,
        ]
        if let subtitles = media.subtitles {
            var track: [String: Any] = [
                "trackId": 1, "type": "TEXT", "subtype": "SUBTITLES", "trackContentId": subtitles, "trackContentType": "text/vtt",
                "name": media.subtitleLanguage ?? "Subtitles",
            ]
            if let l = media.subtitleLanguage { track["language"] = l }
            item["tracks"] = [track]
            body["media"] = item
            body["activeTrackIds"] = [1]
        }
        return body
    }

    /// The app a RECEIVER_STATUS says runs: its session and transport ids,
    /// if it is `appId`.
    public static func app(in status: [String: Any], appId: String = defaultMediaReceiver) -> (session: String, transport: String)? {
        let apps = (status["status"] as? [String: Any])?["applications"] as? [[String: Any]] ?? []
        guard let a = apps.first(where: { $0["appId"] as? String == appId }), let s = a["sessionId"] as? String,
            let t = a["transportId"] as? String
        else { return nil }
        return (s, t)
    }

    /// A MEDIA_STATUS in the words of UPnP's AVTransport (what the rest of
    /// Matinee speaks), with the media session it names.
    public static func state(fromMediaStatus m: [String: Any]) -> (state: RendererState, mediaSession: Int?) {
        guard let s = (m["status"] as? [[String: Any]])?.first else {
            return (RendererState(transport: "NO_MEDIA_PRESENT"), nil)
        }
        let transport =
            switch s["playerState"] as? String ?? "" {
            case "PLAYING": "PLAYING"
            case "PAUSED": "PAUSED_PLAYBACK"
            case "BUFFERING", "LOADING": "TRANSITIONING"
            case "IDLE": "STOPPED"
            default: "TRANSITIONING"
            }
        let media = s["media"] as? [String: Any]
        let duration = (media?["duration"] as? Double).flatMap { $0 > 0 ? $0 : nil }
        return (
            RendererState(transport: transport, position: s["currentTime"] as? Double, duration: duration, uri: media?["contentId"] as? String),
            s["mediaSessionId"] as? Int
        )
    }
}

/// Drives one Chromecast over Cast V2: one TLS connection, opened on first
/// use and kept (with the heartbeat the device expects) until `close`.
/// Requests carry an id and wait at most 10 s for the answer with it.
public final class ChromecastClient: CastDevice {
    public let renderer: Renderer
    private let sender = ChromecastClient.senderId
    static let senderId = "sender-matinee"
    private struct State {
        var link: Link?
        var nextRequest = 1
        var pending: [Int: CheckedContinuation<String, any Error>] = [:]
        /// The Default Media Receiver once launched, and its media session.
        var app: (session: String, transport: String)?
        var mediaSession: Int?
    }
    private let state = Mutex(State())

    public init(_ renderer: Renderer) { self.renderer = renderer }

    /// The open connection: what to write into, and the task that reads.
    private final class Link: Sendable {
        let id: UUID
        let outbox: AsyncStream<CastV2.Message>.Continuation
        let task: Task<Void, Never>
        init(id: UUID, outbox: AsyncStream<CastV2.Message>.Continuation, task: Task<Void, Never>) {
            self.id = id
            self.outbox = outbox
            self.task = task
        }
    }

    private var host: String { renderer.location.host ?? "" }
    private var port: Int { renderer.location.port ?? 8009 }

    // MARK: The remote

    public func load(_ media: CastMedia) async throws {
        try await connect()
        let app = try await launch()
        let id = nextRequest()
        let answer = try await request(
            CastV2.json(CastV2.load(media, sessionId: app.session, requestId: id, start: media.start)), namespace: CastV2.media, to: app.transport, id: id,
            timeout: .seconds(30))
        let type = answer["type"] as? String ?? ""
        guard type == "MEDIA_STATUS" else {
            let reason = (answer["reason"] as? String).map { " (\($0))" } ?? ""
            throw CastError("\(renderer.name) could not load the stream: \(type)\(reason)")
        }
        let session = CastV2.state(fromMediaStatus: answer).mediaSession
        state.withLock { $0.mediaSession = session }
    }

    public func play() async throws { try await mediaCommand("PLAY") }
    public func pause() async throws { try await mediaCommand("PAUSE") }
    public func seek(to seconds: Double) async throws { try await mediaCommand("SEEK", ["currentTime": seconds, "resumeState": "PLAYBACK_START"]) }

    public func setVolume(_ volume: Int) async throws {
        try await connect()
        let id = nextRequest()
        let level = Double(min(max(volume, 0), 100)) / 100
        _ = try await request(
            CastV2.json(["type": "SET_VOLUME", "requestId": id, "volume": ["level": level]]), namespace: CastV2.receiver, to: CastV2.platform,
            id: id)
    }

    /// Stops the media and quits the app (the TV goes back to its idle screen).
    public func stop() async throws {
        guard let app = state.withLock({ $0.app }) else { return }
        try? await mediaCommand("STOP")
        let id = nextRequest()
        _ = try await request(
            CastV2.json(["type": "STOP", "requestId": id, "sessionId": app.session]), namespace: CastV2.receiver, to: CastV2.platform, id: id)
        state.withLock {
            $0.app = nil
            $0.mediaSession = nil
        }
    }

    public func state() async throws -> RendererState {
        guard let app = state.withLock({ $0.app }) else { return RendererState(transport: "NO_MEDIA_PRESENT") }
        let id = nextRequest()
        let answer = try await request(CastV2.json(["type": "GET_STATUS", "requestId": id]), namespace: CastV2.media, to: app.transport, id: id)
        let (s, session) = CastV2.state(fromMediaStatus: answer)
        if let session { state.withLock { $0.mediaSession = session } }
        return s
    }

    /// A Chromecast does not list its types: its player is Chrome's, so the
    /// browser's plan for the file decides.
    public func playableTypes() async -> Set<String>? { nil }

    public func close() async {
        let (link, waiting) = state.withLock { s -> (Link?, [CheckedContinuation<String, any Error>]) in
            defer {
                s.link = nil
                s.app = nil
                s.pending = [:]
            }
            return (s.link, Array(s.pending.values))
        }
        for c in waiting { c.resume(throwing: CastError("the connection to \(renderer.name) was closed")) }
        guard let link else { return }
        link.outbox.yield(CastV2.Message(source: sender, destination: CastV2.platform, namespace: CastV2.connection, payload: #"{"type":"CLOSE"}"#))
        link.outbox.finish()
        await link.task.value
    }

    // MARK: Cast V2

    private func mediaCommand(_ type: String, _ extra: [String: Any] = [:]) async throws {
        guard let (app, session) = state.withLock({ s in s.app.map { ($0, s.mediaSession) } }), let session else {
            throw CastError("nothing is playing on \(renderer.name)")
        }
        let id = nextRequest()
        var body = extra
        body["type"] = type
        body["requestId"] = id
        body["mediaSessionId"] = session
        let answer = try await request(CastV2.json(body), namespace: CastV2.media, to: app.transport, id: id)
        if let t = answer["type"] as? String, t != "MEDIA_STATUS" {
            throw CastError("\(renderer.name) refused \(type): \(t)")
        }
    }

    /// The Default Media Receiver, launched unless it runs; connected to.
    private func launch() async throws -> (session: String, transport: String) {
        let id = nextRequest()
        var answer = try await request(
            CastV2.json(["type": "GET_STATUS", "requestId": id]), namespace: CastV2.receiver, to: CastV2.platform, id: id)
        var app = CastV2.app(in: answer)
        if app == nil {
            let id = nextRequest()
            answer = try await request(
                CastV2.json(["type": "LAUNCH", "requestId": id, "appId": CastV2.defaultMediaReceiver]), namespace: CastV2.receiver,
                to: CastV2.platform, id: id, timeout: .seconds(20))
            app = CastV2.app(in: answer)
        }
        guard let app else {
            let reason = (answer["reason"] as? String).map { " (\($0))" } ?? ""
            throw CastError("\(renderer.name) did not start its media player\(reason)")
        }
        try send(#"{"type":"CONNECT"}"#, namespace: CastV2.connection, to: app.transport)
        state.withLock { $0.app = app }
        return app
    }

    private func nextRequest() -> Int {
        state.withLock { s in
            defer { s.nextRequest += 1 }
            return s.nextRequest
        }
    }

    private func send(_ payload: String, namespace: String, to destination: String) throws {
        guard let link = state.withLock({ $0.link }) else { throw CastError("\(renderer.name) is not connected") }
        link.outbox.yield(CastV2.Message(source: sender, destination: destination, namespace: namespace, payload: payload))
    }

    /// Sends a request and waits for the answer that carries its id.
    private func request(
        _ payload: String, namespace: String, to destination: String, id: Int, timeout: Duration = .seconds(10)
    ) async throws -> [String: Any] {
        let name = renderer.name
        let answer = try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask {
                try await withCheckedThrowingContinuation { c in
                    self.state.withLock { $0.pending[id] = c }
                    do { try self.send(payload, namespace: namespace, to: destination) } catch {
                        if let c = self.state.withLock({ $0.pending.removeValue(forKey: id) }) { c.resume(throwing: error) }
                    }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            let first = try await group.next() ?? nil
            if let first { return first }
            if let c = self.state.withLock({ $0.pending.removeValue(forKey: id) }) {
                c.resume(throwing: CastError("\(name) does not answer"))
            }
            throw CastError("\(name) does not answer")
        }
        return CastV2.object(answer) ?? [:]
    }

    /// Opens the TLS connection unless it is open, and says CONNECT to the
    /// device's platform.
    private func connect() async throws {
        if state.withLock({ $0.link != nil }) { return }
        var tls = TLSConfiguration.makeClientConfiguration()
        // Devices present a certificate from Google's device CA for their
        // own name, which no sender checks for playing media (the threat
        // model says what this leaves open).
        tls.certificateVerification = .none
        let context = try NIOSSLContext(configuration: tls)
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(5))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(CastFrameDecoder()))
                        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(CastFrameEncoder()))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw CastError("cannot reach \(renderer.name) at \(host):\(port) (\(error))")
        }
        let (outbox, continuation) = AsyncStream<CastV2.Message>.makeStream()
        let id = UUID()
        let task = Task { [weak self] in
            try? await channel.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await m in outbox {
                            guard let bytes = try? CastV2.encode(m) else { continue }
                            try await outbound.write(ByteBuffer(bytes: bytes))
                        }
                    }
                    group.addTask {
                        for try await frame in inbound {
                            guard let m = CastV2.decode(Array(buffer: frame)) else { continue }
                            self?.receive(m)
                        }
                    }
                    group.addTask {
                        // The device drops a sender that is silent for long.
                        while !Task.isCancelled {
                            try await Task.sleep(for: .seconds(5))
                            continuation.yield(
                                CastV2.Message(
                                    source: ChromecastClient.senderId, destination: CastV2.platform, namespace: CastV2.heartbeat, payload: #"{"type":"PING"}"#))
                        }
                    }
                    // Whichever ends first (the device hung up, or close()) ends the link.
                    _ = try await group.next()
                    group.cancelAll()
                }
            }
            self?.lost(id)
        }
        let link = Link(id: id, outbox: continuation, task: task)
        let spare = state.withLock { s -> Link? in
            if s.link != nil { return link }
            s.link = link
            return nil
        }
        if let spare {
            spare.outbox.finish()
            return
        }
        try send(#"{"type":"CONNECT","origin":{},"userAgent":"Matinee"}"#, namespace: CastV2.connection, to: CastV2.platform)
    }

    private func receive(_ m: CastV2.Message) {
        guard m.destination == sender || m.destination == "*" else { return }
        if m.namespace == CastV2.heartbeat {
            if m.payload.contains("PING") {
                state.withLock { $0.link }?.outbox.yield(
                    CastV2.Message(source: sender, destination: m.source, namespace: CastV2.heartbeat, payload: #"{"type":"PONG"}"#))
            }
            return
        }
        guard let body = CastV2.object(m.payload) else { return }
        if m.namespace == CastV2.connection, body["type"] as? String == "CLOSE" {
            // The app went away (quit on the TV, or another sender took it).
            state.withLock {
                if $0.app?.transport == m.source {
                    $0.app = nil
                    $0.mediaSession = nil
                }
            }
            return
        }
        if m.namespace == CastV2.media, let s = CastV2.state(fromMediaStatus: body).mediaSession {
            state.withLock { $0.mediaSession = s }
        }
        guard let id = body["requestId"] as? Int, id != 0 else { return }
        state.withLock { $0.pending.removeValue(forKey: id) }?.resume(returning: m.payload)
    }

    /// Connection `id` ended: if it is the one in use, waiting requests
    /// fail and the next call reconnects (a spare from two connects at once
    /// ends without touching the other).
    private func lost(_ id: UUID) {
        let waiting = state.withLock { s -> [CheckedContinuation<String, any Error>] in
            guard s.link?.id == id else { return [] }
            defer {
                s.pending = [:]
                s.link = nil
            }
            return Array(s.pending.values)
        }
        for c in waiting { c.resume(throwing: CastError("\(renderer.name) closed the connection")) }
    }
}

/// Cast V2 frames: a 4-byte big-endian length, then the message.
struct CastFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard length <= CastV2.maxFrame else { throw CastError("the device sent a frame of \(length) bytes") }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        guard let frame = buffer.readSlice(length: Int(length)) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }
}

struct CastFrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = ByteBuffer

    func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        out.writeInteger(UInt32(data.readableBytes))
        out.writeImmutableBuffer(data)
    }
}
