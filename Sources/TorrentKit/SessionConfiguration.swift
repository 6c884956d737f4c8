import Foundation

/// How the engine is set up. The defaults are what a user expects of a
/// well-behaved client: DHT, PEX, LSD and incoming uTP on, encryption
/// preferred; outgoing connections over TCP (see `outgoingUTP`).
public struct SessionConfiguration: Sendable {
    public enum Encryption: String, Sendable, CaseIterable {
        /// Encrypted connections first, plaintext accepted from peers that need it.
        case prefer
        /// Only encrypted connections, both ways.
        case require
    }

    /// "HOST:PORT" entries; nil listens on every interface at libtorrent's default port.
    public var listenInterfaces: [HostPort]?
    /// Bootstrap the DHT from these nodes instead of the public routers
    /// (a private DHT). Nil: the public routers.
    public var dhtNodes: [HostPort]?
    public var enableDHT = true
    public var enableLSD = true
    public var enableUPnP = true
    /// Open connections over uTP too. Off: uTP links to Transmission 3.00
    /// stalled for good (handshake done, no data, reconnects timing out)
    /// in about one run in fifteen on a loaded machine, and a stream is
    /// the one thing that must not stall. Peers still reach us over uTP.
    public var outgoingUTP = false
    public var encryption: Encryption = .prefer
    /// Bytes per second over all torrents; 0 means unlimited.
    public var uploadRateLimit = 0
    public var downloadRateLimit = 0
    /// libtorrent exempts peers on local networks (and loopback) from rate
    /// limits; true applies the limits to them too.
    public var limitLocalPeers = false
    /// Local addresses that reach the private DHT's bootstrap nodes, listened
    /// on besides every interface when the listen interfaces are the
    /// wildcards (see `LocalRoute`). `TorrentSession.start` fills it.
    var dhtRouteAddresses: [String] = []
    /// Saved session state (the DHT routing table among it).
    public var savedState: [UInt8]?
    /// Several peers on one IP: needed when a test swarm lives on 127.0.0.1.
    public var allowMultipleConnectionsPerIP = true
    public var userAgent = "Matinee/0.1"
    /// Peer, web seed, DHT and tracker traffic through this SOCKS5 proxy.
    /// libtorrent 2.0 then accepts no incoming connection (it has no SOCKS5
    /// BIND), sends UDP (DHT, uTP, UDP trackers) only through the proxy's
    /// UDP tunnel or not at all, and lets the proxy resolve host names; LSD,
    /// UPnP and NAT-PMP are turned off here as well.
    public var proxy: ProxyAddress?
    /// With `proxy`: not even a name lookup goes out directly (the public
    /// DHT routers are host names, so the DHT starts from the saved routing
    /// table and the nodes given).
    public var proxyOnly = false
    /// Tell peers and trackers nothing of the client: no name or version in
    /// the extension handshake or the tracker's User-Agent, a peer id
    /// without libtorrent's fingerprint.
    public var anonymousMode = false

    public init() {}

    /// libtorrent's listen port when none is given (it tries the next ones
    /// if it is taken).
    static let defaultPort = 6881

    /// Every interface at one port ("0.0.0.0:P", "[::]:P"): libtorrent
    /// expands these to each local address.
    static func isWildcard(_ listen: [HostPort]) -> Bool {
        !listen.isEmpty && listen.allSatisfy { ["0.0.0.0", "::", "[::]"].contains($0.host) && $0.port == listen[0].port }
    }

    /// The DHT nodes kept in `savedState`. libtorrent 2.0.8 bootstraps from
    /// them only on listen sockets that are already open when the DHT starts,
    /// and with an explicit listen address they are not: the saved table would
    /// be dropped. TorrentSession adds them itself once it listens.
    public var savedDHTNodes: [HostPort] { savedState.map(Self.dhtNodes(inState:)) ?? [] }

    /// The routing table's nodes in a saved session state.
    static func dhtNodes(inState savedState: [UInt8]) -> [HostPort] {
        guard let root = try? Bencode.decode(savedState), let dht = root["dht state"] else { return [] }
        var out: [HostPort] = []
        if case let .list(items) = dht["nodes"] {
            for case let .bytes(b) in items where b.count == 6 {
                out.append(HostPort(host: "\(b[0]).\(b[1]).\(b[2]).\(b[3])", port: Int(b[4]) << 8 | Int(b[5])))
            }
        }
        if case let .list(items) = dht["nodes6"] {
            for case let .bytes(b) in items where b.count == 18 {
                let groups = stride(from: 0, to: 16, by: 2).map { String(Int(b[$0]) << 8 | Int(b[$0 + 1]), radix: 16) }
                out.append(HostPort(host: groups.joined(separator: ":"), port: Int(b[16]) << 8 | Int(b[17])))
            }
        }
        return out
    }

