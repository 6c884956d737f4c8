import Foundation

/// The one check that a path stays under a folder once symlinks are
/// followed: a file served, read or trusted (artwork, subtitles, a stream's
/// file, a catalog's references) must not resolve outside the folder it
/// belongs to, whatever a hostile catalog or a planted symlink says.
public enum ContainedPath {
    /// `path` with every symlink resolved, if it lies strictly under `root`
    /// (also resolved); nil otherwise.
    public static func resolve(_ path: String, under root: String) -> String? {
        let base = URL(fileURLWithPath: root).resolvingSymlinksInPath().path
        let full = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let prefix = base.hasSuffix("/") ? base : base + "/"
        return full.hasPrefix(prefix) && full.count > prefix.count ? full : nil
    }
}
