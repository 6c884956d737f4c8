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
    /// A SOCKS5 proxy for peer, DHT and tracker traffic
    /// (`socks5://[USER:PASSWORD@]HOST:PORT`); "" for none.
    public var proxy: String
    /// With a proxy: nothing goes out without it (see EngineConfig).
    public var proxyOnly: Bool
    /// Tell peers and trackers nothing of the client's name and version.
    public var anonymousMode: Bool

    public init(
        downloadDir: String, cacheLimitGiB: Double = 0, uploadLimitKiB: Int = 0, seeding: Bool = true, seedRatio: Double = 2,
        seedMinutes: Double = 120, requireEncryption: Bool = false, peerPort: Int = 0, httpPort: Int = 0, catalogHosts: Bool = false,
        automaticUpdates: Bool = false, proxy: String = "", proxyOnly: Bool = false, anonymousMode: Bool = false
    ) {
        self.proxy = proxy
        self.proxyOnly = proxyOnly
        self.anonymousMode = anonymousMode
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
            automaticUpdates: try c.decodeIfPresent(Bool.self, forKey: .automaticUpdates) ?? d.automaticUpdates,
            proxy: try c.decodeIfPresent(String.self, forKey: .proxy) ?? d.proxy,
            proxyOnly: try c.decodeIfPresent(Bool.self, forKey: .proxyOnly) ?? d.proxyOnly,
            anonymousMode: try c.decodeIfPresent(Bool.self, forKey: .anonymousMode) ?? d.anonymousMode)
    }

    /// The first thing wrong with these settings, in words; nil if none.
    public var problem: String? { problems.first?.reason }

    /// Everything wrong with these settings, by field (the names of the JSON
    /// object), in the form's order.
    public var problems: [(field: String, reason: String)] {
        var out: [(String, String)] = []
        if let p = Self.folderProblem(downloadDir) { out.append(("downloadDir", p)) }
        if !(cacheLimitGiB >= 0 && cacheLimitGiB <= 1e9) {
            out.append(("cacheLimitGiB", "the cache limit must be 0 (keep everything) or a number of GiB up to 1000000000"))
        }
        if !(0...10_000_000).contains(uploadLimitKiB) {
            out.append(("uploadLimitKiB", "the upload cap must be 0 (none) or a number of KiB/s up to 10000000"))
        }
        if !(seedRatio >= 0 && seedRatio < 10_000) {
            out.append(("seedRatio", "the seeding ratio must be 0 (no limit) or a positive number"))
        }
        if !(seedMinutes >= 0 && seedMinutes < 10_000_000) {
            out.append(("seedMinutes", "the seeding time must be 0 (no limit) or a positive number of minutes"))
        }
        if let p = Self.portProblem(peerPort, "the peer port", zero: "the default, 6881") { out.append(("peerPort", p)) }
        if let p = Self.portProblem(httpPort, "the web UI port", zero: "any free port") { out.append(("httpPort", p)) }
        if !proxy.isEmpty, let p = ProxyAddress.problem(proxy) { out.append(("proxy", p)) }
        if proxyOnly && proxy.isEmpty { out.append(("proxyOnly", "\"proxy only\" needs a proxy address")) }
        return out
    }

    /// Folders the system owns: downloads there would mix with its files
    /// (or fail), whatever the user typed.
    static let systemFolders = [
        "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run", "/sbin", "/sys", "/usr",
    ]

    static func folderProblem(_ path: String) -> String? {
        if path.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "the download folder's name has a control character (a line break, a tab) in it"
        }
        guard path.hasPrefix("/") else { return "the download folder must be an absolute path" }
        let clean = URL(fileURLWithPath: path).standardized.path
        if clean == "/" || ["/home", "/var", "/root"].contains(clean) {
            return "\(clean) holds other folders: pick a folder of its own for downloads"
        }
        if let system = systemFolders.first(where: { clean == $0 || clean.hasPrefix($0 + "/") }) {
            return "\(system) is the system's: pick a folder of your own for downloads"
        }
        return nil
    }

    /// What `GET /api/settings` shows in place of the proxy's password:
    /// the page never holds it, and a save that sends this back keeps it.
    public static let hiddenPassword = "********"

    /// These settings as the page sees them: the proxy's password hidden.
    var forPage: AppSettings {
        var s = self
        if let p = ProxyAddress(proxy), let user = p.username, !(p.password ?? "").isEmpty {
            s.proxy = ProxyAddress(host: p.host, port: p.port, username: user, password: "").url
                .replacingOccurrences(of: ":@", with: ":\(Self.hiddenPassword)@")
        }
        return s
    }

    /// `wanted` from the page, with the saved proxy password put back where
    /// the page sent the hidden one for the same user and host; nil when the
    /// hidden one came for another proxy (its password must be typed again).
    static func restoringPassword(_ wanted: AppSettings, saved: AppSettings) -> AppSettings? {
        guard let w = ProxyAddress(wanted.proxy), w.password == hiddenPassword else { return wanted }
        guard let old = ProxyAddress(saved.proxy), old.username == w.username, old.host == w.host, old.port == w.port else {
            return nil
        }
        var out = wanted
        out.proxy = old.url
        return out
    }

    static func portProblem(_ port: Int, _ name: String, zero: String) -> String? {
        port == 0 || (1024...65535).contains(port)
            ? nil : "\(name) must be 0 (\(zero)) or between 1024 and 65535 (lower ones need root)"
    }
}

/// Settings refused: the first reason, and each field's.
private struct SettingsRefusal: Encodable {
    let error: String
    let fields: [String: String]
}

/// The Settings page (docs/api.md): `GET/PUT /api/settings`.
struct SettingsController<Context: RequestContext> {
    let service: LibraryService

    func addRoutes(to router: Router<Context>) {
        router.get("/api/settings") { _, _ in try JSONResponse.make(await service.settings().forPage) }
        router.get("/api/network") { _, _ in try JSONResponse.make(await service.network()) }
        router.put("/api/settings") { request, _ in
            let buffer = try await request.body.collect(upTo: 16 << 10)
            guard let sent = try? JSONDecoder().decode(AppSettings.self, from: Data(buffer: buffer)) else {
                throw HTTPError(.badRequest, message: "expected the settings object of GET /api/settings")
            }
            guard let wanted = AppSettings.restoringPassword(sent, saved: await service.settings()) else {
                let reason = "type the proxy's password again: the saved one is for another proxy or user"
                var r = try JSONResponse.make(SettingsRefusal(error: reason, fields: ["proxy": reason]))
                r.status = .unprocessableContent
                return r
            }
            let problems = wanted.problems
            if let first = problems.first {
                // The first in words, and each by field for the form to show beside it.
                var r = try JSONResponse.make(
                    SettingsRefusal(
                        error: first.reason, fields: Dictionary(problems.map { ($0.field, $0.reason) }, uniquingKeysWith: { a, _ in a })))
                r.status = .unprocessableContent
                return r
            }
            do {
                return try JSONResponse.make(["message": try await service.updateSettings(wanted)])
            } catch let e as ChannelServiceError {
                return try e.response()
            }
        }
    }
}
