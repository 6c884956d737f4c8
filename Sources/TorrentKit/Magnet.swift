import CLibtorrent
import Foundation

/// Magnet links, read by libtorrent's own parser.
public enum Magnet {
    /// The torrent a magnet link names; throws `.invalidSource` if it is not one.
    public static func torrentID(of uri: String) throws -> TorrentID {
        let uri = normalized(uri)
        guard uri.hasPrefix("magnet:?") else { throw EngineError(.invalidSource, "not a magnet link: it must start with \"magnet:?\"") }
        var err = mt_error()
        var id = [UInt8](repeating: 0, count: 20)
        guard mt_parse_magnet(uri, &id, &err) == 0 else {
            throw EngineError(.invalidSource, "not a valid magnet link: \(String(cString: errorMessage(&err)))")
        }
        return TorrentID(bytes: id)!
    }

    /// The link with its scheme, parameter names and the `urn:...:` prefix
    /// of each exact topic in lower case, as libtorrent's parser wants them
    /// ("MAGNET:?XT=URN:BTIH:..." is the same link); values keep their case
    /// (a display name, a tracker URL, a base32 hash).
    public static func normalized(_ uri: String) -> String {
        guard uri.lowercased().hasPrefix("magnet:?") else { return uri }
        let pairs = uri.dropFirst("magnet:?".count).split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            guard let eq = pair.firstIndex(of: "=") else { return String(pair) }
            let key = pair[..<eq].lowercased()
            var value = String(pair[pair.index(after: eq)...])
            if key == "xt" || key.hasPrefix("xt.") {
                let parts = value.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                if parts.count == 3 { value = parts[0].lowercased() + ":" + parts[1].lowercased() + ":" + parts[2] }
            }
            return key + "=" + value
        }
        return "magnet:?" + pairs.joined(separator: "&")
    }

    /// The `x.pe` peer addresses a magnet link carries (BEP 9).
    public static func peerHints(in uri: String) -> [HostPort] {
        let uri = normalized(uri)
        guard let q = uri.firstIndex(of: "?") else { return [] }
        return uri[uri.index(after: q)...].split(separator: "&").compactMap { pair in
            guard pair.hasPrefix("x.pe=") else { return nil }
            return HostPort(String(pair.dropFirst(5)).removingPercentEncoding ?? "")
        }
    }
}
