public import Foundation
public import TorrentKit

/// Where Matinee keeps things. `MATINEE_HOME` puts everything in one folder;
/// otherwise state lives in the XDG data directory and downloads in the XDG
/// cache directory.
public struct Home: Sendable {
    /// Database, keys, resume data, session state.
    public let data: String
    /// Downloaded torrent data, unless `--download-dir` says otherwise.
    public let downloads: String

    public init(data: String, downloads: String) {
        self.data = data
        self.downloads = downloads
    }

    public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) -> Home {
        if let h = environment["MATINEE_HOME"], !h.isEmpty {
            let root = URL(fileURLWithPath: h).standardizedFileURL.path
            return Home(data: root, downloads: root + "/downloads")
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let data = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.local/share"
        let cache = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.cache"
        return Home(data: data + "/matinee", downloads: cache + "/matinee/downloads")
    }

    public var resumeDir: String { data + "/resume" }
    public var torrentsDir: String { data + "/torrents" }
    public var sessionStateFile: String { data + "/session.state" }
    /// Channel keys this user publishes with (0700 folder, 0600 files).
    public var keysDir: String { data + "/keys" }
    /// The catalog index (SQLite).
    public var catalogDatabase: String { data + "/catalog.sqlite" }
    /// Downloaded catalog torrents: <key hex>/<sequence>/matinee-catalog/.
    public var channelsDir: String { data + "/channels" }
    /// A publisher's work folder for one channel.
    public func publishedDir(_ keyHex: String) -> String { data + "/published/" + keyHex }

    /// What the Settings page saved.
    public var settingsFile: String { data + "/settings.json" }
    /// Written by a running daemon: its URL and token, for CLI commands.
    public var daemonFile: String { data + "/daemon.json" }
    /// Locked by the one engine this home may have (`HomeLock`).
    public var lockFile: String { data + "/engine.lock" }

    public func resumeFile(_ id: TorrentID) -> String { resumeDir + "/\(id.hex).resume" }
    /// Present while a run has the torrent open; left behind by a crash.
    public func dirtyMarker(_ id: TorrentID) -> String { resumeDir + "/\(id.hex).running" }
    public func torrentFile(_ id: TorrentID) -> String { torrentsDir + "/\(id.hex).torrent" }

    /// Makes the folders, with a clear error if that is not possible.
    /// Private from the start (0700: the daemon's token, resume data and the
    /// catalog are nobody else's), an existing data folder made so too.
    public func prepare() throws {
        for d in [data, resumeDir, torrentsDir] {
            try Disk.makeDirectory(d, what: "Matinee's data folder", mode: 0o700)
        }
    }
}

/// Small file operations with one-line errors.
public enum Disk {
    /// `mode`: the folder's permissions, set when it is made (and on an
    /// existing one); nil leaves them to the umask.
    public static func makeDirectory(_ path: String, what: String, mode: Int? = nil) throws {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: mode.map { [.posixPermissions: $0] })
            if let mode { chmod(path, mode_t(mode)) }
        } catch {
            throw DaemonError("cannot create \(what) \(path): \(reason(error))")
        }
    }

    /// Proves a folder is writable by creating and removing a file in it.
    public static func checkWritable(_ path: String, what: String) throws {
        try makeDirectory(path, what: what)
        let probe = path + "/.matinee-write-test-\(getpid())"
        guard FileManager.default.createFile(atPath: probe, contents: Data()) else {
            throw DaemonError("cannot write to \(what) \(path): \(String(cString: strerror(errno)))")
        }
        try? FileManager.default.removeItem(atPath: probe)
    }

    /// Writes through a temporary file and a rename, so a crash leaves the old
    /// file or the new one, never half of one.
    /// Writes a file of Matinee's own data: readable by this user only (0600)
    /// from its first byte, and whole or not at all.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let tmp = path + ".tmp-\(getpid())"
        do {
            let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw DaemonError(String(cString: strerror(errno))) }
            var done = 0
            while done < bytes.count {
                let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    let e = DaemonError(String(cString: strerror(errno)))
                    close(fd)
                    throw e
                }
                done += n
            }
            guard close(fd) == 0 else { throw DaemonError(String(cString: strerror(errno))) }
            guard rename(tmp, path) == 0 else { throw DaemonError(String(cString: strerror(errno))) }
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw DaemonError("cannot write \(path): \(reason(error))")
        }
    }

    public static func read(_ path: String, limit: Int) -> [UInt8]? {
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: path),
            let size = attrs[.size] as? Int, size <= limit
        else { return nil }
        return (try? Data(contentsOf: URL(fileURLWithPath: path))).map { Array($0) }
    }

    public static func reason(_ error: any Error) -> String {
        if let e = error as? DaemonError { return e.message }
        if let e = error as? CocoaError, let u = e.userInfo[NSUnderlyingErrorKey] as? NSError {
            return String(cString: strerror(Int32(u.code)))
        }
        return (error as NSError).localizedDescription
    }
}
