import Foundation
import Hummingbird
import TorrentKit

/// What a user can set in the Settings page. Stored by the daemon in
/// MATINEE_HOME/settings.json; command-line options win over it.
public struct AppSettings: Codable, Sendable, Equatable {
    /// Where new downloads go.
    public var downloadDir: String
    /// Finished downloads beyond this many GiB are removed, least recently
    /// played first, never one being watched; 0 keeps everything.
    public var cacheLimitGiB: Double
    /// Upload cap in KiB/s; 0 for none.
    public var uploadLimitKiB: Int
    /// Share finished downloads back (within the limits below).
    public var seeding: Bool
    /// Stop sharing at this upload/download ratio; 0 for no limit.
    public var seedRatio: Double
    /// Stop sharing after this many minutes; 0 for no limit.
    public var seedMinutes: Double
    public var requireEncryption: Bool
    /// The port for peers (TCP and uTP); 0 for libtorrent's default, 6881.
    public var peerPort: Int
    /// The web UI's port on 127.0.0.1; 0 for any free port.
    public var httpPort: Int
    /// Contact the trackers, web seeds and .torrent URLs that any followed
    /// channel's catalog names. Off: only the bundled channel's are used, and
    /// a stranger's catalog cannot make this machine contact a host of its
    /// choosing (peers still come from the DHT, PEX and LSD).
    public var catalogHosts: Bool
    /// Install a new release of Matinee by itself once it is downloaded and
    /// checked (when nothing plays), instead of offering it.
    public var automaticUpdates: Bool

    public init(
        downloadDir: String, cacheLimitGiB: Double = 0, uploadLimitKiB: Int = 0, seeding: Bool = true, seedRatio: Double = 2,
        seedMinutes: Double = 120, requireEncryption: Bool = false, peerPort: Int = 0, httpPort: Int = 0, catalogHosts: Bool = false,
        automaticUpdates: Bool = false
    ) {
        self.catalogHosts = catalogHosts
        self.automaticUpdates = automaticUpdates
        self.downloadDir = downloadDir
        self.cacheLimitGiB = cacheLimitGiB
        self.uploadLimitKiB = uploadLimitKiB
        self.seeding = seeding
        self.seedRatio = seedRatio
        self.seedMinutes = seedMinutes
        self.requireEncryption = requireEncryption
        self.peerPort = peerPort
        self.httpPort = httpPort
    }

    /// Settings saved by an older version lack the newer fields: they take
    /// their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = AppSettings(downloadDir: try c.decode(String.self, forKey: .downloadDir))
        self.init(
            downloadDir: d.downloadDir,
            cacheLimitGiB: try c.decodeIfPresent(Double.self, forKey: .cacheLimitGiB) ?? d.cacheLimitGiB,
            uploadLimitKiB: try c.decodeIfPresent(Int.self, forKey: .uploadLimitKiB) ?? d.uploadLimitKiB,
            seeding: try c.decodeIfPresent(Bool.self, forKey: .seeding) ?? d.seeding,
            seedRatio: try c.decodeIfPresent(Double.self, forKey: .seedRatio) ?? d.seedRatio,
            seedMinutes: try c.decodeIfPresent(Double.self, forKey: .seedMinutes) ?? d.seedMinutes,
            requireEncryption: try c.decodeIfPresent(Bool.self, forKey: .requireEncryption) ?? d.requireEncryption,
            peerPort: try c.decodeIfPresent(Int.self, forKey: .peerPort) ?? d.peerPort,
            httpPort: try c.decodeIfPresent(Int.self, forKey: .httpPort) ?? d.httpPort,
            catalogHosts: try c.decodeIfPresent(Bool.self, forKey: .catalogHosts) ?? d.catalogHosts,
            automaticUpdates: try c.decodeIfPresent(Bool.self, forKey: .automaticUpdates) ?? d.automaticUpdates)
    }

    /// The first thing wrong with these settings, in words; nil if none.
    public var problem: String? {
        if !downloadDir.hasPrefix("/") { return "the download folder must be an absolute path" }
        if !(cacheLimitGiB >= 0 && cacheLimitGiB < 1_000_000) { return "the cache limit must be 0 (none) or a positive number of GiB" }
        if !(0...10_000_000).contains(uploadLimitKiB) { return "the upload cap must be 0 (none) or a positive number of KiB/s" }
        if !(seedRatio >= 0 && seedRatio < 10_000) { return "the seeding ratio must be 0 (no limit) or positive" }
        if !(seedMinutes >= 0 && seedMinutes < 10_000_000) { return "the seeding time must be 0 (no limit) or positive" }
        if !(0...65535).contains(peerPort) { return "the peer port must be between 0 and 65535" }
        if !(0...65535).contains(httpPort) { return "the web UI port must be between 0 and 65535" }
        return nil
    }
}

/// The Settings page (docs/api.md): `GET/PUT /api/settings`.
struct SettingsController<Context: RequestContext> {
    let service: LibraryService

    func addRoutes(to router: Router<Context>) {
        router.get("/api/settings") { _, _ in try JSONResponse.make(await service.settings()) }
        router.put("/api/settings") { request, _ in
            let buffer = try await request.body.collect(upTo: 16 << 10)
            guard let wanted = try? JSONDecoder().decode(AppSettings.self, from: Data(buffer: buffer)) else {
                throw HTTPError(.badRequest, message: "expected the settings object of GET /api/settings")
            }
            if let problem = wanted.problem { return try ChannelServiceError(problem, badInput: true).response() }
            do {
                return try JSONResponse.make(["message": try await service.updateSettings(wanted)])
            } catch let e as ChannelServiceError {
                return try e.response()
            }
        }
    }
}
