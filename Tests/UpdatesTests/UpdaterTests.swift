import Crypto
import Foundation
import TestSupport
import Testing
import TorrentKit
import Updates

/// The updater against real release torrents and real DHT pointers on a
/// private DHT: releases a hostile or careless publisher can craft (what
/// `release publish` never makes), each refused in one line with the
/// installed version untouched (The Update Framework's attacks, in order).
@Suite("The updater against hostile releases", .serialized)
struct UpdaterTests {
    let dir = TempDir("updater")
    let channel = Curve25519.Signing.PrivateKey()
    var channelKey: [UInt8] { Array(channel.publicKey.rawRepresentation) }

    /// A bundle archive: `top`/VERSION, BUILD and bin/matinee, plus
    /// whatever Python `extra` adds (hostile entries).
    func archive(version: String, build: Int64, extra: String = "") throws -> [UInt8] {
        let path = dir.path + "/archive-\(UUID().uuidString.prefix(6)).tar.gz"
        let top = "matinee-\(version)-linux-x86_64"
        try TarFixture.write(
            path,
            """
            add("\(top)/VERSION", b"\(version)\\n")
            add("\(top)/BUILD", b"\(build)\\n")
            add("\(top)/PLATFORM", b"linux-x86_64\\n")
            add("\(top)/bin/matinee", b"#!/bin/sh\\necho \(version)\\n", mode=0o755)
            \(extra)
            """)
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Seeds the archive's torrent and a release torrent whose manifest
    /// `edit` may change and `signers` sign, then points the channel at it.
    func publish(
        _ archive: [UInt8], version: String, build: Int64, sequence: Int64, seeder: TorrentSession,
        signers: [Curve25519.Signing.PrivateKey]? = nil, edit: (inout ReleaseManifest) -> Void = { _ in }
    ) async throws {
        let name = "matinee-\(version)-linux-x86_64"
        let root = dir.path + "/pub-\(sequence)"
        try FileManager.default.createDirectory(atPath: root + "/a/" + name, withIntermediateDirectories: true)
        try Data(archive).write(to: URL(fileURLWithPath: root + "/a/" + name + "/" + name + ".tar.gz"))
        let artifactTorrent = try await TorrentMaker.make(path: root + "/a/" + name)
        let artifactID = try TorrentMetadata(torrentFile: artifactTorrent).id
        var m = ReleaseManifest(
            channel: channelKey, sequence: sequence, version: version, build: build, issued: Date(),
            expires: Date().addingTimeInterval(86400),
            artifacts: [
                .init(
                    platform: Platform.current, file: name + ".tar.gz", size: Int64(archive.count),
                    sha256: Hex.encode(Array(SHA256.hash(data: archive))), infohash: artifactID.hex)
            ])
        edit(&m)
        let bytes = try m.encoded()
        var sigs = SignatureSet()
        for k in signers ?? [channel] { try sigs.add(.manifest, of: bytes, by: k) }
        let rel = root + "/r/matinee-release"
        try FileManager.default.createDirectory(atPath: rel, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: rel + "/manifest.json"))
        try Data(try sigs.encoded()).write(to: URL(fileURLWithPath: rel + "/manifest.sig"))
        let releaseTorrent = try await TorrentMaker.make(path: rel)
        for (t, save) in [(artifactTorrent, root + "/a"), (releaseTorrent, root + "/r")] {
            var o = AddTorrentOptions(source: .torrentFile(t), savePath: save)
            o.streaming = false
            o.seedMode = true
            try await seeder.add(o).announce()
        }
        let item = try TorrentPointer.item(
            pointingAt: try TorrentMetadata(torrentFile: releaseTorrent).id, sequence: sequence, key: channel)
        #expect(await seeder.dhtPut(item) > 0)
    }

