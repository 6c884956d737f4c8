/// Checks the file paths a torrent's raw info dictionary names, before
/// libtorrent sees them. libtorrent quietly rewrites `..` and absolute paths;
/// Matinee refuses such a torrent outright, because its author meant harm.
public enum TorrentPathCheck {
    /// Throws `.unsafePath` naming the first bad path in the bencoded info dictionary.
    public static func validate(infoDictionary raw: [UInt8]) throws {
        let info: Bencode
        do {
            info = try Bencode.decode(raw)
        } catch {
            throw EngineError(.invalidTorrent, "the torrent's info dictionary is not valid bencode (\(error))")
        }
        guard case .dict = info else { throw EngineError(.invalidTorrent, "the torrent's info section is not a dictionary") }
        let name = info["name.utf-8"]?.string ?? info["name"]?.string
        if let name { try check(component: name, in: [name]) }
        try refuseSymlink(info, [name ?? ""])
        if case let .list(files)? = info["files"] {
            for f in files {
                let p = f["path.utf-8"] ?? f["path"]
                guard case let .list(parts)? = p, !parts.isEmpty else {
                    throw EngineError(.invalidTorrent, "a file in the torrent has no path")
                }
                let strings = parts.map { $0.string ?? "\u{FFFD}" }
                for s in strings { try check(component: s, in: strings) }
                try refuseSymlink(f, strings)
            }
        }
        if let tree = info["file tree"] { try walk(tree, path: [], depth: 0) }
    }

    private static func walk(_ node: Bencode, path: [String], depth: Int) throws {
        guard depth < 64, case let .dict(entries) = node else { return }
        for e in entries {
            if e.key.isEmpty {
                try refuseSymlink(e.value, path)
                continue
            }
            let comp = String(decoding: e.key, as: UTF8.self)
            try check(component: comp, in: path + [comp])
            try walk(e.value, path: path + [comp], depth: depth + 1)
        }
    }

    /// BEP 47 symbolic links: libtorrent would create them on disk, pointing
    /// wherever the torrent's author chose. Matinee never needs one.
    private static func refuseSymlink(_ entry: Bencode, _ path: [String]) throws {
        let attr = entry["attr"]?.string ?? ""
        if attr.contains("l") || entry["symlink path"] != nil {
            let shown = path.joined(separator: "/").unicodeScalars.map { $0.value >= 32 ? String($0) : "?" }.joined()
            throw EngineError(.unsafePath, "refusing torrent: \"\(shown)\" is a symbolic link")
        }
    }

    /// A single path component is safe if it names one entry inside its folder.
    public static func isSafe(component c: String) -> Bool {
        !(c.isEmpty || c == "." || c == ".." || c.contains("/") || c.contains("\\") || c.contains("\0"))
    }

    private static func check(component c: String, in path: [String]) throws {
        guard isSafe(component: c) else {
            let shown = path.joined(separator: "/").unicodeScalars.map { $0.properties.isWhitespace || $0.value >= 32 ? String($0) : "?" }
                .joined()
            throw EngineError(.unsafePath, "refusing torrent: file path \"\(shown)\" would leave the download folder")
        }
    }
}
