import Catalog
import Foundation
import Server
import TorrentKit
import Updates

/// Every parser that takes bytes from strangers, as fuzz targets. Each
/// takes one input and returns what it found wrong (an invariant broken);
/// a crash or a sanitizer report is a finding too. `matinee-fuzz` runs them
/// under libFuzzer (scripts/fuzz); `FuzzTests` replays the committed corpus
/// (Fuzz/corpus) in the README's test command, so a regression shows.
public enum FuzzTargets {
    public static let names = ["bencode", "torrent", "magnet", "channel", "catalog", "subtitles", "range", "dht-value"]

    /// Runs target `name` on `input`; nil for an unknown name.
    public static func run(_ name: String, _ input: [UInt8]) -> [String]? {
        switch name {
        case "bencode": return bencode(input)
        case "torrent": return torrent(input)
        case "magnet": return magnet(input)
        case "channel": return channel(input)
        case "catalog": return catalog(input)
        case "subtitles": return subtitles(input)
        case "range": return range(input)
        case "dht-value": return dhtValue(input)
        default: return nil
        }
    }

    /// Bencode: the encoding of what decodes is canonical (keys sorted), so
    /// it decodes to a value that encodes to the same bytes again. (The
    /// decoder takes keys in any order; the first
    /// finding was that, with an invariant that wanted the order kept.)
    static func bencode(_ input: [UInt8]) -> [String] {
        guard let v = try? Bencode.decode(input) else { return [] }
        let canonical = v.encoded()
        guard let again = try? Bencode.decode(canonical) else { return ["its own encoding does not decode"] }
        return again.encoded() == canonical ? [] : ["encoding is not stable"]
    }

    /// A .torrent file: the path check on its info dictionary, then the
    /// whole reading (libtorrent's parser, the piece-layer check, ours).
    static func torrent(_ input: [UInt8]) -> [String] {
        if let v = try? Bencode.decode(input), let info = v["info"] {
            try? TorrentPathCheck.validate(infoDictionary: info.encoded())
        }
        guard let meta = try? TorrentMetadata(torrentFile: input) else { return [] }
        var problems: [String] = []
        for f in meta.files where !f.isPadding {
            if f.path.hasPrefix("/") || f.path.split(separator: "/").contains("..") { problems.append("unsafe path accepted: \(f.path)") }
        }
        return problems
    }

    /// Magnet links: the same link in any case names the same torrent.
    static func magnet(_ input: [UInt8]) -> [String] {
        let text = String(decoding: input, as: UTF8.self)
        _ = Magnet.peerHints(in: text)
        let id = try? Magnet.torrentID(of: text)
        let normalized = try? Magnet.torrentID(of: Magnet.normalized(text))
        return id == nil || id == normalized ? [] : ["normalizing changed the torrent: \(text)"]
    }

    /// Channel addresses: what parses prints back to the same address.
    static func channel(_ input: [UInt8]) -> [String] {
        guard let a = ChannelAddress(String(decoding: input, as: UTF8.self)) else { return [] }
        return ChannelAddress(a.description) == a ? [] : ["address does not survive printing: \(a)"]
    }

    /// Catalog documents: decoding and validation (no signature here).
    static func catalog(_ input: [UInt8]) -> [String] {
        guard let doc = try? CatalogDocument.decode(input) else { return [] }
        try? doc.validate(key: nil, sequence: nil)
        return []
    }

    /// SRT/WebVTT to WebVTT: no tag survives, and the output is WebVTT.
    static func subtitles(_ input: [UInt8]) -> [String] {
        guard let vtt = SubtitleConverter.webVTT(from: input) else { return [] }
        var problems: [String] = []
        if !vtt.hasPrefix("WEBVTT") { problems.append("output does not start with WEBVTT") }
        if vtt.contains("<") { problems.append("a tag survived: \(vtt.prefix(200))") }
        return problems
    }

    /// Range headers: the first 8 bytes are the file size, the rest the header.
    static func range(_ input: [UInt8]) -> [String] {
        guard input.count >= 8 else { return [] }
        let size = input.prefix(8).reduce(Int64(0)) { ($0 << 8) | Int64($1) } & Int64.max
        let header = String(decoding: input.dropFirst(8), as: UTF8.self)
        switch ByteRangeRequest(header: header, size: size) {
        case let .partial(r):
            return r.lowerBound >= 0 && r.upperBound <= size && !r.isEmpty ? [] : ["range \(r) outside 0..<\(size) for \(header)"]
        case .whole, .unsatisfiable: return []
        }
    }

    /// Values of DHT items: pointers, and the release documents they lead to.
    static func dhtValue(_ input: [UInt8]) -> [String] {
        _ = TorrentPointer.torrent(in: input)
        _ = try? ReleaseManifest.decode(input)
        _ = try? SignatureSet.decode(input)
        _ = try? ReleaseKeys.decode(input)
        return []
    }
}
