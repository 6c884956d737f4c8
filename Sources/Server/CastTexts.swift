import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// The subtitles of the casts under way: WebVTT text kept in memory under a
/// random id while its cast lasts, served on the LAN face as
/// `/subtitles/<id>.vtt` (Chromecast's text tracks) and `/subtitles/<id>.srt`
/// (the SubRip a DLNA renderer may take), each with a capability.
public final class CastTexts: Sendable {
    private let texts = Mutex<[String: String]>([:])
    /// At most this many at once (one per cast; old ones go first).
    static let limit = 8

    public init() {}

    /// Keeps `webVTT`; its id.
    public func put(_ webVTT: String) -> String {
        let id = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        texts.withLock { t in
            if t.count >= Self.limit, let any = t.keys.first { t[any] = nil }
            t[id] = webVTT
        }
        return id
    }

    public func remove(_ id: String) { _ = texts.withLock { $0.removeValue(forKey: id) } }

    func text(_ id: String) -> String? { texts.withLock { $0[id] } }

    func addRoutes<Context: RequestContext>(to router: Router<Context>, capability: StreamCapability) {
        router.get("/subtitles/:name") { request, context in
            let q = request.uri.queryParameters
            guard capability.allows(path: request.uri.path, exp: q.get("exp"), cap: q.get("cap")) else {
                throw HTTPError(.forbidden, message: "this URL is not valid (or has expired)")
            }
            let name = context.parameters.get("name") ?? ""
            let parts = name.split(separator: ".")
            guard parts.count == 2, let vtt = self.text(String(parts[0])) else { throw HTTPError(.notFound) }
            switch parts[1] {
            case "vtt":
                return Response(
                    status: .ok, headers: [.contentType: "text/vtt; charset=utf-8", .cacheControl: "no-store"],
                    body: .init(byteBuffer: ByteBuffer(string: vtt)))
            case "srt":
                return Response(
                    status: .ok, headers: [.contentType: "application/x-subrip; charset=utf-8", .cacheControl: "no-store"],
                    body: .init(byteBuffer: ByteBuffer(string: SubtitleConverter.subRip(fromWebVTT: vtt))))
            default: throw HTTPError(.notFound)
            }
        }
    }
}

/// The LAN face's own rules: GET and HEAD only (it has nothing to change),
/// and the one header a Chromecast needs to use what it fetches, since its
/// player is a web page of another origin: `Access-Control-Allow-Origin: *`
/// (and a resource policy that lets that page load it). Every answer on
/// this face still needs a capability, which only the device was given.
struct CastFaceMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .get || request.method == .head else {
            return Response(status: .methodNotAllowed, headers: [.allow: "GET, HEAD"])
        }
        var response = try await next(request, context)
        if response.status.code < 400 {
            response.headers[.accessControlAllowOrigin] = "*"
            response.headers[HTTPField.Name("Cross-Origin-Resource-Policy")!] = "cross-origin"
        }
        return response
    }
}
