import Foundation

/// Multicast DNS (RFC 6762) and DNS-SD (RFC 6763), as much as finding
/// Chromecasts takes: one PTR question for `_googlecast._tcp.local` sent to
/// 224.0.0.251:5353 from an ordinary port, which makes each device answer
/// by unicast to that port ("legacy unicast", §6.7) with its instance's PTR
/// and, as additional records, its SRV (port), TXT (name, model, id) and A.
public enum MDNS {
    public static let googlecast = "_googlecast._tcp.local"
    static let group = "224.0.0.251"
    static let port: UInt16 = 5353

    /// A standard query for the PTR records of `service`, with `id`.
    public static func query(_ service: String, id: UInt16) -> [UInt8] {
        var out: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in service.split(separator: ".") {
            let bytes = Array(label.utf8.prefix(63))
            out.append(UInt8(bytes.count))
            out += bytes
        }
        out += [0, 0, 12, 0, 1]  // end of name, type PTR, class IN
        return out
    }

    /// One resource record of an answer.
    public struct Record: Sendable, Equatable {
        public enum Data: Sendable, Equatable {
            case ptr(String)
            case srv(port: UInt16, target: String)
            case txt([String: String])
            case a(String)
            case other
        }
        public var name: String
        public var data: Data
    }

    /// The records of a response, or nil if it is not one (or is malformed).
    /// Hostile input from the LAN: every read is bounds-checked, compression
    /// pointers may only point backwards and at most 32 deep, and a packet
    /// has at most 256 records.
    public static func parse(_ packet: [UInt8]) -> [Record]? {
        var r = Reader(bytes: packet)
        guard let _ = r.u16(), let flags = r.u16(), flags & 0x8000 != 0, let qd = r.u16(), let an = r.u16(), let ns = r.u16(),
            let ar = r.u16(), Int(an) + Int(ns) + Int(ar) <= 256, qd <= 16
        else { return nil }
        for _ in 0..<qd {
            guard r.name() != nil, r.skip(4) else { return nil }
        }
        var records: [Record] = []
        for _ in 0..<(Int(an) + Int(ns) + Int(ar)) {
            guard let name = r.name(), let type = r.u16(), r.skip(2), r.skip(4), let length = r.u16() else { return nil }
            let end = r.at + Int(length)
            guard end <= packet.count else { return nil }
            var data = Record.Data.other
            switch type {
            case 12:
                guard let target = r.name() else { return nil }
                data = .ptr(target)
            case 33:
                guard r.skip(4), let port = r.u16(), let target = r.name() else { return nil }
                data = .srv(port: port, target: target)
            case 16:
                var entries: [String: String] = [:]
                while r.at < end {
                    guard let n = r.u8(), r.at + Int(n) <= end else { return nil }
                    let s = String(decoding: packet[r.at..<r.at + Int(n)], as: UTF8.self)
                    r.at += Int(n)
                    if let eq = s.firstIndex(of: "=") {
                        let key = s[..<eq].lowercased()
                        if entries[key] == nil { entries[key] = String(s[s.index(after: eq)...]) }
                    }
                }
                data = .txt(entries)
            case 1 where length == 4:
                data = .a(packet[r.at..<end].map(String.init).joined(separator: "."))
            default: break
            }
            r.at = end
            records.append(Record(name: name, data: data))
        }
        return records
    }

    /// The Cast devices a response describes, at `from` (the address the
    /// answer came from: a device names only its own host, so a record that
    /// points elsewhere cannot send Matinee to another machine).
    public static func chromecasts(in records: [Record], from: String) -> [Renderer] {
        let service = googlecast.lowercased()
        var out: [Renderer] = []
        for rec in records where rec.name.lowercased() == service {
            guard case .ptr(let instance) = rec.data else { continue }
            let key = instance.lowercased()
            var port: UInt16?
            var txt: [String: String] = [:]
            for rec in records where rec.name.lowercased() == key {
                switch rec.data {
                case .srv(let p, _): port = p
                case .txt(let t): txt = t
                default: break
                }
            }
            guard let port, port > 0, let location = URL(string: "cast://\(from):\(port)") else { continue }
            let id = txt["id"].map { Renderer.clean($0, fallback: "") } ?? ""
            let fallback = instance.split(separator: ".").first.map(String.init) ?? from
            out.append(
                Renderer(
                    kind: .chromecast, udn: "cast:" + (id.isEmpty ? "\(from):\(port)" : id),
                    name: Renderer.clean(txt["fn"] ?? "", fallback: fallback), model: Renderer.clean(txt["md"] ?? "", fallback: "Chromecast"),
                    location: location, avTransport: nil, renderingControl: nil))
        }
        return out
    }

    /// Asks every IPv4 interface for Chromecasts for `timeout` seconds.
    public static func findChromecasts(timeout: Double) async -> [Renderer] {
        await withCheckedContinuation { c in
            Thread.detachNewThread {
                let id = UInt16.random(in: 1...UInt16.max)
                var found: [Renderer] = []
                var seen = Set<String>()
                for d in Multicast.ask(query(googlecast, id: id), group: group, port: port, ttl: 255, timeout: timeout) {
                    // Legacy unicast answers echo the question's id.
                    guard d.bytes.count >= 2, UInt16(d.bytes[0]) << 8 | UInt16(d.bytes[1]) == id, let records = parse(d.bytes) else { continue }
                    for cast in chromecasts(in: records, from: d.from) where seen.insert(cast.udn).inserted { found.append(cast) }
                }
                c.resume(returning: found)
            }
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        var at = 0

        mutating func u8() -> UInt8? {
            guard at < bytes.count else { return nil }
            defer { at += 1 }
            return bytes[at]
        }

        mutating func u16() -> UInt16? {
            guard at + 2 <= bytes.count else { return nil }
            defer { at += 2 }
            return UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1])
        }

        mutating func skip(_ n: Int) -> Bool {
            guard at + n <= bytes.count else { return false }
            at += n
            return true
        }

        /// A (possibly compressed) name, dotted, without the final dot.
        mutating func name() -> String? {
            var labels: [String] = []
            var p = at
            var jumped = false
            var jumps = 0
            while true {
                guard p < bytes.count else { return nil }
                let len = Int(bytes[p])
                if len == 0 {
                    if !jumped { at = p + 1 }
                    break
                }
                if len & 0xC0 == 0xC0 {
                    guard p + 1 < bytes.count, jumps < 32 else { return nil }
                    let target = (len & 0x3F) << 8 | Int(bytes[p + 1])
                    guard target < p else { return nil }
                    if !jumped { at = p + 2 }
                    jumped = true
                    jumps += 1
                    p = target
                    continue
                }
                guard len <= 63, p + 1 + len <= bytes.count, labels.count < 128 else { return nil }
                labels.append(String(decoding: bytes[p + 1..<p + 1 + len], as: UTF8.self))
                p += 1 + len
            }
            return labels.joined(separator: ".")
        }
    }
}
