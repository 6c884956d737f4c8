import Foundation
public import TorrentKit

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// What the user named: a magnet link, a .torrent file or URL, or an info-hash.
public struct ResolvedSource: Sendable {
    public let source: AddTorrentOptions.Source
    public let id: TorrentID
    /// Known up front for .torrent files; magnets learn it from peers.
    public let metadata: TorrentMetadata?
    /// The trackers and web seeds the torrent names are not contacted: it
    /// comes from a stranger's channel (see `CatalogSource`).
    public var ignoreNamedHosts = false

    public init(source: AddTorrentOptions.Source, id: TorrentID, metadata: TorrentMetadata?) {
        self.source = source
        self.id = id
        self.metadata = metadata
    }
}

public enum SourceResolver {
    public static let maxTorrentSize = 32 << 20

    /// `text` as the user typed it: a magnet link, an info-hash, an http(s)
    /// URL of a .torrent, or a .torrent file's path (read here: the caller's
    /// own file system). `fetchURLs` false: a URL is refused instead of
    /// fetched (the fetch would leave past a "proxy only" proxy).
    public static func resolve(_ text: String, fetchURLs: Bool = true) async throws -> ResolvedSource {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.lowercased().hasPrefix("magnet:") {
            let id: TorrentID
            do { id = try Magnet.torrentID(of: t) } catch let e as EngineError { throw DaemonError(e.message, badInput: true) }
            return ResolvedSource(source: .magnet(Magnet.normalized(t)), id: id, metadata: nil)
        }
        if let id = TorrentID(string: t), !FileManager.default.fileExists(atPath: t) {
            return ResolvedSource(source: .magnet("magnet:?xt=urn:btih:\(id.hex)"), id: id, metadata: nil)
        }
        let lower = t.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            guard fetchURLs else {
                throw DaemonError(
                    "\"proxy only\" is on, and Matinee does not fetch a .torrent URL itself (that would bypass the proxy): "
                        + "download the .torrent through your proxy and open the file, or use the magnet link", badInput: true)
            }
            return try fromTorrentBytes(try await download(t), name: t)
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: t, isDirectory: &isDir) else {
            throw DaemonError("\"\(text)\" is not a magnet link, an info-hash, a URL or an existing .torrent file", badInput: true)
        }
        guard !isDir.boolValue else { throw DaemonError("\(t) is a folder, not a .torrent file", badInput: true) }
        guard let bytes = Disk.read(t, limit: maxTorrentSize) else {
            throw DaemonError("cannot read \(t) (unreadable, or larger than 32 MiB)", badInput: true)
        }
        return try fromTorrentBytes(bytes, name: t)
    }

    /// A .torrent's bytes; `name` says where they came from, for errors.
    public static func fromTorrentBytes(_ bytes: [UInt8], name: String) throws -> ResolvedSource {
        do {
            let meta = try TorrentMetadata(torrentFile: bytes)
            return ResolvedSource(source: .torrentFile(bytes), id: meta.id, metadata: meta)
        } catch let e as EngineError {
            throw DaemonError("\(name): \(e.message)", badInput: true)
        }
    }

    private static func download(_ url: String) async throws -> [UInt8] {
        guard let u = URL(string: url) else { throw DaemonError("not a valid URL: \(url)") }
        var request = URLRequest(url: u, timeoutInterval: 30)
        request.setValue("application/x-bittorrent", forHTTPHeaderField: "Accept")
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw DaemonError("cannot download \(url): \(error.localizedDescription)")
        }
        if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
            throw DaemonError("cannot download \(url): HTTP \(http.statusCode)")
        }
        guard data.count <= maxTorrentSize else { throw DaemonError("\(url) is larger than 32 MiB: not a torrent file") }
        return Array(data)
    }
}