    @Test("a good release, then forged, oversized, mismatched, unsafe and replayed ones: each refused, nothing installed")
    func hostileReleases() async throws {
        let dht = try await PrivateDHT.start(count: 4)
        let seeder = try await dht.session()
        let client = try await dht.session()
        let installation = Installation(root: dir.sub("install"))
        try FileManager.default.createDirectory(atPath: installation.versionsDir + "/1000/bin", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: installation.versionsDir + "/1000/bin/matinee", contents: Data("#!/bin/sh\n".utf8))
        try installation.switchTo(1_000, trial: false)
        let store = UpdateStore(dataFolder: dir.sub("data"))
        var updater = Updater(
            session: client, channel: ReleaseChannel(publicKey: channelKey), store: store,
            installed: InstalledVersion(version: "0.1.0", build: 1_000), installation: installation)
        updater.lookupBudget = .seconds(20)
        updater.downloadTimeout = .seconds(30)

        func refused(_ words: String, recorded: Int64? = nil, sourceLocation: SourceLocation = #_sourceLocation) async {
            do {
                let outcome = try await updater.check(download: true)
                Issue.record("accepted: \(outcome)", sourceLocation: sourceLocation)
            } catch let e as ReleaseError {
                #expect(e.message.contains(words), "\(e.message)", sourceLocation: sourceLocation)
            } catch {
                Issue.record("\(error)", sourceLocation: sourceLocation)
            }
            #expect(installation.current == 1_000 && installation.builds == [1_000], sourceLocation: sourceLocation)
            let state = store.load(root: updater.channel.root)
            #expect(state.ready == nil, sourceLocation: sourceLocation)
            if let recorded {
                #expect(state.trust.refusedBuilds[String(recorded)] != nil, "never tried again", sourceLocation: sourceLocation)
            }
        }

        // Signed by another key: refused before any archive is fetched.
        let stranger = Curve25519.Signing.PrivateKey()
        try await publish(
            try archive(version: "0.2.0", build: 2_000), version: "0.2.0", build: 2_000, sequence: 10, seeder: seeder, signers: [stranger])
        await refused("not signed by this channel's release keys")
        // An archive larger than its manifest announces: never downloaded.
        try await publish(
            try archive(version: "0.2.1", build: 2_001), version: "0.2.1", build: 2_001, sequence: 11, seeder: seeder,
            edit: { $0.artifacts[0].size -= 100 })
        await refused("the signed manifest announces", recorded: 2_001)
        // Other bytes than the signed SHA-256.
        try await publish(
            try archive(version: "0.2.2", build: 2_002), version: "0.2.2", build: 2_002, sequence: 12, seeder: seeder,
            edit: { $0.artifacts[0].sha256 = String(repeating: "00", count: 32) })
        await refused("SHA-256", recorded: 2_002)
        // A bundle that says it is another version than its manifest.
        try await publish(try archive(version: "0.9.9", build: 9_999), version: "0.2.3", build: 2_003, sequence: 13, seeder: seeder)
        await refused("says another version", recorded: 2_003)
        // A setuid file, and a link out of the bundle.
        try await publish(
            try archive(version: "0.2.4", build: 2_004, extra: "add(\"matinee-0.2.4-linux-x86_64/bin/su\", b\"x\", mode=0o4755)"),
            version: "0.2.4", build: 2_004, sequence: 14, seeder: seeder)
        await refused("setuid", recorded: 2_004)
        try await publish(
            try archive(
                version: "0.2.5", build: 2_005,
                extra: "add(\"matinee-0.2.5-linux-x86_64/etc\", type=tarfile.SYMTYPE, link=\"../../../etc\")"),
            version: "0.2.5", build: 2_005, sequence: 15, seeder: seeder)
        await refused("points out", recorded: 2_005)
        // Expired (a freeze).
        try await publish(
            try archive(version: "0.2.6", build: 2_006), version: "0.2.6", build: 2_006, sequence: 16, seeder: seeder,
            edit: {
                $0.issued = RFC3339.string(Date().addingTimeInterval(-10 * 86400))
                $0.expires = RFC3339.string(Date().addingTimeInterval(-86400))
            })
        await refused("expired")

        // A good one is accepted, unpacked beside versions/, and installed on trial.
        try await publish(try archive(version: "0.3.0", build: 3_000), version: "0.3.0", build: 3_000, sequence: 20, seeder: seeder)
        guard case .ready(let ready) = try await updater.check(download: true) else {
            Issue.record("the good release is not ready")
            return
        }
        #expect(ready.folder.hasPrefix(installation.versionsDir + "/.incoming-3000/"))
        let now = try updater.apply(ready)
        #expect(now.build == 3_000 && installation.current == 3_000 && installation.previous == 1_000)
        #expect(installation.trial?.build == 3_000)

        // Then an older release signed later (a rollback), and the same
        // version with other content: both refused, 0.3.0 stays.
        updater = Updater(
            session: client, channel: updater.channel, store: store, installed: InstalledVersion(version: "0.3.0", build: 3_000),
            installation: installation)
        updater.lookupBudget = .seconds(20)
        updater.downloadTimeout = .seconds(30)
        try await publish(try archive(version: "0.2.9", build: 2_009), version: "0.2.9", build: 2_009, sequence: 21, seeder: seeder)
        await #expect(throws: ReleaseError.self) { _ = try await updater.check(download: true) }
        try await publish(
            try archive(version: "0.3.0", build: 3_000, extra: "add(\"matinee-0.3.0-linux-x86_64/extra\", b\"other\")"), version: "0.3.0",
            build: 3_000, sequence: 22, seeder: seeder)
        #expect(try await updater.check(download: true) == .upToDate(InstalledVersion(version: "0.3.0", build: 3_000)))
        #expect(installation.current == 3_000)
        // A replayed old pointer (sequence 20, still on some node) is refused
        // against the stored high-water mark.
        var state = store.load(root: updater.channel.root)
        #expect(state.trust.highestSequence == 22)
        state.trust.highestSequence = 30
        try store.save(state)
        await #expect(throws: ReleaseError.self) { _ = try await updater.check(download: false) }
        await seeder.shutdown()
        await client.shutdown()
    }

