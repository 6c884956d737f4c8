import Catalog
import Crypto
import Foundation
import Testing
import TorrentKit
import Updates

/// A release channel with its keys, and manifests signed as a test needs.
struct Channel {
    let key = Curve25519.Signing.PrivateKey()
    var publicKey: [UInt8] { Array(key.publicKey.rawRepresentation) }
    var trust: ReleaseTrust { ReleaseTrust(keys: .root(channel: publicKey)) }

    func manifest(
        build: Int64 = 2_000, version: String = "0.2.0", sequence: Int64 = 100, issued: Date = Date(), days: Double = 30,
        keysVersion: Int = 1, revoked: [Int64] = [], minimumBuild: Int64 = 0, platform: String = "linux-x86_64", channel: [UInt8]? = nil
    ) -> ReleaseManifest {
        ReleaseManifest(
            channel: channel ?? publicKey, sequence: sequence, version: version, build: build, issued: issued,
            expires: issued.addingTimeInterval(days * 86400), minimumBuild: minimumBuild, revokedBuilds: revoked, keysVersion: keysVersion,
            artifacts: [
                .init(
                    platform: platform, file: "matinee-\(version)-\(platform).tar.gz", size: 1000,
                    sha256: String(repeating: "ab", count: 32),
                    infohash: String(repeating: "cd", count: 20))
            ])
    }

    func signed(_ m: ReleaseManifest, by keys: [Curve25519.Signing.PrivateKey]? = nil) throws -> ([UInt8], SignatureSet) {
        let bytes = try m.encoded()
        var set = SignatureSet()
        for k in keys ?? [key] { try set.add(.manifest, of: bytes, by: k) }
        return (bytes, set)
    }
}

func refusal(_ body: () throws -> Void) -> ReleaseError? {
    do {
        try body()
        return nil
    } catch let e as ReleaseError {
        return e
    } catch {
        return ReleaseError(.malformed, "unexpected \(error)")
    }
}

@Suite("A release's manifest: the client's checks, in order")
struct ReleaseCheckTests {
    let channel = Channel()
    var check: ReleaseCheck {
        ReleaseCheck(
            channel: channel.publicKey, installed: InstalledVersion(version: "0.1.0", build: 1_000), platform: "linux-x86_64", now: Date())
    }

    @Test func aSignedNewerReleaseIsAccepted() throws {
        let (bytes, sigs) = try channel.signed(channel.manifest())
        let a = try check.manifest(bytes, signatures: sigs, rotations: [], pointerSequence: 100, trust: channel.trust)
        #expect(a.manifest.build == 2_000)
        #expect(a.artifact.platform == "linux-x86_64")
    }

    @Test func aManifestSignedByAnotherKeyIsRefused() throws {
        let other = Curve25519.Signing.PrivateKey()
        let (bytes, sigs) = try channel.signed(channel.manifest(), by: [other])
        let e = refusal { _ = try check.manifest(bytes, signatures: sigs, rotations: [], pointerSequence: 100, trust: channel.trust) }
        #expect(e?.kind == .signature)
        #expect(e?.message.contains("not signed by this channel's release keys") == true)
    }

