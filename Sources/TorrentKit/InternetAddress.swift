/// Whether an address is on the internet rather than on this machine or a
/// network of its own: loopback, private (RFC 1918, RFC 4193), shared
/// (RFC 6598), link-local, documentation and benchmark ranges are not.
/// A DHT whose routing table holds no such node reaches no one beyond this
/// machine's networks: the machine is offline as far as a swarm is concerned.
public enum InternetAddress {
    public static func isPublic(_ host: String) -> Bool {
        let h = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if let v4 = ipv4(h) { return isPublic(v4) }
        let lower = h.lowercased()
        guard lower.contains(":") else { return false }  // a name, not an address
        if lower == "::1" || lower == "::" { return false }
        if lower.hasPrefix("::ffff:"), let v4 = ipv4(String(lower.dropFirst(7))) { return isPublic(v4) }
        let first = lower.split(separator: ":", omittingEmptySubsequences: false).first.flatMap { UInt16($0, radix: 16) } ?? 0
        if first & 0xffc0 == 0xfe80 { return false }  // link-local
        if first & 0xfe00 == 0xfc00 { return false }  // unique local
        if first == 0x2001, lower.hasPrefix("2001:db8:") || lower.hasPrefix("2001:0db8:") { return false }  // documentation
        return first & 0xe000 == 0x2000  // global unicast
    }

    private static func ipv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }

    private static func isPublic(_ a: [UInt8]) -> Bool {
        switch (a[0], a[1], a[2]) {
        case (0, _, _), (10, _, _), (127, _, _), (224...255, _, _): return false
        case (100, 64...127, _): return false  // shared address space
        case (169, 254, _): return false
        case (172, 16...31, _): return false
        case (192, 168, _): return false
        case (192, 0, 0), (192, 0, 2), (198, 51, 100), (203, 0, 113): return false  // protocol assignments, documentation
        case (198, 18...19, _): return false  // benchmarking
        default: return true
        }
    }
}
