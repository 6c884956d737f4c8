import Testing

@testable import TorrentKit

@Suite("Addresses on the internet, and those that are not")
struct InternetAddressTests {
    @Test("loopback, private, shared, link-local, documentation and multicast are not the internet; the rest are")
    func ranges() {
        for host in [
            "127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "169.254.3.4", "192.0.2.2",
            "198.51.100.7", "203.0.113.9", "198.18.0.1", "0.0.0.0", "224.0.0.251", "::1", "::", "fe80::1", "fd00::2", "fc00::1",
            "2001:db8::1", "[::1]", "::ffff:127.0.0.1", "router.bittorrent.com", "1.2.3", "",
        ] {
            #expect(!InternetAddress.isPublic(host), "\(host)")
        }
        for host in ["8.8.8.8", "172.32.0.1", "100.128.0.1", "192.169.0.1", "2a00:1450:4001::1", "[2606:4700::1111]", "::ffff:1.1.1.1"] {
            #expect(InternetAddress.isPublic(host), "\(host)")
        }
    }

    @Test("a saved session state's routing table, read back")
    func savedNodes() {
        // {"dht state": {"nodes": [4 address bytes + port], "nodes6": [16 + 2]}}
        let v4: [UInt8] = [8, 8, 4, 4, 0x1a, 0xe1]
        let v6: [UInt8] = [0xfe, 0x80] + Array(repeating: 0, count: 13) + [1, 0x1a, 0xe1]
        let key = { (k: String) in Array(k.utf8) }
        let state = Bencode.dict([
            (key("dht state"), .dict([(key("nodes"), .list([.bytes(v4)])), (key("nodes6"), .list([.bytes(v6)]))]))
        ]).encoded()
        let nodes = SessionConfiguration.dhtNodes(inState: state)
        #expect(nodes.map(\.host) == ["8.8.4.4", "fe80:0:0:0:0:0:0:1"] && nodes.allSatisfy { $0.port == 6881 })
        #expect(nodes.filter { InternetAddress.isPublic($0.host) }.count == 1)
    }
}
