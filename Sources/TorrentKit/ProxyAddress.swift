import Foundation
import Synchronization

/// A SOCKS5 proxy for peer, DHT and tracker traffic, as people write it:
/// `socks5://HOST:PORT` or `socks5://USER:PASSWORD@HOST:PORT` (user and
/// password percent-encoded where they hold `:`, `@` or `/`). `socks5h://`
/// is taken too: libtorrent always lets the proxy resolve host names.
public struct ProxyAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?

    public init(host: String, port: Int, username: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
    }

    /// Why `text` is not a proxy address, in words; nil when it is one.
    public static func problem(_ text: String) -> String? {
        switch parse(text) {
        case .success: nil
        case .failure(let reason): reason
        }
    }

    public init?(_ text: String) {
        guard case .success(let p) = Self.parse(text) else { return nil }
        self = p
    }

    private enum Parsed {
        case success(ProxyAddress)
        case failure(String)
    }

    private static func parse(_ raw: String) -> Parsed {
        let example = "socks5://HOST:PORT or socks5://USER:PASSWORD@HOST:PORT"
        if raw.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == " " }) {
            return .failure("the proxy address has a space or a control character in it (expected \(example))")
        }
        guard let sep = raw.range(of: "://") else { return .failure("the proxy address must look like \(example)") }
        let scheme = raw[..<sep.lowerBound].lowercased()
        guard scheme == "socks5" || scheme == "socks5h" else {
            return .failure("only SOCKS5 proxies are supported (\(example)), not \(scheme.isEmpty ? "that" : scheme)")
        }
        var rest = Substring(raw[sep.upperBound...])
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.contains("/"), !rest.contains("?"), !rest.contains("#") else {
            return .failure("the proxy address takes no path or query (expected \(example))")
        }
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let parts = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let u = String(parts[0]).removingPercentEncoding, !u.isEmpty,
                let p = (parts.count > 1 ? String(parts[1]) : "").removingPercentEncoding
            else {
                return .failure("the proxy's user name is empty or badly percent-encoded")
            }
            // RFC 1929: each at most 255 bytes.
            guard u.utf8.count <= 255, p.utf8.count <= 255 else {
                return .failure("the proxy's user name and password are at most 255 bytes each")
            }
            username = u
            password = p
        }
        guard let hp = HostPort(String(rest)), !hp.host.isEmpty else {
            return .failure("the proxy address needs a host and a port: \(example)")
        }
        guard (1...65535).contains(hp.port) else { return .failure("the proxy's port must be between 1 and 65535") }
        let hostOK = hp.host.unicodeScalars.allSatisfy {
            ($0.isASCII && (CharacterSet.alphanumerics.contains($0) || ".-:_".unicodeScalars.contains($0)))
        }
        guard hostOK else { return .failure("the proxy's host \"\(hp.host)\" is not a host name or an IP address") }
        return .success(ProxyAddress(host: hp.host, port: hp.port, username: username, password: password))
    }

    /// The address without the password, for logs and the UI.
    public var description: String {
        let hp = HostPort(host: host, port: port).description
        return username.map { "socks5://\($0)@\(hp)" } ?? "socks5://\(hp)"
    }

    /// The address as it is written to settings (password included).
    public var url: String {
        let hp = HostPort(host: host, port: port).description
        guard let username else { return "socks5://\(hp)" }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let u = username.addingPercentEncoding(withAllowedCharacters: allowed) ?? username
        let p = (password ?? "").addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        return "socks5://\(u):\(p)@\(hp)"
    }
}

/// What the session knows of its proxy's health: the last failure libtorrent
/// reported, until a peer is connected again (through the proxy, since
/// nothing else goes out while one is set).
final class ProxyHealth: Sendable {
    private let proxy: ProxyAddress?
    private let failure = Mutex<String?>(nil)

    init(proxy: ProxyAddress?) { self.proxy = proxy }

    func failed(_ detail: String) {
        guard let proxy else { return }
        failure.withLock { $0 = "cannot reach peers through the proxy \(proxy) (\(detail.lowercased())); nothing goes out without it" }
    }

    func connected() { failure.withLock { $0 = nil } }

    var trouble: String? { failure.withLock { $0 } }
}
