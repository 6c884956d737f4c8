import Foundation
import Synchronization
import TestSupport
import Testing

/// Matinee's own releases, end to end, as bundles made by scripts/package
/// from the binary under test (one build, several versions): published by a
/// maintainer on a private DHT, seeded by another peer, installed by a user
/// through install.sh and the launcher, updated, rolled back.
final class ReleaseWorld: @unchecked Sendable {
    let dir = TempDir("release")
    let dht: PrivateDHT
    let passphrase: String
    let maintainer: MatineeCLI
    let channel: String
    /// The user's home: everything under its XDG folders, as install.sh puts it.
    let user: String
    var launcher: String { user + "/.local/bin/matinee" }
    var root: String { user + "/.local/share/matinee" }
    /// Where the maintainer and the DHT run; nil: this machine's loopback
    /// (everyone then listens on 127.0.0.1 only).
    let namespace: NetNamespace?

    init(dht given: PrivateDHT? = nil, in namespace: NetNamespace? = nil) async throws {
        self.namespace = namespace
        if let given { dht = given } else { dht = try await PrivateDHT.start() }
        passphrase = dir.path + "/passphrase"
        FileManager.default.createFile(
            atPath: passphrase, contents: Data("release test passphrase\n".utf8), attributes: [.posixPermissions: 0o600])
        maintainer = MatineeCLI(home: dir.sub("maintainer"), in: namespace)
        let made = try await maintainer.run(["release", "new", "test-releases", "--passphrase-file", passphrase])
        guard made.status == 0 else { throw TestFailure("release new failed: \(made.stderr)") }
        channel = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        user = dir.sub("user")
    }

    /// scripts/package VERSION with `binary` (default: the binary under test).
    /// Bundles of the binary under test are made once for the whole suite.
    func bundle(_ version: String, binary: String = Fixtures.matineeBinary) throws -> String {
        let key = version + " " + binary
        if let made = Self.made.withLock({ $0[key] }), FileManager.default.fileExists(atPath: made) { return made }
        let out = (binary == Fixtures.matineeBinary ? Self.shared.path : dir.path) + "/bundles-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let printed = try Fixtures.run(
            "/bin/bash", [Fixtures.packageRoot + "/scripts/package", version, out], environment: ["MATINEE_PACKAGE_BINARY": binary])
        let path = printed.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").last.map(String.init) ?? ""
        if binary == Fixtures.matineeBinary { Self.made.withLock { $0[key] = path } }
        return path
    }

    static let shared = TempDir("release-bundles")
    static let made = Mutex<[String: String]>([:])

    /// Unpacks a bundle and runs its install.sh as the user (or as `other`,
    /// another user's home folder).
    func install(_ bundle: String, user other: String? = nil) throws -> String {
        let unpack = dir.sub("unpack-\(UUID().uuidString.prefix(6))")
        try Fixtures.run("/bin/tar", ["xzf", bundle, "-C", unpack])
        let top = try FileManager.default.contentsOfDirectory(atPath: unpack).first ?? ""
        return try Fixtures.run("/bin/sh", [unpack + "/" + top + "/install.sh"], environment: environment(other ?? user))
    }

    var userEnvironment: [String: String] { environment(user) }

    func environment(_ home: String) -> [String: String] {
        ["HOME": home, "MATINEE_HOME": "", "XDG_DATA_HOME": "", "XDG_CACHE_HOME": "", "MATINEE_RELEASE_CHANNEL": channel]
    }

    /// Starts the installed command, through the launcher, as the user (or
    /// `other`) runs it, on `host` (default: this machine).
    func start(_ args: [String], user other: String? = nil, on host: NetNamespace? = nil) throws -> TestProcess {
        let home = other ?? user
        let env = environment(home)
        if let host { return try host.start(home + "/.local/bin/matinee", args, environment: env, name: "installed matinee") }
        return try TestProcess(home + "/.local/bin/matinee", args, environment: env, name: "installed matinee")
    }

    /// The installed command run to its end.
    func matinee(
        _ args: [String], user other: String? = nil, on host: NetNamespace? = nil, timeout: Duration = .seconds(120)
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let p = try start(args, user: other, on: host)
        let status = try await p.waitForExit(timeout: timeout)
        return (status, p.lines.joined(separator: "\n"), p.stderr)
    }

    /// The engine options: none but the DHT's in a namespace (libtorrent's
    /// default interfaces, as users run it), loopback only otherwise.
    var engine: [String] { (namespace == nil ? ["--listen", "127.0.0.1:0"] : []) + dht.arguments }

    /// `release publish`; returns the process once the pointer is on the DHT.
    func publish(_ bundle: String, version: String) async throws -> TestProcess {
        let p = try maintainer.start(
            [
                "release", "publish", bundle, "--key", "test-releases", "--version", version, "--passphrase-file", passphrase,
                "--notes", notesFile,
            ] + engine)
        _ = try await p.waitForLine(timeout: .seconds(120)) { $0.hasPrefix("magnet:?xs=") ? $0 : nil }
        return p
    }

    lazy var notesFile: String = {
        let p = dir.path + "/notes.txt"
        try? "Faster seeks.\n".write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }()

    /// The maintainer's published folders for a build: the artifact folder
    /// (archive and .sig) and the release folder (manifest).
    func published(build: Int) throws -> (artifact: String, release: String) {
        let work = maintainer.home + "/releases/test-releases"
        let artifacts = work + "/artifacts/\(build)"
        let a = try FileManager.default.contentsOfDirectory(atPath: artifacts).first ?? ""
        let manifests = work + "/manifests"
        let seq = try FileManager.default.contentsOfDirectory(atPath: manifests).sorted().last ?? ""
        return (artifacts + "/" + a, manifests + "/" + seq + "/matinee-release")
    }

    /// Another peer, not the maintainer, seeding copies of the release's two
    /// folders with `matinee seed` (any BitTorrent client would do): the
    /// torrents it makes are the very ones the manifest names.
    func otherPeer(build: Int) async throws -> [TestProcess] {
        let (artifact, release) = try published(build: build)
        var out: [TestProcess] = []
        for (n, folder) in [artifact, release].enumerated() {
            let copy = dir.sub("peer-\(n)") + "/" + (folder as NSString).lastPathComponent
            try Fixtures.run("/bin/cp", ["-R", folder, copy])
            let (p, magnet) = try await MatineeCLI(home: dir.sub("peer-home-\(n)")).seed(copy, engine)
            out.append(p)
            if n == 0 {
                let manifest = try String(contentsOfFile: release + "/manifest.json", encoding: .utf8)
                let ih = magnet.components(separatedBy: "btih:").last?.prefix(40).lowercased() ?? ""
                #expect(manifest.contains(ih), "the peer's torrent is the manifest's artifact")
            }
        }
        return out
    }
}

