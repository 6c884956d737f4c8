import CLibtorrent
import Foundation

/// Magnet links, read by libtorrent's own parser.
public enum Magnet {
    /// The torrent a magnet link names; throws `.invalidSource` if it is not one.
    public static func torrentID(of uri: String) throws -> TorrentID {
        guard uri.hasPrefix("magnet:?") else { throw EngineError(.invalidSource, "not a magnet link: it must start with \"magnet:?\"") }
        var err = mt_error()
        var id = [UInt8](repeating: 0, count: 20)
        guard mt_parse_magnet(uri, &id, &err) == 0 else {
            throw EngineError(.invalidSource, "not a valid magnet link: \(String(cString: errorMessage(&err)))")
        }
        return TorrentID(bytes: id)!
    }

    /// The `x.pe` peer addresses a magnet link carries (BEP 9).
    public static func peerHints(in uri: String) -> [HostPort] {
        guard let q = uri.firstIndex(of: "?") else { return [] }
        return uri[uri.index(after: q)...].split(separator: "&").compactMap { pair in
            guard pair.hasPrefix("x.pe=") else { return nil }
            return HostPort(String(pair.dropFirst(5)).removingPercentEncoding ?? "")
        }
    }
}