    @Test func aTamperedManifestNoLongerVerifies() throws {
        var (bytes, sigs) = try channel.signed(channel.manifest())
        let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "abababab", with: "abababac")
        bytes = Array(text.utf8)
        let e = refusal { _ = try check.manifest(bytes, signatures: sigs, rotations: [], pointerSequence: 100, trust: channel.trust) }
        #expect(e?.kind == .signature)
    }

    @Test func aThresholdIsNotMetByOneKeyListedTwice() throws {
        let second = Curve25519.Signing.PrivateKey()
        var trust = channel.trust
        trust.keys = ReleaseKeys(
            channel: Hex.encode(channel.publicKey), version: 1, threshold: 2,
            keys: [channel.publicKey, Array(second.publicKey.rawRepresentation)].map(Hex.encode))
        let m = channel.manifest()
        let bytes = try m.encoded()
        let one = try ReleaseDomain.manifest.sign(bytes, with: channel.key)
        let entry = SignatureSet.Entry(key: Hex.encode(channel.publicKey), signature: Hex.encode(one))
        let doubled = SignatureSet(signatures: [entry, entry])
        let e = refusal { _ = try check.manifest(bytes, signatures: doubled, rotations: [], pointerSequence: 100, trust: trust) }
        #expect(e?.message.contains("signed by 1 of the release keys, 2 needed") == true)
        // Upper case hex is the same key, not a second one.
        let upper = SignatureSet(signatures: [entry, .init(key: entry.key.uppercased(), signature: entry.signature)])
        #expect(refusal { _ = try check.manifest(bytes, signatures: upper, rotations: [], pointerSequence: 100, trust: trust) } != nil)
        // Both keys: accepted.
        let (_, both) = try channel.signed(m, by: [channel.key, second])
        _ = try check.manifest(bytes, signatures: both, rotations: [], pointerSequence: 100, trust: trust)
    }

    @Test func anOlderBuildPublishedLaterIsARollback() throws {
        let (bytes, sigs) = try channel.signed(channel.manifest(build: 900, version: "0.0.9", sequence: 200))
        let e = refusal { _ = try check.manifest(bytes, signatures: sigs, rotations: [], pointerSequence: 200, trust: channel.trust) }
        #expect(e?.kind == .policy)
        #expect(e?.message.contains("a rollback") == true)
    }

    @Test func theInstalledBuildIsUpToDateNotARefusal() throws {
        let (bytes, sigs) = try channel.signed(channel.manifest(build: 1_000, version: "0.1.0"))
        let e = refusal { _ = try check.manifest(bytes, signatures: sigs, rotations: [], pointerSequence: 100, trust: channel.trust) }
        #expect(e?.kind == .upToDate)
    }

    @Test func anExpiredManifestIsAFreeze() throws {
        let old = Date().addingTimeInterval(-40 * 86400)
        let (bytes, sigs) = try channel.signed(channel.manifest(issued: old, days: 30))
        let e = refusal { _ = try check.manifest(bytes, signatures: sigs, rotations: [], pointerSequence: 100, trust: channel.trust) }
        #expect(e?.message.contains("expired") == true)
        // A few minutes of clock skew are allowed.
        let justNow = Date().addingTimeInterval(-86400 - 120)
        let (b2, s2) = try channel.signed(channel.manifest(issued: justNow, days: 1))
        _ = try check.manifest(b2, signatures: s2, rotations: [], pointerSequence: 100, trust: channel.trust)
        let future = Date().addingTimeInterval(86400)
        let (b3, s3) = try channel.signed(channel.manifest(issued: future))
        #expect(
            refusal { _ = try check.manifest(b3, signatures: s3, rotations: [], pointerSequence: 100, trust: channel.trust) }?.message
                .contains("future") == true)
    }

    @Test func appChannelSequenceRevocationAndPlatformAreChecked() throws {
        let other = Curve25519.Signing.PrivateKey()
        let cases: [(ReleaseManifest, Int64, String)] = [
            (channel.manifest(channel: Array(other.publicKey.rawRepresentation)), 100, "another app or channel"),
            (channel.manifest(), 101, "signed for sequence 100"),
            (channel.manifest(revoked: [2_000]), 100, "revokes build 2000"),
            (channel.manifest(minimumBuild: 1_500), 100, "needs build 1500"),
            (channel.manifest(platform: "linux-riscv64"), 100, "no build for linux-x86_64"),
        ]
        for (m, seq, words) in cases {
            let (bytes, sigs) = try channel.signed(m)
            let e = refusal { _ = try check.manifest(bytes, signatures: sigs, rotations: [], pointerSequence: seq, trust: channel.trust) }
            #expect(e?.message.contains(words) == true, "\(words): \(e?.message ?? "accepted")")
        }
        var trust = channel.trust
        trust.refusedBuilds["2000"] = "it failed to start"
        let (bytes, sigs) = try channel.signed(channel.manifest())
        #expect(
            refusal { _ = try check.manifest(bytes, signatures: sigs, rotations: [], pointerSequence: 100, trust: trust) }?.message
                .contains("refused here before") == true)
    }

    @Test func anOversizedOrMalformedManifestIsRefusedUnread() throws {
        let big = [UInt8](repeating: 0x20, count: ReleaseManifest.maxBytes + 1)
        #expect(refusal { _ = try ReleaseManifest.decode(big) }?.message.contains("at most") == true)
        #expect(refusal { _ = try ReleaseManifest.decode(Array("{\"format\":1}".utf8)) }?.kind == .malformed)
        var m = channel.manifest()
        m.artifacts[0].file = "../../bin/sh"
        #expect(refusal { _ = try ReleaseManifest.decode(try m.encoded()) }?.kind == .malformed)
    }

    @Test func signaturesNeverCrossDomains() throws {
        let m = try channel.manifest().encoded()
        // A catalog signature over the same bytes is no manifest signature...
        let catalogSig = try CatalogSignature.sign(m, with: channel.key)
        let asManifest = SignatureSet(signatures: [.init(key: Hex.encode(channel.publicKey), signature: Hex.encode(catalogSig))])
        #expect(
            refusal { _ = try check.manifest(m, signatures: asManifest, rotations: [], pointerSequence: 100, trust: channel.trust) }?.kind
                == .signature)
        // ...a manifest signature is no catalog signature...
        let manifestSig = try ReleaseDomain.manifest.sign(m, with: channel.key)
        #expect(!CatalogSignature.isValid(manifestSig, of: m, publicKey: channel.publicKey))
        // ...nor a keys document signature, nor a raw (archive or BEP 44) one.
        #expect(!ReleaseDomain.keys.isValid(manifestSig, of: m, publicKey: channel.publicKey))
        #expect(!channel.key.publicKey.isValidSignature(manifestSig, for: m))
        // A BEP 44 pointer signature verifies as nothing else.
        let item = try TorrentPointer.item(
            pointingAt: TorrentID(string: String(repeating: "cd", count: 20))!, sequence: 5, key: channel.key)
        #expect(TorrentPointer.isValid(item))
        #expect(!ReleaseDomain.manifest.isValid(item.signature, of: item.value, publicKey: channel.publicKey))
        #expect(!ReleaseDomain.manifest.isValid(item.signature, of: item.signedBytes, publicKey: channel.publicKey))
        // The archive signature is over gzip bytes only.
        #expect(throws: ReleaseError.self) { _ = try ArchiveSignature.sign(m, with: channel.key) }
        let gz: [UInt8] = [0x1f, 0x8b, 8, 0, 1, 2, 3]
        let s = try ArchiveSignature.sign(gz, with: channel.key)
        #expect(ArchiveSignature.isValid(s, of: gz, publicKey: channel.publicKey))
        #expect(!ReleaseDomain.manifest.isValid(s, of: gz, publicKey: channel.publicKey))
    }
}

