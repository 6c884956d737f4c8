import CLibtorrent

/// One connected peer, as values (for the per-peer view).
public struct PeerInfo: Codable, Sendable, Equatable {
    /// "host:port" ("[v6]:port" for IPv6).
    public var address: String
    /// What the peer says it runs: its own words, shortened and stripped of
    /// control characters.
    public var client: String
    /// Payload bytes per second from it and to it.
    public var downloadRate: Int
    public var uploadRate: Int
    /// 0...1 of the torrent it has.
    public var progress: Double
    public var isSeed: Bool
    public var encrypted: Bool
    /// "tcp" or "utp".
    public var transport: String
    /// It connected to us (rather than we to it).
    public var incoming: Bool

    init(_ p: mt_peer) {
        address = HostPort(host: p.address.map { String(cString: $0) } ?? "", port: Int(p.port)).description
        let said = p.client.map { String(cString: $0) } ?? ""
        let printable = said.unicodeScalars.filter {
            $0.value >= 0x20 && !(0x7F...0x9F).contains($0.value) && $0.properties.generalCategory != .format
        }
        client = String(String(String.UnicodeScalarView(printable)).prefix(64))
        downloadRate = Int(p.download_rate)
        uploadRate = Int(p.upload_rate)
        progress = Double(p.progress)
        isSeed = p.seed
        encrypted = p.encrypted
        transport = p.utp ? "utp" : "tcp"
        incoming = p.incoming
    }
}

extension Torrent {
    /// The peers connected now (a round trip to libtorrent, on the engine queue).
    public func connectedPeers() async -> [PeerInfo] {
        let h = handle
        return await engine.run {
            var raw: UnsafeMutablePointer<mt_peer>?
            let n = mt_torrent_peers(h.raw, &raw)
            defer { mt_peers_free(raw, n) }
            guard let raw else { return [] }
            return (0..<n).map { PeerInfo(raw[$0]) }
        }
    }
}
