public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// SSDP (UPnP Device Architecture 1.1, §1.3): how renderers on the LAN are
/// found. A search is one multicast M-SEARCH per IPv4 interface; each device
/// that matches answers by unicast with the URL of its description.
public enum SSDP {
    public static let mediaRenderer = "urn:schemas-upnp-org:device:MediaRenderer:1"
    static let group = "239.255.255.250"
    static let port: UInt16 = 1900

    /// The M-SEARCH request. `mx`: seconds a device may wait before it answers.
    public static func searchRequest(target: String = mediaRenderer, mx: Int = 1) -> String {
        "M-SEARCH * HTTP/1.1\r\nHOST: \(group):\(port)\r\nMAN: \"ssdp:discover\"\r\nMX: \(mx)\r\nST: \(target)\r\n"
            + "USER-AGENT: Linux UPnP/1.1 Matinee/0.1\r\n\r\n"
    }

    /// A device's answer: its description's URL and its unique name. Nil
    /// for anything else (an M-SEARCH or NOTIFY from another searcher, an
    /// answer without a usable http LOCATION, or another device type).
    public struct Answer: Sendable, Hashable {
        public var location: URL
        public var usn: String
        public var searchTarget: String
    }

    public static func parseAnswer(_ text: String, target: String = mediaRenderer) -> Answer? {
        let lines = text.components(separatedBy: "\r\n").flatMap { $0.components(separatedBy: "\n") }
        guard let status = lines.first, status.uppercased().hasPrefix("HTTP/1.") && status.contains(" 200") else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).uppercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        guard let st = headers["ST"], st == target || target == "ssdp:all",
            let loc = headers["LOCATION"], loc.utf8.count <= 1024, let url = URL(string: loc),
            url.scheme?.lowercased() == "http", url.host != nil
        else { return nil }
        return Answer(location: url, usn: headers["USN"] ?? loc, searchTarget: st)
    }

    /// Searches every IPv4 interface but loopback for `timeout` and returns
    /// the distinct answers. Blocking: run it off Swift's concurrency threads
    /// (`search(timeout:)` does).
    static func searchBlocking(target: String, timeout: Double) -> [Answer] {
        let request = Array(searchRequest(target: target, mx: max(1, Int(timeout) - 1)).utf8)
        var found: [Answer] = []
        var seen = Set<String>()
        for datagram in Multicast.ask(request, group: group, port: port, timeout: timeout) {
            guard let answer = parseAnswer(String(decoding: datagram.bytes, as: UTF8.self), target: target) else { continue }
            if seen.insert(answer.usn).inserted { found.append(answer) }
        }
        return found
    }

    /// `searchBlocking` on a thread of its own.
    public static func search(target: String = mediaRenderer, timeout: Double = 2) async -> [Answer] {
        await withCheckedContinuation { c in
            Thread.detachNewThread { c.resume(returning: searchBlocking(target: target, timeout: timeout)) }
        }
    }
}

/// One question multicast on every IPv4 interface but loopback, and the
/// datagrams that come back to the asking socket (SSDP's unicast answers,
/// mDNS's legacy unicast ones) within `timeout` seconds. Blocking.
enum Multicast {
    static func ask(_ packet: [UInt8], group: String, port: UInt16, ttl: UInt8 = 2, timeout: Double) -> [(bytes: [UInt8], from: String)] {
        var sockets: [Int32] = []
        defer { for s in sockets { close(s) } }
        for address in LocalAddresses.ipv4() {
            let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            guard s >= 0 else { continue }
            sockets.append(s)
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(address)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { continue }
            // Out of this interface, whatever the routing table says (a
            // machine with several, or none with a default route).
            var interface = in_addr(s_addr: inet_addr(address))
            setsockopt(s, Int32(IPPROTO_IP), IP_MULTICAST_IF, &interface, socklen_t(MemoryLayout<in_addr>.size))
            var hops = ttl
            setsockopt(s, Int32(IPPROTO_IP), IP_MULTICAST_TTL, &hops, 1)
            var to = sockaddr_in()
            to.sin_family = sa_family_t(AF_INET)
            to.sin_addr.s_addr = inet_addr(group)
            to.sin_port = port.bigEndian
            // Twice: UDP may drop one (SSDP's spec suggests repeating).
            for _ in 0..<2 {
                _ = withUnsafePointer(to: &to) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(s, packet, packet.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
        }
        var got: [(bytes: [UInt8], from: String)] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 9000)
        while !sockets.isEmpty, got.count < 1024, case let left = deadline.timeIntervalSinceNow, left > 0 {
            var fds = sockets.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(left * 1000))
            guard ready > 0 else { continue }
            for f in fds where f.revents & Int16(POLLIN) != 0 {
                var from = sockaddr_in()
                var length = socklen_t(MemoryLayout<sockaddr_in>.size)
                let n = withUnsafeMutablePointer(to: &from) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(f.fd, &buffer, buffer.count, 0, $0, &length) }
                }
                guard n > 0 else { continue }
                var addr = from.sin_addr
                var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
                inet_ntop(AF_INET, &addr, &text, socklen_t(INET_ADDRSTRLEN))
                got.append((Array(buffer[0..<n]), String(cString: text)))
            }
        }
        return got
    }
}

/// This machine's addresses, for searching and for choosing the one a
/// renderer can reach.
public enum LocalAddresses {
    /// IPv4 addresses of interfaces that are up, loopback left out, with
    /// their netmasks.
    public static func ipv4WithMasks() -> [(address: String, mask: String)] {
        var out: [(String, String)] = []
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var p: UnsafeMutablePointer<ifaddrs>? = first
        while let a = p {
            defer { p = a.pointee.ifa_next }
            let flags = Int32(a.pointee.ifa_flags)
            guard flags & Int32(IFF_UP) != 0, flags & Int32(IFF_LOOPBACK) == 0, let sa = a.pointee.ifa_addr,
                sa.pointee.sa_family == sa_family_t(AF_INET), let mask = a.pointee.ifa_netmask
            else { continue }
            out.append((text(sa), text(mask)))
        }
        return out
    }

    public static func ipv4() -> [String] { ipv4WithMasks().map(\.address) }

    /// The local address on the same subnet as `host` (an IPv4 address), or nil.
    public static func facing(_ host: String) -> String? {
        let h = inet_addr(host)
        guard h != INADDR_NONE else { return nil }
        return ipv4WithMasks().first { a in
            let m = inet_addr(a.mask)
            return inet_addr(a.address) & m == h & m
        }?.address
    }

    private static func text(_ sa: UnsafeMutablePointer<sockaddr>) -> String {
        sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
            var addr = sin.pointee.sin_addr
            var buffer = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            inet_ntop(AF_INET, &addr, &buffer, socklen_t(INET_ADDRSTRLEN))
            return String(cString: buffer)
        }
    }
}
