import Crypto
public import Foundation

/// Short-lived capability URLs for streams (docs/threat_model.md): a stream URL
/// carries `exp` (Unix seconds) and `cap`, an HMAC-SHA256 over the path and
/// the expiry under a key that lives only as long as this process. A web page
/// cannot make one, so it cannot play, probe or time what is in the library;
/// a URL handed to mpv or VLC stops working when it expires, and when
/// Matinee restarts.
public struct StreamCapability: Sendable {
    private let key: SymmetricKey
    /// How long a URL works: a long film with pauses, not a week.
    public var lifetime: Duration

    public init(lifetime: Duration = .seconds(8 * 3600)) {
        key = SymmetricKey(size: .bits256)
        self.lifetime = lifetime
    }

    /// `path` with `?exp=…&cap=…` (or `&exp=…` if it has a query already).
    public func sign(_ path: String, now: Date = Date()) -> String {
        let exp = Int64(now.timeIntervalSince1970) + lifetime.components.seconds
        let sep = path.contains("?") ? "&" : "?"
        return "\(path)\(sep)exp=\(exp)&cap=\(mac(Self.resource(path), exp))"
    }

    /// Whether `exp` and `cap` (query values) grant `path` now.
    public func allows(path: String, exp: String?, cap: String?, now: Date = Date()) -> Bool {
        guard let exp, let cap, let expiry = Int64(exp), expiry >= Int64(now.timeIntervalSince1970) else { return false }
        return constantTimeEqual(cap, mac(Self.resource(path), expiry))
    }

    /// What a capability names: the stream path without its query, so one
    /// capability covers `/stream/H/F` and `/transcode/H/F?start=…`, but no
    /// other file.
    static func resource(_ path: String) -> String {
        let bare = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        let parts = bare.split(separator: "/")
        guard parts.count == 3 else { return bare }
        return "\(parts[1].lowercased())/\(parts[2])"
    }

    private func mac(_ resource: String, _ exp: Int64) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data("matinee-stream-v1\n\(resource)\n\(exp)".utf8), using: key)
        return Data(code).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