@Suite("The release pointer and the archive's size and hash")
struct ReleasePointerTests {
    let channel = Channel()
    var check: ReleaseCheck {
        ReleaseCheck(channel: channel.publicKey, installed: .development, platform: "linux-x86_64", now: Date())
    }
    let id = TorrentID(string: String(repeating: "12", count: 20))!
    let other = TorrentID(string: String(repeating: "34", count: 20))!

    @Test func theSequenceNeverGoesBack() throws {
        var trust = channel.trust
        trust.highestSequence = 50
        let older = try TorrentPointer.item(pointingAt: id, sequence: 49, key: channel.key)
        #expect(
            refusal { _ = try check.pointer(older, trust: trust, lastTorrent: other) }?.message.contains("older release pointer") == true)
        let same = try TorrentPointer.item(pointingAt: id, sequence: 50, key: channel.key)
        #expect(try check.pointer(same, trust: trust, lastTorrent: id) == .unchanged)
        #expect(refusal { _ = try check.pointer(same, trust: trust, lastTorrent: other) }?.message.contains("reuses sequence") == true)
        let newer = try TorrentPointer.item(pointingAt: other, sequence: 51, key: channel.key)
        #expect(try check.pointer(newer, trust: trust, lastTorrent: id) == .fetch(other, sequence: 51))
    }

    @Test func aPointerByAnotherKeyOrForgedIsRefused() throws {
        let stranger = Curve25519.Signing.PrivateKey()
        let item = try TorrentPointer.item(pointingAt: id, sequence: 5, key: stranger)
        #expect(refusal { _ = try check.pointer(item, trust: channel.trust, lastTorrent: nil) }?.kind == .pointer)
        var forged = try TorrentPointer.item(pointingAt: id, sequence: 5, key: channel.key)
        forged.sequence = 6
        #expect(refusal { _ = try check.pointer(forged, trust: channel.trust, lastTorrent: nil) }?.kind == .pointer)
    }

    @Test func anArchiveLargerThanAnnouncedIsNeverFetched() throws {
        let a = ReleaseManifest.Artifact(
            platform: "linux-x86_64", file: "m.tar.gz", size: 1000, sha256: String(repeating: "00", count: 32), infohash: id.hex)
        try ReleaseCheck.artifactFiles([("m/m.tar.gz", 1000), ("m/m.tar.gz.sig", 64)], artifact: a)
        #expect(refusal { try ReleaseCheck.artifactFiles([("m/m.tar.gz", 1001)], artifact: a) }?.message.contains("announces 1000") == true)
        #expect(refusal { try ReleaseCheck.artifactFiles([("m/other.tar.gz", 1000)], artifact: a) } != nil)
        #expect(refusal { try ReleaseCheck.artifactFiles([("m/m.tar.gz", 1000), ("m/extra", 1 << 20)], artifact: a) } != nil)
        #expect(
            refusal { try ReleaseCheck.archiveDigest([UInt8](repeating: 1, count: 32), size: 1000, artifact: a) }?.message.contains(
                "SHA-256") == true)
        try ReleaseCheck.archiveDigest([UInt8](repeating: 0, count: 32), size: 1000, artifact: a)
    }
}

