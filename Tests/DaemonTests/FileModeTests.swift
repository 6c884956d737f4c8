import Catalog
import Daemon
import Foundation
import TestSupport
import Testing

/// Matinee's own files are this user's alone from the moment they exist
/// (issue 12: daemon.json was written 0644 before a chmod, the data folder
/// was 0755 and the database 0644), whatever the umask.
@Suite("Private files", .serialized)
struct FileModeTests {
    func mode(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_mode & 0o777) : -1
    }

    @Test("the data folder is 0700, files written 0600 from the start, the catalog database 0600, even with umask 0")
    func modes() throws {
        let dir = TempDir()
        let old = umask(0)
        defer { umask(old) }
        let home = Home(data: dir.path + "/data", downloads: dir.path + "/downloads")
        try home.prepare()
        #expect(mode(home.data) == 0o700)
        #expect(mode(home.resumeDir) == 0o700)
        // An existing folder left open by an older version is closed too.
        chmod(home.data, 0o755)
        try home.prepare()
        #expect(mode(home.data) == 0o700)

        try Disk.writeAtomically(Array("{}".utf8), to: home.daemonFile)
        #expect(mode(home.daemonFile) == 0o600)
        #expect(try String(contentsOfFile: home.daemonFile, encoding: .utf8) == "{}")
        _ = try CatalogStore(path: home.catalogDatabase)
        #expect(mode(home.catalogDatabase) == 0o600)
    }
}
