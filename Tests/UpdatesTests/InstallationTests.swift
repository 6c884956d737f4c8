import Foundation
import TestSupport
import Testing
import TorrentKit
import Updates

@Suite("Installed versions side by side: switch, trial, rollback")
struct InstallationTests {
    let dir = TempDir("installation")

    func bundle(_ version: String, _ build: Int64) throws -> String {
        let b = dir.path + "/incoming-\(build)"
        try FileManager.default.createDirectory(atPath: b + "/bin", withIntermediateDirectories: true)
        FileManager.default.createFile(
            atPath: b + "/bin/matinee", contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755])
        FileManager.default.createFile(atPath: b + "/VERSION", contents: Data("\(version)\n".utf8))
        FileManager.default.createFile(atPath: b + "/BUILD", contents: Data("\(build)\n".utf8))
        return b
    }

    @Test func switchingIsOneLinkAndThePreviousIsKept() throws {
        let i = Installation(root: dir.sub("root"))
        try FileManager.default.createDirectory(atPath: i.versionsDir, withIntermediateDirectories: true)
        try i.add(bundle: try bundle("0.1.0", 1_000), build: 1_000)
        try i.switchTo(1_000, trial: false)
        #expect(i.current == 1_000 && i.previous == nil && i.trial == nil)
        try i.add(bundle: try bundle("0.2.0", 2_000), build: 2_000)
        try i.switchTo(2_000, trial: true)
        #expect(i.current == 2_000 && i.previous == 1_000)
        #expect(i.trial?.build == 2_000 && i.trial?.starts == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: i.currentLink) == "versions/2000")
        #expect(i.version(of: 2_000)?.version == "0.2.0")
        // The binary in it finds its installation from its own path.
        #expect(
            Installation.containing(executable: i.folder(2_000) + "/bin/matinee")?.root
                == URL(fileURLWithPath: i.root).standardizedFileURL.path)
        #expect(Installation.containing(executable: dir.path + "/incoming/bin/matinee") == nil)
        // Healthy: the trial ends; only that build's report counts.
        i.confirmHealthy(1_000)
        #expect(i.trial != nil)
        i.confirmHealthy(2_000)
        #expect(i.trial == nil)
    }

    @Test func rollingBackReturnsToThePreviousAndKeepsAnOlderFallback() throws {
        let i = Installation(root: dir.sub("root"))
        try FileManager.default.createDirectory(atPath: i.versionsDir, withIntermediateDirectories: true)
        for (v, b) in [("0.1.0", Int64(1_000)), ("0.2.0", 2_000), ("0.3.0", 3_000)] {
            try i.add(bundle: try bundle(v, b), build: b)
            try i.switchTo(b, trial: true)
        }
        #expect(i.current == 3_000 && i.previous == 2_000)
        let moved = try i.rollBack()
        #expect(moved.from == 3_000 && moved.to == 2_000)
        #expect(i.current == 2_000 && i.previous == 1_000 && i.trial == nil)
        // The state file records it: never offered again.
        let store = UpdateStore(dataFolder: dir.sub("data"))
        let channel = ReleaseChannel(publicKey: [UInt8](repeating: 7, count: 32))
        _ = try Updater.rollBack(i, store: store, channel: channel, reason: "rolled back by hand")
        #expect(i.current == 1_000)
        #expect(store.load(root: channel.root).trust.refusedBuilds["2000"] == "rolled back by hand")
        #expect(throws: ReleaseError.self) { _ = try i.rollBack() }
    }

    @Test func pruningKeepsCurrentPreviousAndTheNewest() throws {
        let i = Installation(root: dir.sub("root"))
        try FileManager.default.createDirectory(atPath: i.versionsDir, withIntermediateDirectories: true)
        for b in Int64(1)...5 {
            try i.add(bundle: try bundle("0.0.\(b)", b), build: b)
            try i.switchTo(b, trial: false)
        }
        i.prune(keep: 3)
        #expect(i.builds == [5, 4, 3])
    }
}

@Suite("A maintainer's release key at rest")
struct ReleaseKeyFileTests {
    let dir = TempDir("release-keys")

    @Test func itIsSealedWithThePassphraseAndPrivate() throws {
        let folder = dir.path + "/keys"
        let pass = Array("correct horse battery".utf8)
        let k = try ReleaseKeyFile.create(name: "main", passphrase: pass, in: folder)
        var st = stat()
        #expect(stat(k.path, &st) == 0 && st.st_mode & 0o777 == 0o600)
        #expect(stat(folder, &st) == 0 && st.st_mode & 0o777 == 0o700)
        let text = try String(contentsOfFile: k.path, encoding: .utf8)
        #expect(!text.contains(Hex.encode(Array(k.privateKey.rawRepresentation))))
        #expect(try ReleaseKeyFile.load(named: "main", passphrase: pass, in: folder).publicKey == k.publicKey)
        #expect(try ReleaseKeyFile.publicKey(named: "main", in: folder) == k.publicKey)
        #expect(throws: ReleaseError.self) { _ = try ReleaseKeyFile.load(named: "main", passphrase: Array("wrong one!".utf8), in: folder) }
        #expect(throws: ReleaseError.self) { _ = try ReleaseKeyFile.create(name: "main", passphrase: pass, in: folder) }
        #expect(throws: ReleaseError.self) { _ = try ReleaseKeyFile.create(name: "other", passphrase: Array("short".utf8), in: folder) }
        #expect(throws: ReleaseError.self) { _ = try ReleaseKeyFile.create(name: "../escape", passphrase: pass, in: folder) }
        // Swapping the name (authenticated with the ciphertext) breaks it.
        try text.replacingOccurrences(of: "\"name\" : \"main\"", with: "\"name\" : \"evil\"").write(
            toFile: k.path, atomically: true, encoding: .utf8)
        chmod(k.path, 0o600)
        #expect(throws: ReleaseError.self) { _ = try ReleaseKeyFile.load(named: "main", passphrase: pass, in: folder) }
        chmod(k.path, 0o644)
        let e = refusal { _ = try ReleaseKeyFile.load(named: "main", passphrase: pass, in: folder) }
        #expect(e?.message.contains("can be read by others") == true)
    }
}
