import Testing
@testable import TorrentKit

@Suite("SOCKS5 proxy addresses and the engine settings they make")
struct ProxyAddressTests {
    @Test("socks5 URLs with and without credentials, percent-encoded, IPv6; the password never in the description")
    func parses() throws {
        let plain = try #require(ProxyAddress("socks5://127.0.0.1:1080"))
        #expect(plain == ProxyAddress(host: "127.0.0.1", port: 1080))
        let withPassword = try #require(ProxyAddress("socks5h://viewer:pa%3Ass%40word@proxy.example:9050/"))
        #expect(withPassword == ProxyAddress(host: "proxy.example", port: 9050, username: "viewer", password: "pa:ss@word"))
        #expect(withPassword.description == "socks5://viewer@proxy.example:9050")
        #expect(ProxyAddress(withPassword.url) == withPassword)
        #expect(ProxyAddress("SOCKS5://[::1]:1080") == ProxyAddress(host: "::1", port: 1080))
    }

    @Test("anything else is one sentence saying what is wrong")
    func refuses() {
        let cases: [(String, String)] = [
            ("http://127.0.0.1:3128", "only SOCKS5 proxies are supported"),
            ("127.0.0.1:1080", "must look like socks5://"),
            ("socks5://127.0.0.1", "needs a host and a port"),
            ("socks5://127.0.0.1:0", "between 1 and 65535"),
            ("socks5://127.0.0.1:99999", "needs a host and a port"),
            ("socks5://:pw@127.0.0.1:1080", "user name is empty"),
            ("socks5://127.0.0.1:1080/path", "no path or query"),
            ("socks5://host name:1080", "a space or a control character"),
            ("socks5://127.0.0.1:1080\n", "a space or a control character"),
            ("socks5://ho$t:1080", "is not a host name or an IP address"),
            ("socks5://\(String(repeating: "u", count: 256)):p@h:1", "at most 255 bytes"),
        ]
        for (text, reason) in cases {
            #expect(ProxyAddress(text) == nil, "\(text)")
            #expect(ProxyAddress.problem(text)?.contains(reason) == true, "\(text): \(ProxyAddress.problem(text) ?? "accepted")")
        }
    }

    @Test("a proxy makes every kind of traffic go through it; proxy only drops the routers' host names; anonymous mode hides the client")
    func settings() {
        func dict(_ c: SessionConfiguration) -> [String: String] {
            Dictionary(c.settings.map { ($0.0, "\($0.1)") }, uniquingKeysWith: { _, last in last })
        }
        var c = SessionConfiguration()
        #expect(dict(c)["proxy_type"] == nil && dict(c)["anonymous_mode"] == nil)
        c.proxy = ProxyAddress(host: "127.0.0.1", port: 1080, username: "u", password: "p")
        var s = dict(c)
        #expect(s["proxy_type"] == "int(3)" && s["proxy_hostname"] == "string(\"127.0.0.1\")" && s["proxy_port"] == "int(1080)")
        #expect(s["proxy_username"] == "string(\"u\")" && s["proxy_password"] == "string(\"p\")")
        for key in ["proxy_hostnames", "proxy_peer_connections", "proxy_tracker_connections"] { #expect(s[key] == "bool(true)", "\(key)") }
        for key in ["enable_lsd", "enable_upnp", "enable_natpmp", "enable_outgoing_utp"] { #expect(s[key] == "bool(false)", "\(key)") }
        #expect(s["dht_bootstrap_nodes"] == nil, "the public routers stay without proxy only")
        c.proxy = ProxyAddress(host: "127.0.0.1", port: 1080)
        c.proxyOnly = true
        s = dict(c)
        #expect(s["proxy_type"] == "int(2)" && s["dht_bootstrap_nodes"] == "string(\"\")")
        c.anonymousMode = true
        s = dict(c)
        #expect(s["anonymous_mode"] == "bool(true)" && s["user_agent"] == "string(\"\")" && s["peer_fingerprint"] == "string(\"\")")
    }
}
