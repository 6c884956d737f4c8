import Foundation

/// MATINEE_HOME/daemon.json, written by a running daemon (mode 0600): where
/// it listens and the token its API wants on state changes. CLI commands
/// that change state use it to act through the daemon, which owns the
/// engine and its port, instead of starting a second engine beside it.
public struct DaemonFile: Codable, Sendable {
    public var url: String
    public var token: String
    public var pid: Int32

    public init(url: String, token: String, pid: Int32) {
        self.url = url
        self.token = token
        self.pid = pid
    }

    public func write(_ home: Home) throws {
        let bytes = Array(try JSONEncoder().encode(self))
        try Disk.writeAtomically(bytes, to: home.daemonFile)  // 0600 from the start
    }

    public static func read(_ home: Home) -> DaemonFile? {
        guard let bytes = Disk.read(home.daemonFile, limit: 4096) else { return nil }
        return try? JSONDecoder().decode(DaemonFile.self, from: Data(bytes))
    }

    /// Removes the file if it is still this process's (a newer daemon may
    /// have replaced it).
    public static func remove(_ home: Home, pid: Int32) {
        if read(home)?.pid == pid { try? FileManager.default.removeItem(atPath: home.daemonFile) }
    }
}