    /// The libtorrent settings this configuration stands for.
    var settings: [(String, SettingValue)] {
        var s: [(String, SettingValue)] = [
            ("user_agent", .string(userAgent)),
            ("enable_dht", .bool(enableDHT)),
            ("enable_lsd", .bool(enableLSD && dhtNodes == nil)),
            ("enable_upnp", .bool(enableUPnP && dhtNodes == nil && listenInterfaces == nil)),
            ("enable_natpmp", .bool(enableUPnP && dhtNodes == nil && listenInterfaces == nil)),
            ("enable_incoming_utp", .bool(true)),
            ("enable_outgoing_utp", .bool(outgoingUTP)),
            ("allow_multiple_connections_per_ip", .bool(allowMultipleConnectionsPerIP)),
            ("upload_rate_limit", .int(uploadRateLimit)),
            ("download_rate_limit", .int(downloadRateLimit)),
            // Streaming torrents are never queued behind others.
            ("active_downloads", .int(-1)),
            ("active_seeds", .int(-1)),
            ("active_limit", .int(-1)),
            ("prefer_rc4", .bool(true)),
            // A streaming torrent wants nothing until a file is picked: it is
            // "finished" as its metadata arrives, and libtorrent would close its
            // connections to seeds and not retry them for a minute.
            ("close_redundant_connections", .bool(false)),
            ("allowed_enc_level", .int(3)),
            // A peer whose connection dropped is tried again after this many
            // seconds times (failures + 1); libtorrent's 60 s stalls a stream
            // whose only seeder dropped the connection once.
            ("min_reconnect_time", .int(3)),
            // Until a torrent has this many pieces libtorrent picks at random
            // across the whole torrent, ignoring priorities (piece_picker.cpp):
            // a stream's first requests went to the tail and to the far end of
            // the window instead of the bytes a reader waits for.
            ("initial_picker_threshold", .int(0)),
            // A peer that could send a piece within this many seconds is given
            // runs of whole pieces (up to 8 MiB), unless deadlines are set
            // (request_blocks.cpp). In sequential mode that had each of four
            // seeders fetching its own run of 8 pieces, so the piece a player
            // needed next came at a quarter of the swarm's rate; 0 turns it
            // off, and every peer takes the next free blocks in order.
            ("whole_pieces_threshold", .int(0)),
        ]
        if let proxy {
            let withPassword = proxy.username != nil
            s += [
                ("proxy_type", .int(withPassword ? 3 : 2)),  // socks5_pw : socks5
                ("proxy_hostname", .string(proxy.host)),
                ("proxy_port", .int(proxy.port)),
                ("proxy_username", .string(proxy.username ?? "")),
                ("proxy_password", .string(proxy.password ?? "")),
                ("proxy_hostnames", .bool(true)),
                ("proxy_peer_connections", .bool(true)),
                ("proxy_tracker_connections", .bool(true)),
                // libtorrent skips these on a proxy's socket; off all the
                // same, should that ever change.
                ("enable_lsd", .bool(false)),
                ("enable_upnp", .bool(false)),
                ("enable_natpmp", .bool(false)),
                ("enable_outgoing_utp", .bool(false)),
            ]
            if proxyOnly && dhtNodes == nil { s.append(("dht_bootstrap_nodes", .string(""))) }
        }
        if anonymousMode {
            s += [("anonymous_mode", .bool(true)), ("user_agent", .string("")), ("peer_fingerprint", .string(""))]
        }
        let policy = encryption == .require ? 0 : 1  // pe_forced : pe_enabled
        s += [("out_enc_policy", .int(policy)), ("in_enc_policy", .int(policy))]
        // libtorrent's default interfaces are the wildcards at its default port.
        let listen = listenInterfaces ?? [HostPort(host: "0.0.0.0", port: Self.defaultPort), HostPort(host: "::", port: Self.defaultPort)]
        var entries = listen.map(\.description)
        if Self.isWildcard(listen) {
            // Plus each address that routes to a bootstrap node, at the same
            // port: an address named explicitly replaces the one the wildcard
            // would expand to, and gets a DHT node even on loopback or an
            // interface with no route to the internet (see LocalRoute).
            entries += dhtRouteAddresses.map { HostPort(host: $0, port: listen[0].port).description }
        }
        if listenInterfaces != nil || entries.count > listen.count {
            s.append(("listen_interfaces", .string(entries.joined(separator: ","))))
        }
        if listenInterfaces != nil {
            // An explicit port is a promise: fail rather than quietly take the next one.
            s.append(("max_retry_port_bind", .int(0)))
            // ...nor fall back to a port the OS picks (libtorrent's default).
            s.append(("listen_system_port_fallback", .bool(false)))
        }
        if dhtNodes != nil {
            // A private DHT (tests, a LAN): no public routers, and the loopback
            // relaxations from docs/libtorrent.md.
            s += [
                // Not as bootstrap routers: libtorrent never puts those in its
                // routing table. TorrentSession adds each with add_dht_node.
                ("dht_bootstrap_nodes", .string("")),
                ("dht_restrict_routing_ips", .bool(false)),
                ("dht_restrict_search_ips", .bool(false)),
                ("dht_block_ratelimit", .int(100_000)),
            ]
        }
        return s
    }
}

enum SettingValue: Sendable {
    case string(String), int(Int), bool(Bool)
}

/// A "host:port" pair; IPv6 hosts are written in brackets.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses "127.0.0.1:6881", "[::1]:6881" or "localhost:6881".
    public init?(_ text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        var host: Substring
        var portText: Substring
        if t.hasPrefix("[") {
            guard let close = t.firstIndex(of: "]"), t[t.index(after: close)...].hasPrefix(":") else { return nil }
            host = t[t.index(after: t.startIndex)..<close]
            portText = t[t.index(close, offsetBy: 2)...]
        } else {
            guard let colon = t.lastIndex(of: ":") else { return nil }
            host = t[..<colon]
            portText = t[t.index(after: colon)...]
            if host.contains(":") { return nil }
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else { return nil }
        self.host = String(host)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
