import Foundation
public import TorrentKit
public import Updates

/// Matinee's own releases, for the daemon and the CLI: publishing one
/// (maintainers) and updating to one (everyone). The checks themselves are
/// the Updates module's; this is where they meet the engine and the home.
public enum Releases {
    /// The maintainer's release keys: MATINEE data folder, release-keys/.
    public static func keysFolder(_ home: Home) -> String { home.data + "/release-keys" }
    public static func workFolder(_ home: Home, key: String) -> String { home.data + "/releases/" + key }

    /// The passphrase for a release key: the file MATINEE_RELEASE_PASSPHRASE_FILE
    /// (or --passphrase-file) names, for unattended use; otherwise asked for
    /// on the terminal, without echo.
    public static func passphrase(file: String?, confirm: Bool) throws -> [UInt8] {
        if let path = file ?? ProcessInfo.processInfo.environment["MATINEE_RELEASE_PASSPHRASE_FILE"], !path.isEmpty {
            guard let d = FileManager.default.contents(atPath: path), d.count < 4096 else {
                throw DaemonError("cannot read the passphrase file \(path)", badInput: true)
            }
            var bytes = Array(d)
            while let last = bytes.last, last == 0x0a || last == 0x0d { bytes.removeLast() }
            return bytes
        }
        guard isatty(0) == 1 else {
            throw DaemonError(
                "a release key's passphrase is needed: run this on a terminal, or name a file with --passphrase-file (or MATINEE_RELEASE_PASSPHRASE_FILE)",
                badInput: true)
        }
        let first = readSecret("Passphrase for the release key: ")
        if confirm {
            guard readSecret("The same passphrase again: ") == first else { throw DaemonError("the passphrases differ", badInput: true) }
        }
        return first
    }

    private static func readSecret(_ prompt: String) -> [UInt8] {
        FileHandle.standardError.write(Data(prompt.utf8))
        var old = termios()
        tcgetattr(0, &old)
        var quiet = old
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(0, TCSAFLUSH, &quiet)
        defer {
            tcsetattr(0, TCSAFLUSH, &old)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        return Array((readLine(strippingNewline: true) ?? "").utf8)
    }

    /// Seeds a release's two torrents (artifact and manifest) and puts its
    /// pointer; returns the number of DHT nodes that took it.
    public static func publish(_ r: ReleaseBuilder.Result, runtime: EngineRuntime, home: Home, peers: [HostPort]) async throws -> Int {
        for s in [r.artifact, r.release] {
            try Disk.writeAtomically(s.torrent, to: home.torrentFile(s.id))
            let meta = try TorrentMetadata(torrentFile: s.torrent)
            _ = try await runtime.add(
                ResolvedSource(source: .torrentFile(s.torrent), id: s.id, metadata: meta), streaming: false, seedMode: true, peers: peers,
                savePath: s.savePath)
        }
        await waitForDHT(runtime.session, timeout: 30)
        var nodes = 0
        for attempt in 0..<5 where nodes == 0 {
            if attempt > 0 { try await Task.sleep(for: .seconds(2)) }
            nodes = await runtime.session.dhtPut(r.pointer, timeout: .seconds(60))
        }
        for t in runtime.torrents { t.torrent.announce() }
        return nodes
    }

    /// The updater for this binary, this home and the engine given.
    public static func updater(session: TorrentSession, home: Home, channel: ReleaseChannel, peers: [HostPort] = []) -> Updater {
        var u = Updater(
            session: session, channel: channel, store: UpdateStore(dataFolder: home.data), installed: .running,
            installation: .running)
        u.peers = peers
        return u
    }

    /// Runs a Updates call, its refusals as one-line daemon errors.
    public static func releaseCall<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as ReleaseError {
            throw DaemonError(e.message, badInput: e.kind != .unreachable && e.kind != .install)
        }
    }

    public static func releaseCall<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let e as ReleaseError {
            throw DaemonError(e.message, badInput: e.kind != .unreachable && e.kind != .install)
        }
    }
}
