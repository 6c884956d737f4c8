import Server
import Streaming
import TorrentKit

/// Feeds `/metrics` (`ServerMetrics`): gauges read from the engine and the
/// streams when asked, counters from the engine's alerts as they come.
enum Telemetry {
    static func metrics(runtime: EngineRuntime, hub: StreamHub) -> ServerMetrics {
        let session = runtime.session
        let metrics = ServerMetrics {
            var s = ServerMetrics.Sample()
            let torrents = session.torrents
            s.torrents = torrents.count
            for t in torrents {
                let st = t.latestStatus
                s.downloadRate += st.downloadRate
                s.uploadRate += st.uploadRate
                s.peers += st.peers
            }
            let streams = hub.streams
            s.streams = streams.count
            s.readers = streams.reduce(0) { $0 + $1.readerOffsets.count }
            s.stallRecoveries = hub.stallRecoveries
            s.dhtNodes = await session.dhtNodeCount(timeout: .seconds(1))
            return s
        }
        let alerts = session.alerts()
        Task.detached {
            for await a in alerts {
                switch a {
                case .hashFailed: metrics.hashFailed()
                case .fileError: metrics.diskFailed()
                case .peerBanned: metrics.peerBanned()
                default: break
                }
            }
        }
        return metrics
    }
}
