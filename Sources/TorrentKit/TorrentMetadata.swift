import CLibtorrent

/// What a .torrent (or a magnet's fetched metadata) says: files, sizes, pieces.
public struct TorrentMetadata: Sendable, Equatable {
    public struct File: Sendable, Equatable {
        public let index: Int
        /// Relative to the download folder, '/' separated, as stored on disk.
        public let path: String
        public let size: Int64
        /// Byte offset of the file in the torrent's concatenated data.
        public let offset: Int64
        /// BEP 47 padding that aligns files to pieces; never shown or streamed.
        public let isPadding: Bool

        public var name: String { path.split(separator: "/").last.map(String.init) ?? path }

        public init(index: Int, path: String, size: Int64, offset: Int64, isPadding: Bool = false) {
            self.index = index
            self.path = path
            self.size = size
            self.offset = offset
            self.isPadding = isPadding
        }
    }

    public let id: TorrentID
    public let name: String
    public let pieceLength: Int
    public let pieceCount: Int
    public let totalSize: Int64
    public let files: [File]
    public let hasV1: Bool
    public let hasV2: Bool
    /// The full v2 (SHA-256) info-hash in hex, when the torrent has one.
    public let v2Hex: String?
    /// The raw bencoded info dictionary (what the info-hash is taken over).
    public let infoSection: [UInt8]

    /// Files a person can pick (not padding).
    public var visibleFiles: [File] { files.filter { !$0.isPadding } }

    /// Parses .torrent file bytes. Refuses garbage, oversized input and
    /// file paths that would leave the download folder.
    public init(torrentFile data: [UInt8]) throws {
        guard !data.isEmpty else { throw EngineError(.invalidTorrent, "the torrent file is empty") }
        guard data.count <= 32 << 20 else { throw EngineError(.invalidTorrent, "the torrent file is larger than 32 MiB") }
        var err = mt_error()
        let info = data.withUnsafeBufferPointer { mt_info_parse($0.baseAddress, $0.count, &err) }
        guard let info else { throw EngineError(.invalidTorrent, String(cString: errorMessage(&err))) }
        defer { mt_info_free(info) }
        try self.init(info: info)
        try TorrentPathCheck.validate(infoDictionary: infoSection)
    }

    /// Reads a parsed libtorrent info object. Internal: callers get values only.
    init(info: OpaquePointer) throws {
        var idBytes = [UInt8](repeating: 0, count: 20)
        mt_info_id(info, &idBytes)
        self.id = TorrentID(bytes: idBytes)!
        self.name = String(cString: mt_info_name(info))
        self.pieceLength = Int(mt_info_piece_length(info))
        self.pieceCount = Int(mt_info_num_pieces(info))
        self.totalSize = mt_info_total_size(info)
        self.hasV1 = mt_info_has_v1(info)
        self.hasV2 = mt_info_has_v2(info)
        var hex = [CChar](repeating: 0, count: 65)
        mt_info_v2_hex(info, &hex)
        let v2 = String(cString: hex)
        self.v2Hex = v2.isEmpty ? nil : v2
        var files = [File]()
        let n = Int(mt_info_num_files(info))
        files.reserveCapacity(n)
        for i in 0..<n {
            let cPath = mt_info_file_path(info, Int32(i))
            let path = cPath.map { String(cString: $0) } ?? ""
            mt_free(cPath)
            files.append(
                File(
                    index: i, path: path, size: mt_info_file_size(info, Int32(i)),
                    offset: mt_info_file_offset(info, Int32(i)), isPadding: mt_info_file_is_pad(info, Int32(i))))
        }
        self.files = files
        var len = 0
        let p = mt_info_info_section(info, &len)
        self.infoSection = p.map { Array(UnsafeBufferPointer(start: $0, count: len)) } ?? []
    }

    /// The magnet link for this torrent (v1 and v2 hashes where present).
    public func magnetLink(trackers: [String] = [], peers: [String] = []) -> String {
        var parts = [String]()
        if hasV1 { parts.append("xt=urn:btih:\(id.hex)") }
        if let v2Hex { parts.append("xt=urn:btmh:1220\(v2Hex)") }
        parts.append("dn=\(MagnetEscape.escape(name))")
        parts += trackers.map { "tr=\(MagnetEscape.escape($0))" }
        parts += peers.map { "x.pe=\(MagnetEscape.escape($0))" }
        return "magnet:?" + parts.joined(separator: "&")
    }
}

func errorMessage(_ err: inout mt_error) -> UnsafePointer<CChar> {
    withUnsafePointer(to: &err.message) { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
}

enum MagnetEscape {
    static func escape(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"), UInt8(ascii: ":"), UInt8(ascii: "/"):
                out.append(Character(Unicode.Scalar(b)))
            default:
                out += "%" + Hex.encode([b]).uppercased()
            }
        }
        return out
    }
}
