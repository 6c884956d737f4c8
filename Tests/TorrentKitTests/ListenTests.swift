import Testing

@testable import TorrentKit

/// Where the engine listens for a private DHT (see LocalRoute): libtorrent
/// gives no DHT node to loopback or to interfaces without a route to the
/// internet when it expands the wildcard interfaces.
@Suite("Listen interfaces for a private DHT")
struct ListenTests {
    @Test("the kernel's source address toward a loopback node is 127.0.0.1; toward a name that does not resolve, none")
    func routes() {
        #expect(LocalRoute.sourceAddress(toward: HostPort(host: "127.0.3.1", port: 6881)) == "127.0.0.1")
        #expect(LocalRoute.sourceAddress(toward: HostPort(host: "localhost", port: 6881)) != nil)
        #expect(LocalRoute.sourceAddress(toward: HostPort(host: "no-such-host.invalid", port: 6881)) == nil)
    }

    @Test("with the default interfaces, the address toward the DHT is listened on too, at the same port")
    func defaultInterfaces() {
        var c = SessionConfiguration()
        #expect(c.listenSetting == nil, "nothing set: libtorrent's own default")
        c.dhtRouteAddresses = ["127.0.0.1", "fd33::2"]
        #expect(c.listenSetting == "0.0.0.0:6881,[::]:6881,127.0.0.1:6881,[fd33::2]:6881")
        c.listenInterfaces = [HostPort(host: "0.0.0.0", port: 7000), HostPort(host: "::", port: 7000)]
        #expect(c.listenSetting == "0.0.0.0:7000,[::]:7000,127.0.0.1:7000,[fd33::2]:7000", "a saved peer port")
        c.listenInterfaces = [HostPort(host: "192.0.2.7", port: 0)]
        #expect(c.listenSetting == "192.0.2.7:0", "an explicit address is taken as it is")
    }
}

extension SessionConfiguration {
    fileprivate var listenSetting: String? {
        settings.first { $0.0 == "listen_interfaces" }.flatMap { if case let .string(v) = $0.1 { v } else { nil } }
    }
}
