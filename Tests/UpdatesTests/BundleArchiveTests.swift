import Crypto
import Foundation
import TestSupport
import Testing
import Updates

/// Archives made by Python's tarfile (ustar), hostile ones included: the
/// extraction must refuse each and leave nothing behind.
@Suite("Unpacking a release bundle")
struct BundleArchiveTests {
    let dir = TempDir("bundle-archive")

    func archive(_ name: String, _ entries: String) throws -> String {
        let path = dir.path + "/" + name + ".tar.gz"
        try TarFixture.write(path, entries)
        return path
    }

    @Test func aGoodBundleUnpacksWithModesAndInnerLinks() throws {
        let a = try archive(
            "good",
            """
            add("m-1/", type=tarfile.DIRTYPE, mode=0o755)
            add("m-1/VERSION", b"1.2.3\\n")
            add("m-1/BUILD", b"1002003\\n")
            add("m-1/bin/matinee", b"#!/bin/sh\\necho hi\\n", mode=0o755)
            add("m-1/docs/readme.txt", b"hello")
            add("m-1/docs/latest", type=tarfile.SYMTYPE, link="readme.txt")
            add("m-1/bin/up", type=tarfile.SYMTYPE, link="../docs/readme.txt")
            """)
        let dest = dir.path + "/out-good"
        let top = try BundleArchive.extract(a, into: dest)
        #expect(top == "m-1")
        #expect(InstalledVersion.read(bundle: dest + "/m-1") == InstalledVersion(version: "1.2.3", build: 1_002_003))
        #expect(FileManager.default.isExecutableFile(atPath: dest + "/m-1/bin/matinee"))
        #expect(!FileManager.default.isExecutableFile(atPath: dest + "/m-1/docs/readme.txt"))
        #expect(try String(contentsOfFile: dest + "/m-1/bin/up", encoding: .utf8) == "hello")
    }

    @Test(arguments: [
        ("dotdot", "add(\"m/../../evil\", b\"x\")", "climbs out"),
        ("absolute", "add(\"/tmp/evil\", b\"x\")", "absolute path"),
        ("link-out", "add(\"m/x\", type=tarfile.SYMTYPE, link=\"../../etc/passwd\")", "points out"),
        ("link-abs", "add(\"m/x\", type=tarfile.SYMTYPE, link=\"/etc/passwd\")", "absolute path"),
        ("below-link", "add(\"m/d\", type=tarfile.SYMTYPE, link=\".\")\nadd(\"m/d/f\", b\"x\")", "below a symbolic link"),
        ("hardlink", "add(\"m/a\", b\"x\")\nadd(\"m/b\", type=tarfile.LNKTYPE, link=\"m/a\")", "hard link"),
        ("device", "add(\"m/dev\", type=tarfile.CHRTYPE)", "device file"),
        ("block", "add(\"m/blk\", type=tarfile.BLKTYPE)", "device file"),
        ("fifo", "add(\"m/p\", type=tarfile.FIFOTYPE)", "FIFO"),
        ("setuid", "add(\"m/bin/matinee\", b\"x\", mode=0o4755)", "setuid"),
        ("setgid", "add(\"m/bin/matinee\", b\"x\", mode=0o2755)", "setuid or setgid"),
        ("two-tops", "add(\"m/a\", b\"x\")\nadd(\"n/b\", b\"y\")", "more than one top folder"),
        ("twice", "add(\"m/a\", b\"x\")\nadd(\"m/a\", b\"y\")", "twice"),
        ("control", "add(\"m/a\\nb\", b\"x\")", "control characters"),
    ])
    func aHostileBundleIsRefusedAndLeavesNothing(name: String, entries: String, words: String) throws {
        let a = try archive(name, entries)
        let dest = dir.path + "/out-" + name
        do {
            _ = try BundleArchive.extract(a, into: dest)
            Issue.record("\(name) was unpacked")
        } catch let e as ReleaseError {
            #expect(e.message.contains(words), "\(name): \(e.message)")
        }
        #expect(!FileManager.default.fileExists(atPath: dest))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/evil"))
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/evil"))
    }

    @Test func garbageAndNonUstarAreRefused() throws {
        let junk = dir.path + "/junk.tar.gz"
        FileManager.default.createFile(atPath: junk, contents: Data([0x1f, 0x8b, 1, 2, 3, 4, 5]))
        #expect(throws: ReleaseError.self) { _ = try BundleArchive.extract(junk, into: dir.path + "/out-junk") }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/out-junk"))
        let gnu = dir.path + "/gnu.tar.gz"
        _ = try Fixtures.run(
            "/usr/bin/python3",
            [
                "-c",
                "import tarfile,io,sys; t=tarfile.open(sys.argv[1],'w:gz',format=tarfile.GNU_FORMAT); i=tarfile.TarInfo('m/'+'x'*150); i.size=1; t.addfile(i, io.BytesIO(b'x')); t.close()",
                gnu,
            ])
        #expect(throws: ReleaseError.self) { _ = try BundleArchive.extract(gnu, into: dir.path + "/out-gnu") }
    }
}

/// A .tar.gz (ustar) made by Python's tarfile: `entries` is Python calling
/// `add(name, data=b"", type=tarfile.REGTYPE, mode=0o644, link="")` per entry,
/// hostile ones included.
enum TarFixture {
    static func write(_ path: String, _ entries: String) throws {
        let script = """
            import io, sys, tarfile
            t = tarfile.open(sys.argv[1], "w:gz", format=tarfile.USTAR_FORMAT)
            def add(name, data=b"", type=tarfile.REGTYPE, mode=0o644, link=""):
                i = tarfile.TarInfo(name); i.type = type; i.mode = mode; i.linkname = link
                i.size = len(data) if type == tarfile.REGTYPE else 0
                t.addfile(i, io.BytesIO(data) if type == tarfile.REGTYPE else None)
            \(entries)
            t.close()
            """
        try Fixtures.run("/usr/bin/python3", ["-c", script, path])
    }
}