@Suite("Release keys: rotation needs the old keys and the new")
struct ReleaseKeysTests {
    let channel = Channel()

    func rotation(
        to keys: ReleaseKeys, signedBy signers: [Curve25519.Signing.PrivateKey]
    ) throws -> (document: [UInt8], signatures: SignatureSet) {
        let doc = try keys.encoded()
        var set = SignatureSet()
        for k in signers { try set.add(.keys, of: doc, by: k) }
        return (doc, set)
    }

    @Test func aRotationSignedByOldAndNewIsFollowed() throws {
        let new = Curve25519.Signing.PrivateKey()
        let v2 = ReleaseKeys(
            channel: Hex.encode(channel.publicKey), version: 2, threshold: 1, keys: [Hex.encode(Array(new.publicKey.rawRepresentation))])
        let reached = try channel.trust.keys.following([try rotation(to: v2, signedBy: [channel.key, new])])
        #expect(reached == v2)
        // A manifest signed by the old key alone is then refused.
        let check = ReleaseCheck(channel: channel.publicKey, installed: .development, platform: "linux-x86_64", now: Date())
        let rot = [try rotation(to: v2, signedBy: [channel.key, new])]
        let (oldBytes, oldSigs) = try channel.signed(channel.manifest(keysVersion: 2))
        #expect(
            refusal { _ = try check.manifest(oldBytes, signatures: oldSigs, rotations: rot, pointerSequence: 100, trust: channel.trust) }?
                .kind == .signature)
        let (b, s) = try channel.signed(channel.manifest(keysVersion: 2), by: [new])
        #expect(try check.manifest(b, signatures: s, rotations: rot, pointerSequence: 100, trust: channel.trust).keys == v2)
    }

    @Test func aRotationSignedOnlyByTheNewKeysIsRefused() throws {
        let new = Curve25519.Signing.PrivateKey()
        let v2 = ReleaseKeys(
            channel: Hex.encode(channel.publicKey), version: 2, threshold: 1, keys: [Hex.encode(Array(new.publicKey.rawRepresentation))])
        let e = refusal { _ = try channel.trust.keys.following([try rotation(to: v2, signedBy: [new])]) }
        #expect(e?.message.contains("signed by 0 of the current keys") == true)
        let e2 = refusal { _ = try channel.trust.keys.following([try rotation(to: v2, signedBy: [channel.key])]) }
        #expect(e2?.message.contains("of its own keys") == true)
        // Skipping a version is refused too.
        var v3 = v2
        v3.version = 3
        #expect(refusal { _ = try channel.trust.keys.following([try rotation(to: v3, signedBy: [channel.key, new])]) } != nil)
    }

    @Test func aKeysDocumentListingAKeyTwiceIsRefused() throws {
        let k = Hex.encode(channel.publicKey)
        let doubled = ReleaseKeys(channel: k, version: 2, threshold: 2, keys: [k, k])
        #expect(refusal { _ = try ReleaseKeys.decode(try doubled.encoded()) }?.message.contains("lists a key twice") == true)
        let tooMany = ReleaseKeys(channel: k, version: 2, threshold: 3, keys: [k])
        #expect(refusal { _ = try ReleaseKeys.decode(try tooMany.encoded()) } != nil)
    }
}