@Suite("Signed releases over the DHT: update, rollback, newcomers", .serialized)
struct ReleaseTests {
    @Test func anInstalledVersionUpdatesFromAnotherPeerWithTheMaintainerGone() async throws {
        let w = try await ReleaseWorld()
        let installed = try w.install(try w.bundle("0.1.0"))
        #expect(installed.contains("Installed Matinee 0.1.0"))
        #expect(try await w.matinee(["--version"]).stdout == "0.1.0")

        let maintainer = try await w.publish(try w.bundle("0.2.0"), version: "0.2.0")
        let peers = try await w.otherPeer(build: 2_000)
        maintainer.kill(SIGTERM)
        _ = try await maintainer.waitForExit()

        let check = try await w.matinee(["update", "--check"] + w.engine)
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout == "0.2.0")
        #expect(check.stderr.contains("Faster seeks."), "the release notes are shown")
        #expect(try await w.matinee(["--version"]).stdout == "0.1.0", "a check installs nothing")

        let update = try await w.matinee(["update"] + w.engine)
        #expect(update.status == 0, "\(update.stderr)")
        #expect(update.stdout == "0.2.0")
        #expect(try await w.matinee(["--version"]).stdout == "0.2.0")
        #expect(FileManager.default.fileExists(atPath: w.root + "/versions/1000/bin/matinee"), "the previous version is kept")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: w.root + "/previous") == "versions/1000")
        #expect(!FileManager.default.fileExists(atPath: w.root + "/trial"), "a clean start ended the trial")

