import Foundation
import TorrentKit

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// What the user named: a magnet link, a .torrent file or URL, or an info-hash.
struct ResolvedSource {
    let source: AddTorrentOptions.Source
    let id: TorrentID
    /// Known up front for .torrent files; magnets learn it from peers.
    let metadata: TorrentMetadata?
    /// The trackers and web seeds the torrent names are not contacted: it
    /// comes from a stranger's channel (see `CatalogSource`).
    var ignoreNamedHosts = false
}

enum SourceResolver {
    static let maxTorrentSize = 32 << 20

    static func resolve(_ text: String) async throws -> ResolvedSource {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.lowercased().hasPrefix("magnet:") {
            let id = try Magnet.torrentID(of: t)
            return ResolvedSource(source: .magnet(t), id: id, metadata: nil)
        }
        if let id = TorrentID(string: t), !FileManager.default.fileExists(atPath: t) {
            return ResolvedSource(source: .magnet("magnet:?xt=urn:btih:\(id.hex)"), id: id, metadata: nil)
        }
        let lower = t.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            return try fromTorrentBytes(try await download(t), name: t)
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: t, isDirectory: &isDir) else {
            throw CLIError("\"\(text)\" is not a magnet link, an info-hash, a URL or an existing .torrent file")
        }
        guard !isDir.boolValue else { throw CLIError("\(t) is a folder, not a .torrent file") }
        guard let bytes = Disk.read(t, limit: maxTorrentSize) else {
            throw CLIError("cannot read \(t) (unreadable, or larger than 32 MiB)")
        }
        return try fromTorrentBytes(bytes, name: t)
    }

    private static func fromTorrentBytes(_ bytes: [UInt8], name: String) throws -> ResolvedSource {
        do {
            let meta = try TorrentMetadata(torrentFile: bytes)
            return ResolvedSource(source: .torrentFile(bytes), id: meta.id, metadata: meta)
        } catch let e as EngineError {
            throw CLIError("\(name): \(e.message)")
        }
    }

    private static func download(_ url: String) async throws -> [UInt8] {
        guard let u = URL(string: url) else { throw CLIError("not a valid URL: \(url)") }
        var request = URLRequest(url: u, timeoutInterval: 30)
        request.setValue("application/x-bittorrent", forHTTPHeaderField: "Accept")
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw CLIError("cannot download \(url): \(error.localizedDescription)")
        }
        if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
            throw CLIError("cannot download \(url): HTTP \(http.statusCode)")
        }
        guard data.count <= maxTorrentSize else { throw CLIError("\(url) is larger than 32 MiB: not a torrent file") }
        return Array(data)
    }
}
