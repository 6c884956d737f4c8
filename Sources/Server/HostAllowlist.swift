import HTTPTypes
import Hummingbird
import Synchronization

/// Refuses (421) any request whose Host header is not a name of this server:
/// the defence against DNS rebinding (Transmission, CVE-2018-5702). Applies to
/// every route, streams and static files included.
public final class HostAllowlist: Sendable {
    private let state: Mutex<(port: Int, extra: [String])>

    /// `extraNames` are host names (without port) the user configured.
    public init(port: Int, extraNames: [String] = []) {
        state = Mutex((port, extraNames.map { $0.lowercased() }))
    }

    /// Set once the listening port is known (when binding to port 0).
    public func setPort(_ port: Int) { state.withLock { $0.port = port } }

    /// The port this server listens on (0 until it is known).
    public var port: Int { state.withLock { $0.port } }

    public func allows(_ host: String?) -> Bool {
        guard let host = host?.lowercased(), !host.isEmpty else { return false }
        let (port, extra) = state.withLock { ($0.port, $0.extra) }
        let names = ["localhost", "127.0.0.1", "[::1]"] + extra
        for n in names {
            if host == "\(n):\(port)" { return true }
            if port == 80 && host == n { return true }
        }
        return false
    }
}

struct HostCheckMiddleware<Context: RequestContext>: RouterMiddleware {
    let allowlist: HostAllowlist

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard allowlist.allows(request.head.authority) else {
            return Response(
                status: .misdirectedRequest,
                headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "421 Misdirected Request: unknown Host\n")))
        }
        return try await next(request, context)
    }
}

/// Headers every response carries (docs/threat_model.md).
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.contentSecurityPolicy] =
            "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; media-src 'self' blob:; img-src 'self' data: blob:"
        response.headers[.xFrameOptions] = "DENY"
        // Nothing of ours may be embedded by another origin (images, media,
        // scripts), even where a browser sends no Sec-Fetch-Site.
        response.headers[.crossOriginResourcePolicy] = "same-origin"
        return response
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let crossOriginResourcePolicy = Self("Cross-Origin-Resource-Policy")!
}
