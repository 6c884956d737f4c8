import Foundation
import Hummingbird

/// Where Matinee's own updates stand, as `GET /api/update` answers (the UI's
/// "Version X is ready" banner and the About part of Settings).
public struct UpdateStatus: Codable, Sendable, Equatable {
    /// This running version: "0.2.0", and its build number (0: a build tree).
    public var version: String
    public var build: Int64
    /// Runs from an installed bundle, so an update can be installed.
    public var installable: Bool
    /// The version kept to go back to (`POST /api/update/rollback`), if any.
    public var previous: String?
    /// The release channel followed (a magnet), or nil with `problem` saying why none.
    public var channel: String?
    public var problem: String?
    /// A check runs now; `step` says where it is ("Downloading 3.1 MB of 9.0 MB").
    public var checking: Bool
    public var step: String?
    /// When the last check ended (RFC 3339), and how, in one line.
    public var lastCheck: String?
    public var lastResult: String?
    public var lastCheckFailed: Bool
    /// A newer release, downloaded and checked, waiting to be installed.
    public var ready: Ready?
    /// Settings: install ready releases by themselves (when nothing plays).
    public var automatic: Bool
    /// Installed; the daemon restarts into it now.
    public var restarting: Bool

    public struct Ready: Codable, Sendable, Equatable {
        public var version: String
        public var build: Int64
        public var notes: String

        public init(version: String, build: Int64, notes: String) {
            self.version = version
            self.build = build
            self.notes = notes
        }
    }

    public init(
        version: String, build: Int64, installable: Bool, previous: String? = nil, channel: String?, problem: String?, checking: Bool,
        step: String?,
        lastCheck: String?, lastResult: String?, lastCheckFailed: Bool = false, ready: Ready?, automatic: Bool, restarting: Bool
    ) {
        self.version = version
        self.build = build
        self.installable = installable
        self.previous = previous
        self.channel = channel
        self.problem = problem
        self.checking = checking
        self.step = step
        self.lastCheck = lastCheck
        self.lastResult = lastResult
        self.lastCheckFailed = lastCheckFailed
        self.ready = ready
        self.automatic = automatic
        self.restarting = restarting
    }
}

/// The daemon's side of updating Matinee itself.
public protocol UpdateService: Sendable {
    func updateStatus() async -> UpdateStatus
    /// Starts a check (and the download of what it finds) in the background,
    /// unless one runs; returns at once. Throws `ChannelServiceError` when
    /// no channel is followed.
    func checkForUpdate() async throws -> UpdateStatus
    /// Installs the ready release and restarts into it; returns a line to show.
    func applyUpdate() async throws -> String
    /// Goes back to the previous version and restarts into it.
    func rollBack() async throws -> String
}

/// Matinee's own updates (docs/api.md): `GET /api/update`, `POST
/// /api/update/check`, `POST /api/update/apply`, `POST /api/update/rollback`.
/// The POSTs pass the CSRF check like every change.
struct UpdateController<Context: RequestContext> {
    let service: UpdateService

    func addRoutes(to router: Router<Context>) {
        router.get("/api/update") { _, _ in try JSONResponse.make(await service.updateStatus()) }
        router.post("/api/update/check") { _, _ in
            do {
                var r = try JSONResponse.make(try await service.checkForUpdate())
                r.status = .accepted
                return r
            } catch let e as ChannelServiceError {
                return try e.response()
            }
        }
        router.post("/api/update/apply") { _, _ in try await message { try await service.applyUpdate() } }
        router.post("/api/update/rollback") { _, _ in try await message { try await service.rollBack() } }
    }

    private func message(_ body: () async throws -> String) async throws -> Response {
        do {
            return try JSONResponse.make(["message": try await body()])
        } catch let e as ChannelServiceError {
            return try e.response()
        }
    }
}
