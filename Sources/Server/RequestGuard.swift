import Foundation
import HTTPTypes
import Hummingbird

/// State changes only from our own pages (docs/threat_model.md): on every
/// method but GET and HEAD, `Origin` must be this server's own origin (if a
/// browser sent none, `Sec-Fetch-Site` must be same-origin or none), and the
/// `X-Matinee-CSRF` header must carry this run's token, which only a page
/// served from here can read (`GET /api/session`; no CORS headers are ever
/// sent, so other origins cannot).
public struct CSRFToken: Sendable {
    public let value: String

    public init() {
        var rng = SystemRandomNumberGenerator()
        value = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
    }

    public init(value: String) { self.value = value }
}

struct RequestGuardMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: CSRFToken

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Reads too: a page elsewhere could time `<img src=…/api/art?ref=…>`
        // (load or error) to learn what is in the catalog, or make the
        // daemon run ffprobe and DHT lookups (issue 12). Browsers say where
        // a request comes from; only our own pages and the user (typing,
        // a bookmark, `matinee` opening the browser) may ask.
        if let site = request.headers[.secFetchSite], site == "cross-site" || site == "same-site" {
            return Self.refuse("\(site) request refused")
        }
        let method = request.method
        guard method != .get, method != .head else { return try await next(request, context) }
        let host = request.head.authority ?? ""
        if let origin = request.headers[.origin] {
            guard origin == "http://\(host)" else { return Self.refuse("cross-origin request refused") }
        } else if let site = request.headers[.secFetchSite] {
            guard site == "same-origin" || site == "none" else { return Self.refuse("cross-site request refused") }
        }
        guard let sent = request.headers[.csrfToken], constantTimeEqual(sent, token.value) else {
            return Self.refuse("missing or wrong X-Matinee-CSRF token")
        }
        return try await next(request, context)
    }

    static func refuse(_ message: String) -> Response {
        let body = (try? JSONEncoder().encode(["error": message])) ?? Data()
        return Response(
            status: .forbidden, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

}

/// Compares secrets without leaking, through timing, how much of them matched.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<x.count { diff |= x[i] ^ y[i] }
    return diff == 0
}

extension HTTPField.Name {
    static let secFetchSite = Self("Sec-Fetch-Site")!
    static let csrfToken = Self("X-Matinee-CSRF")!
}
