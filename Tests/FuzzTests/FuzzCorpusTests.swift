import Foundation
import FuzzTargets
import TestSupport
import Testing

/// The fuzz corpus (Fuzz/corpus/TARGET: the seeds, and what libFuzzer kept
/// or found), replayed through every target: what once crashed or broke an
/// invariant stays fixed.
@Suite("Fuzz corpus")
struct FuzzCorpusTests {
    @Test("every input of every target's corpus runs clean", arguments: FuzzTargets.names)
    func replay(target: String) throws {
        let dir = Fixtures.packageRoot + "/Fuzz/corpus/" + target
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(files.count >= 3, "a corpus for \(target)")
        for f in files {
            let bytes = Array(FileManager.default.contents(atPath: dir + "/" + f) ?? Data())
            let problems = FuzzTargets.run(target, bytes)
            #expect(problems == [], "\(target)/\(f)")
        }
    }
}
