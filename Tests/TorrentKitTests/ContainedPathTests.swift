import Foundation
import TestSupport
import Testing
import TorrentKit

@Suite("Paths that must stay under their folder")
struct ContainedPathTests {
    @Test("a file under the folder passes; .., a symlink out, the folder itself and a sibling with the same prefix do not")
    func contained() throws {
        let dir = TempDir()
        let root = dir.path + "/root"
        try FileManager.default.createDirectory(atPath: root + "/sub", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: root + "/sub/a.jpg", contents: Data())
        FileManager.default.createFile(atPath: dir.path + "/secret", contents: Data())
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: dir.path + "/secret")
        try FileManager.default.createDirectory(atPath: dir.path + "/root-other", withIntermediateDirectories: true)

        #expect(ContainedPath.resolve(root + "/sub/a.jpg", under: root) != nil)
        #expect(ContainedPath.resolve(root + "/sub/../../secret", under: root) == nil)
        #expect(ContainedPath.resolve(root + "/link", under: root) == nil)
        #expect(ContainedPath.resolve(root, under: root) == nil)
        #expect(ContainedPath.resolve(dir.path + "/root-other/x", under: root) == nil)
        // The folder itself reached through a symlink still contains its files.
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/alias", withDestinationPath: root)
        #expect(ContainedPath.resolve(dir.path + "/alias/sub/a.jpg", under: root) != nil)
    }
}
