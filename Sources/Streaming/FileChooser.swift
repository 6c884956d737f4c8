import Foundation
public import TorrentKit

/// Picks the file to play from a torrent: by index, by name, or the largest video.
public enum FileChooser {
    /// `selector` is a file index, a path as `--list` shows it, or a file name;
    /// nil picks the largest video file (or the largest file if none looks like video).
    public static func choose(_ meta: TorrentMetadata, selector: String?) throws -> TorrentMetadata.File {
        let files = meta.visibleFiles
        guard !files.isEmpty else { throw EngineError(.notFound, "the torrent has no files") }
        guard let selector else {
            let videos = files.filter { MediaType.isVideo($0.name) }
            return (videos.isEmpty ? files : videos).max { $0.size < $1.size }!
        }
        if let index = Int(selector) {
            guard let f = files.first(where: { $0.index == index }) else {
                throw EngineError(.notFound, "no file \(index) in this torrent (see --list for its \(files.count) files)")
            }
            return f
        }
        // Names arrive in any Unicode normalization: compare them in one form.
        let wanted = selector.precomposedStringWithCanonicalMapping
        let full = meta.name + "/"
        if let f = files.first(where: { norm($0.path) == wanted || norm($0.path) == norm(full) + wanted }) { return f }
        let byName = files.filter { norm($0.name) == wanted }
        if byName.count == 1 { return byName[0] }
        if byName.count > 1 {
            throw EngineError(.notFound, "\(byName.count) files are named \"\(selector)\": give the path or the index (see --list)")
        }
        throw EngineError(.notFound, "no file named \"\(selector)\" in this torrent (see --list)")
    }

    private static func norm(_ s: String) -> String { s.precomposedStringWithCanonicalMapping }
}
