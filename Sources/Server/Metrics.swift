import CoreMetrics
import Foundation
import Hummingbird
import Prometheus

/// What `/metrics` reports, in Prometheus' text format: swift-metrics
/// counters, gauges and a timer, backed by swift-prometheus with a registry
/// of this server's own (never the process-wide bootstrap, so several
/// servers, in tests, each count their own).
public final class ServerMetrics: Sendable {
    /// Values read when `/metrics` is asked, from the engine and the streams.
    public struct Sample: Sendable {
        public var downloadRate = 0
        public var uploadRate = 0
        public var peers = 0
        public var torrents = 0
        public var streams = 0
        public var readers = 0
        public var stallRecoveries = 0
        /// Nodes in the DHT routing tables; nil when it could not be asked.
        public var dhtNodes: Int?
        public init() {}
    }

    private let registry = PrometheusCollectorRegistry()
    private let sample: @Sendable () async -> Sample
    private let hashFailures: CoreMetrics.Counter
    private let diskErrors: CoreMetrics.Counter
    private let bannedPeers: CoreMetrics.Counter
    /// From a stream request to its first byte sent.
    let firstByte: CoreMetrics.Timer
    private let gauges: [(@Sendable (Sample) -> Int, CoreMetrics.Gauge)]
    private let dhtNodes: CoreMetrics.Gauge

    /// A piece failed its hash check.
    public func hashFailed() { hashFailures.increment() }
    /// A read or write failed (a full disk among them).
    public func diskFailed() { diskErrors.increment() }
    /// A peer was banned for sending bad data.
    public func peerBanned() { bannedPeers.increment() }

    public init(sample: @escaping @Sendable () async -> Sample) {
        self.sample = sample
        let f = PrometheusMetricsFactory(registry: registry)
        hashFailures = Counter(label: "matinee_hash_failures_total", factory: f)
        diskErrors = Counter(label: "matinee_disk_errors_total", factory: f)
        bannedPeers = Counter(label: "matinee_peer_bans_total", factory: f)
        firstByte = Timer(label: "matinee_stream_first_byte_seconds", factory: f)
        gauges = [
            ({ $0.downloadRate }, Gauge(label: "matinee_download_bytes_per_second", factory: f)),
            ({ $0.uploadRate }, Gauge(label: "matinee_upload_bytes_per_second", factory: f)),
            ({ $0.peers }, Gauge(label: "matinee_peers", factory: f)),
            ({ $0.torrents }, Gauge(label: "matinee_torrents", factory: f)),
            ({ $0.streams }, Gauge(label: "matinee_streams", factory: f)),
            ({ $0.readers }, Gauge(label: "matinee_readers", factory: f)),
            ({ $0.stallRecoveries }, Gauge(label: "matinee_stall_recoveries", factory: f)),
        ]
        dhtNodes = Gauge(label: "matinee_dht_nodes", factory: f)
    }

    /// The text a Prometheus scraper reads, with the gauges read now.
    public func render() async -> String {
        let s = await sample()
        for (value, gauge) in gauges { gauge.record(value(s)) }
        if let n = s.dhtNodes { dhtNodes.record(n) }
        return registry.emitToString()
    }

    func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("/metrics") { _, _ in
            let text = await self.render()
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }
}