        // Nothing newer: up to date. Then back by hand, and 0.2.0 is not offered again.
        let again = try await w.matinee(["update"] + w.engine)
        #expect(again.status == 0 && again.stderr.contains("0.2.0 is up to date"), "\(again.stderr)")
        let back = try await w.matinee(["update", "--rollback"])
        #expect(back.status == 0 && back.stdout == "0.1.0", "\(back.stderr)")
        #expect(try await w.matinee(["--version"]).stdout == "0.1.0")
        let refused = try await w.matinee(["update", "--check"] + w.engine)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("refused here before (rolled back by hand)"), "\(refused.stderr)")
        for p in peers { p.kill() }
    }

    @Test func aReleaseThatFailsToStartIsRolledBackAndNeverRetried() async throws {
        let w = try await ReleaseWorld()
        _ = try w.install(try w.bundle("0.1.0"))
        // A bundle whose binary exits non-zero at once (the web UI beside it).
        let broken = w.dir.sub("broken")
        FileManager.default.createFile(
            atPath: broken + "/matinee", contents: Data("#!/bin/sh\necho 'cannot start' >&2\nexit 3\n".utf8),
            attributes: [.posixPermissions: 0o755])
        for resources in ["Matinee_Server.resources", "Matinee_Catalog.resources"] {
            try Fixtures.run("/bin/cp", ["-R", (Fixtures.matineeBinary as NSString).deletingLastPathComponent + "/" + resources, broken + "/"])
        }
        let maintainer = try await w.publish(try w.bundle("0.3.0", binary: broken + "/matinee"), version: "0.3.0")
        let update = try await w.matinee(["update"] + w.engine)
        #expect(update.status == 0 && update.stdout == "0.3.0", "\(update.stderr)")
        maintainer.kill()

        // Three starts that never came up healthy: still on trial. The next
        // start goes back to 0.1.0, which then runs the command.
        for n in 1...3 {
            let r = try await w.matinee(["--version"])
            #expect(r.status == 3, "start \(n): \(r.stderr)")
            #expect(try String(contentsOfFile: w.root + "/trial", encoding: .utf8) == "3000 \(n)\n")
        }
        let fourth = try await w.matinee(["--version"])
        #expect(fourth.status == 0)
        #expect(fourth.stdout == "0.1.0")
        #expect(fourth.stderr.contains("did not start healthy in 3 tries"), "\(fourth.stderr)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: w.root + "/current") == "versions/1000")
        let later = try await w.matinee(["update"] + w.engine)
        #expect(later.status == 1)
        #expect(later.stderr.contains("refused here before (it did not start healthy in 3 tries"), "\(later.stderr)")
        #expect(try await w.matinee(["--version"]).stdout == "0.1.0")
    }

    @Test func aNewcomerChecksTheBundleWithOpensslAndInstallsIt() async throws {
        let w = try await ReleaseWorld()
        let maintainer = try await w.publish(try w.bundle("0.2.0"), version: "0.2.0")
        maintainer.kill()
        // What a newcomer has: the artifact torrent's folder (from any
        // client), and the key the README prints (here: the test channel's,
        // as `release new` printed it).
        let (folder, _) = try w.published(build: 2_000)
        let name = "matinee-0.2.0-linux-x86_64.tar.gz"
        let keyHex = String(w.channel.suffix(64))
        let pem = try Fixtures.run(
            "/usr/bin/python3",
            [
                "-c",
                "import base64,sys; print('-----BEGIN PUBLIC KEY-----\\n' + base64.b64encode(bytes.fromhex('302a300506032b6570032100' + sys.argv[1])).decode() + '\\n-----END PUBLIC KEY-----')",
                keyHex,
            ])
        let keyFile = w.dir.path + "/release-key.pem"
        try pem.write(toFile: keyFile, atomically: true, encoding: .utf8)
        // The README's command, word for word but for the paths.
        func verify(_ archive: String) -> Bool {
            (try? Fixtures.run(
                "/usr/bin/openssl",
                ["pkeyutl", "-verify", "-pubin", "-inkey", keyFile, "-rawin", "-in", archive, "-sigfile", folder + "/" + name + ".sig"]))
                != nil
        }
        #expect(verify(folder + "/" + name))
        let tampered = w.dir.path + "/" + name
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)))
        bytes[bytes.count / 2] ^= 0x01
        FileManager.default.createFile(atPath: tampered, contents: Data(bytes))
        #expect(!verify(tampered), "openssl refuses a tampered bundle")

        let out = try w.install(folder + "/" + name)
        #expect(out.contains("Installed Matinee 0.2.0"))
        let version = try await w.matinee(["--version"])
        #expect(version.stdout == "0.2.0")
        // It starts, and serves the web UI from the bundle's own resources.
        let index = w.root + "/current/bin/Matinee_Server.resources/Web/index.html"
        let html = try String(contentsOfFile: index, encoding: .utf8)
        try (html + "<!-- from the bundle -->").write(toFile: index, atomically: true, encoding: .utf8)
        let serve = try TestProcess(w.launcher, ["serve"] + w.engine, environment: w.userEnvironment, name: "installed serve")
        let url: String = try await serve.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://") ? $0 : nil }
        let page = try await HTTP.request(url + "/")
        #expect(String(decoding: page.body, as: UTF8.self).contains("<!-- from the bundle -->"))
        serve.kill()
        #expect(try await serve.waitForExit() == 0)
    }

    /// Default configuration (no --listen anywhere; netns hosts): "the
    /// internet" holds the DHT and the maintainer; the user's machine runs
    /// the daemon, which checks and downloads through `update --check`,
    /// offers the release in the UI (banner, notes), installs it from the
    /// UI's button and restarts into it on the same port, then seeds it to a
    /// second user with the maintainer gone, re-puts the release pointer, and
    /// goes back through `update --rollback`.
    @Test func aRunningMatineeOffersInstallsAndSharesARelease() async throws {
        let (net, home, gateway, _) = try NetNamespace.hostBehindInternet("rnet", "rhome", subnet: 234)
        let dht = try await PrivateDHT.start(count: 6, hosts: [gateway], in: net)
        let w = try await ReleaseWorld(dht: dht, in: net)
        _ = try w.install(try w.bundle("0.1.0"))

        let serve = try w.start(["serve"] + w.engine, on: home)
        defer { serve.kill() }
        let base = try await serve.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("http://127.0.0.1:") ? $0 : nil }
        func status() async throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(try await home.get(base + "/api/update"))) as? [String: Any] ?? [:]
        }
        let before = try await status()
        #expect(before["version"] as? String == "0.1.0" && before["installable"] as? Bool == true, "\(before)")
        #expect(before["ready"] == nil && before["channel"] as? String == w.channel)

        let maintainer = try await w.publish(try w.bundle("0.2.0"), version: "0.2.0")
        // The daemon checks and downloads; the command shows its steps.
        let check = try await w.matinee(["update", "--check"], on: home, timeout: .seconds(300))
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout == "0.2.0")
        #expect(check.stderr.contains("through the running Matinee") && check.stderr.contains("Faster seeks."), "\(check.stderr)")
        let ready = try await status()
        #expect((ready["ready"] as? [String: Any])?["version"] as? String == "0.2.0", "\(ready)")
        #expect(try await w.matinee(["--version"], on: home).stdout == "0.1.0", "a check installs nothing")

        // The UI: the banner and its notes, Settings' Updates part, then its
        // button installs and the page comes back from the new version.
        let seen = try await runBrowser(
            base: base, artifacts: "ui-update", extra: ["--update", "0.2.0"],
            screens: ["12-update-ready", "13-settings-updates", "14-updated"],
            on: home)
        #expect(seen["banner"] as? String == "Matinee 0.2.0 is ready to install.", "\(seen)")
        #expect(seen["notes"] as? String == "Faster seeks.")
        #expect((seen["aboutBefore"] as? String)?.contains("Matinee 0.1.0 (build 1000)") == true, "\(seen)")
        #expect((seen["updateState"] as? String)?.contains("version 0.2.0 is ready") == true, "\(seen)")
        #expect((seen["aboutAfter"] as? String)?.contains("Matinee 0.2.0 (build 2000)") == true, "\(seen)")
        #expect(seen["bannerAfter"] as? Bool == false)
        let after = try await status()
        #expect(after["version"] as? String == "0.2.0" && after["previous"] as? String == "0.1.0", "\(after)")
        #expect(try await w.matinee(["--version"], on: home).stdout == "0.2.0")
        #expect(!FileManager.default.fileExists(atPath: w.root + "/trial"), "the restarted daemon came up healthy")

        // The maintainer leaves; a second user gets 0.2.0 from the daemon alone.
        maintainer.kill(SIGTERM)
        #expect(try await maintainer.waitForExit(timeout: .seconds(60)) == 0, "\(maintainer.stderr.suffix(2000))")
        let put = try await serve.waitForStderr(timeout: .seconds(90)) { text in
            text.split(separator: "\n").last { $0.contains("Put the release pointer") }.map(String.init)
        }
        #expect(!put.hasSuffix(": 0 nodes took it"), "\(put)")
        let second = w.dir.sub("second-user")
        _ = try w.install(try w.bundle("0.1.0"), user: second)
        let fetched = try await w.matinee(["update"] + w.engine, user: second, on: net, timeout: .seconds(300))
        #expect(fetched.status == 0 && fetched.stdout == "0.2.0", "\(fetched.stderr)")

        // Back by hand through the daemon, which restarts on 0.1.0.
        let back = try await w.matinee(["update", "--rollback"], on: home, timeout: .seconds(240))
        #expect(back.status == 0 && back.stdout == "0.1.0", "\(back.stderr)")
        let rolled = try await status()
        #expect(rolled["version"] as? String == "0.1.0" && rolled["ready"] == nil, "\(rolled)")
        serve.kill(SIGTERM)
        #expect(try await serve.waitForExit(timeout: .seconds(30)) == 0, "\(serve.stderr.suffix(3000))")
    }
}
