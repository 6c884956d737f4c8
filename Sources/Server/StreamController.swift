import Foundation
import Hummingbird
import Streaming
import TorrentKit

/// `/stream/<infohash>/<fileIndex>` (GET, HEAD) and `/api/streams` (status).
/// A stream URL must carry a valid capability (`StreamCapability`).
struct StreamController<Context: ConnectionContext> {
    let hub: StreamHub
    let capability: StreamCapability
    var metrics: ServerMetrics?

    func addRoutes(to router: Router<Context>) {
        addStreamRoutes(to: router)
        router.get("/api/streams") { _, _ in
            try JSONResponse.make(self.hub.streams.map { $0.status() }.sorted { ($0.infoHash, $0.fileIndex) < ($1.infoHash, $1.fileIndex) })
        }
        router.get("/api/streams/:infohash/:file") { request, context in
            let stream = try await self.stream(context)
            return try JSONResponse.make(stream.status())
        }
        // Who is connected, and who was banned and why.
        router.get("/api/streams/:infohash/:file/peers") { request, context in
            let torrent = try await self.stream(context).torrent
            let banned = torrent.bannedPeers.map { Banned(address: $0.description, reason: "sent data that failed the hash check") }
            return try JSONResponse.make(PeerView(connected: await torrent.connectedPeers(), banned: banned))
        }
    }

    /// `/stream` alone: what a renderer on the LAN may fetch.
    func addStreamRoutes(to router: Router<Context>) {
        router.get("/stream/:infohash/:file") { request, context in
            try await self.serve(request, context, head: false)
        }
        router.head("/stream/:infohash/:file") { request, context in
            try await self.serve(request, context, head: true)
        }
    }

    func stream(_ context: Context) async throws -> FileStream {
        guard let ihText = context.parameters.get("infohash"), let id = TorrentID(string: ihText) else {
            throw HTTPError(.badRequest, message: "not an info-hash (40 hex digits)")
        }
        guard let fileText = context.parameters.get("file"), let index = Int(fileText) else {
            throw HTTPError(.badRequest, message: "the file index must be a number")
        }
        do {
            return try await hub.stream(id, fileIndex: index)
        } catch let e as EngineError where e.kind == .notFound {
            throw HTTPError(.notFound, message: e.message)
        } catch let e as EngineError {
            throw HTTPError(.internalServerError, message: e.message)
        }
    }

    private func serve(_ request: Request, _ context: Context, head: Bool) async throws -> Response {
        try checkCapability(request)
        let stream = try await self.stream(context)
        let size = stream.size
        var headers: HTTPFields = [
            .acceptRanges: "bytes",
            .contentType: MediaType.forFile(stream.file.name),
            .eTag: "\"\(stream.torrent.id.hex)-\(stream.file.index)\"",
            .cacheControl: "no-store",
        ]
        let range: Range<Int64>
        let status: HTTPResponse.Status
        switch ByteRangeRequest(header: request.headers[.range], size: size) {
        case .whole:
            range = 0..<size
            status = .ok
        case let .partial(r):
            range = r
            status = .partialContent
            headers[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound - 1)/\(size)"
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(size)"
            headers[.contentLength] = "0"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        }
        let length = range.upperBound - range.lowerBound
        headers[.contentLength] = String(length)
        if head {
            return Response(status: status, headers: headers, body: ResponseBody(contentLength: Int(length)) { _ in })
        }
        // The reader ends the moment the client goes away, even while it
        // waits for a piece nobody has sent yet (issue 12).
        let bytes = stream.bytes(range, hangup: context.hangup())
        let asked = ContinuousClock.now
        let firstByte = metrics?.firstByte
        let body = ResponseBody(contentLength: Int(length)) { writer in
            var first = true
            for try await chunk in bytes {
                if first, let firstByte {
                    let waited = (ContinuousClock.now - asked).components
                    firstByte.recordNanoseconds(waited.seconds * 1_000_000_000 + waited.attoseconds / 1_000_000_000)
                }
                first = false
                try await writer.write(chunk)
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
    }
}

/// What `/api/streams/<infohash>/<file>/peers` answers.
struct PeerView: Encodable {
    var connected: [PeerInfo]
    var banned: [Banned]
}

struct Banned: Encodable {
    var address: String
    var reason: String
}

extension StreamController {
    /// 403 unless the URL's `exp` and `cap` grant its path.
    func checkCapability(_ request: Request) throws {
        let q = request.uri.queryParameters
        guard capability.allows(path: request.uri.path, exp: q.get("exp"), cap: q.get("cap")) else {
            throw HTTPError(.forbidden, message: "this stream link is not valid or has expired: ask Matinee for a new one")
        }
    }
}

enum JSONResponse {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    static func make(_ value: some Encodable) throws -> Response {
        let data = try encoder.encode(value)
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