    @Test("a full disk, for the download or the unpacking: said in one line, never held against the release, fine once there is room")
    func fullDisk() async throws {
        let dht = try await PrivateDHT.start(count: 4)
        let seeder = try await dht.session()
        let client = try await dht.session()
        // The data folder (downloads) and the install root (unpacking) on
        // disks of their own, both too small at first.
        let data = try SmallDisk(at: dir.path + "/data", mib: 1)
        let root = try SmallDisk(at: dir.path + "/install", mib: 4)
        let installation = Installation(root: root.path)
        try FileManager.default.createDirectory(atPath: installation.versionsDir + "/1000/bin", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: installation.versionsDir + "/1000/bin/matinee", contents: Data("#!/bin/sh\n".utf8))
        try installation.switchTo(1_000, trial: false)
        let store = UpdateStore(dataFolder: data.path)
        var updater = Updater(
            session: client, channel: ReleaseChannel(publicKey: channelKey), store: store,
            installed: InstalledVersion(version: "0.1.0", build: 1_000), installation: installation)
        updater.lookupBudget = .seconds(20)
        updater.downloadTimeout = .seconds(30)
        // A 2 MiB archive (random bytes) that unpacks to 10 MiB (zeros too).
        try await publish(
            try archive(
                version: "0.2.0", build: 2_000,
                extra: """
                    add("matinee-0.2.0-linux-x86_64/noise", __import__("os").urandom(2 << 20))
                    add("matinee-0.2.0-linux-x86_64/zeros", bytes(8 << 20))
                    """),
            version: "0.2.0", build: 2_000, sequence: 1, seeder: seeder)

        func fails(_ words: String, sourceLocation: SourceLocation = #_sourceLocation) async {
            do {
                let outcome = try await updater.check(download: true)
                Issue.record("accepted: \(outcome)", sourceLocation: sourceLocation)
            } catch let e as ReleaseError {
                #expect(e.kind == .diskFull && e.message.contains(words), "\(e.message)", sourceLocation: sourceLocation)
                #expect(!e.message.contains("\n"), "one line", sourceLocation: sourceLocation)
            } catch {
                Issue.record("\(error)", sourceLocation: sourceLocation)
            }
            #expect(installation.current == 1_000 && installation.builds == [1_000], sourceLocation: sourceLocation)
            let state = store.load(root: updater.channel.root)
            #expect(state.ready == nil && state.trust.refusedBuilds.isEmpty, "nothing held against it", sourceLocation: sourceLocation)
            #expect(state.lastCheckFailed == true, sourceLocation: sourceLocation)
            let left = (try? FileManager.default.contentsOfDirectory(atPath: installation.versionsDir)) ?? []
            #expect(left == ["1000"], "nothing half-unpacked is left: \(left)", sourceLocation: sourceLocation)
        }

        // No room for the download: refused before any byte is fetched.
        await fails("not enough room to download Matinee 0.2.0")
        // Room for the download, not for the unpacking.
        try data.resize(mib: 16)
        await fails("is full")
        await fails("cannot be unpacked; free some space and check again")
        // Room at last: the same release installs (the download was kept).
        try root.resize(mib: 64)
        guard case .ready(let ready) = try await updater.check(download: true) else {
            Issue.record("the release is not ready once there is room")
            return
        }
        #expect(try updater.apply(ready).build == 2_000)
        #expect(installation.current == 2_000)
        await seeder.shutdown()
        await client.shutdown()
    }
}
