import TorrentKit

extension PrivateDHT {
    /// A libtorrent session on 127.0.0.1 that bootstraps from these nodes,
    /// returned once its routing table holds one (or after 10 s).
    public func session() async throws -> TorrentSession {
        var c = SessionConfiguration()
        c.listenInterfaces = [HostPort(host: "127.0.0.1", port: 0)]
        c.dhtNodes = nodes.compactMap(HostPort.init)
        let s = try await TorrentSession.start(c)
        for _ in 0..<100 where await s.dhtNodeCount() == 0 { try await Task.sleep(for: .milliseconds(100)) }
        return s
    }
}
