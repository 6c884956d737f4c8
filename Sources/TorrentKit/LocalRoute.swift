import Foundation

/// Which of this machine's addresses the kernel would use to reach a host.
///
/// libtorrent runs one DHT node per listen socket, binds each socket to its
/// interface, and gives none to sockets it deems "local network" (loopback,
/// and any interface without a route to the internet, such as a veth or a
/// LAN without a gateway). With the default listen interfaces, a private DHT
/// reached over such an interface (`--dht-node 127.0.0.1:P`, a LAN party's
/// node) is then unreachable: every DHT node sits on another interface. An
/// address named explicitly in `listen_interfaces` gets a DHT node of its
/// own, so the session listens on the address that routes to each bootstrap
/// node as well.
enum LocalRoute {
    /// The local address (no port) a UDP packet to `node` would leave from,
    /// nil if there is no route or the name does not resolve. Connecting a
    /// UDP socket sends nothing; it only asks the kernel for a route.
    /// Blocking (a host name is resolved): call it off the concurrency pool.
    static func sourceAddress(toward node: HostPort) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(node.host, String(node.port), &hints, &list) == 0, let list else { return nil }
        defer { freeaddrinfo(list) }
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let e = entry {
            defer { entry = e.pointee.ai_next }
            let fd = socket(e.pointee.ai_family, Int32(SOCK_DGRAM.rawValue), 0)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            guard connect(fd, e.pointee.ai_addr, e.pointee.ai_addrlen) == 0 else { continue }
            var local = sockaddr_storage()
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let ok = withUnsafeMutablePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) == 0 }
            }
            guard ok, let text = numericHost(&local, len) else { continue }
            // A link-local IPv6 source needs a scope libtorrent's syntax has no room for.
            if text.lowercased().hasPrefix("fe80:") { continue }
            return text
        }
        return nil
    }

    private static func numericHost(_ address: inout sockaddr_storage, _ len: socklen_t) -> String? {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, len, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST)
            }
        }
        return rc == 0 ? String(cString: host) : nil
    }
}
