// The catalog benchmark: import a synthetic catalog of N titles (in channels
// of at most 20,000 titles, the per-catalog limit) into the SQLite index and time typical searches, FTS5 (what Matinee uses) side by
// side with a plain LIKE scan over the same rows (what a naive index does).
//
//   swift build -c release --product catalog-bench
//   .build/release/catalog-bench --titles 100000 --runs 200
//
// This is a harness, not a test: figures go to docs/benchmarks.md.
import Catalog
import Foundation
import GRDB

@main
enum CatalogBench {
    static func main() async throws {
        var titleCount = 100_000
        var runs = 200
        var keep = false
        var reuse: String?
        var rest = CommandLine.arguments.dropFirst()
        func fail(_ message: String) -> Never {
            FileHandle.standardError.write(Data("catalog-bench: \(message); see --help\n".utf8))
            exit(2)
        }
        func number(_ name: String) -> Int {
            guard let v = rest.popFirst().flatMap({ Int($0) }), v > 0 else { fail("\(name) needs a whole number above 0") }
            return v
        }
        while let a = rest.popFirst() {
            switch a {
            case "--titles": titleCount = number(a)
            case "--runs": runs = number(a)
            case "--keep": keep = true
            case "--database":
                guard let d = rest.popFirst() else { fail("--database needs the folder a --keep run printed") }
                reuse = d
            case "-h", "--help":
                print(
                    """
                    usage: catalog-bench [--titles N] [--runs N] [--keep] [--database DIR]
                    Imports a synthetic catalog of N made-up titles (channels of 20,000, the per-catalog
                    limit) into Matinee's SQLite index, then times typical searches (one word, a 3-letter
                    prefix while typing, two words, a rare word, a word with a genre and a kind), each a
                    page of 50, with Matinee's FTS5 search and a plain LIKE scan over the same rows.
                      --titles N      how many titles (default 100000)
                      --runs N        rounds (default 200): each times one search of every shape, in turn,
                                      and every 10th the LIKE scan too; p50 and p99 printed
                      --keep          leave the database and print its folder, for sqlite3 or --database
                      --database DIR  search the database a --keep run left (same --titles), no import
                    Build it in release mode: swift build -c release --product catalog-bench
                    """)
                exit(0)
            default: fail("unknown argument \(a)")
            }
        }

        // A deterministic vocabulary: made-up words, so results do not depend on
        // anyone's real catalog.
        var rng = SplitMix(seed: 42)
        let syllables = ["ka", "lo", "mi", "ra", "sen", "to", "vel", "dor", "an", "is", "mar", "quin", "zu", "pe", "gra", "hol"]
        let words: [String] = (0..<4000).map { _ in (0..<(2 + rng.next() % 3)).map { _ in syllables[rng.next() % syllables.count] }.joined()
        }
        let genres = ["Animation", "Drama", "Comedy", "Documentary", "Fantasy", "Science Fiction", "Thriller", "Family"]

        func sentence(_ n: Int) -> String { (0..<n).map { _ in words[rng.next() % words.count] }.joined(separator: " ") }

        var titles: [CatalogDocument.Title] = []
        titles.reserveCapacity(titleCount)
        for i in 0..<titleCount {
            var t = CatalogDocument.Title(id: "t\(i)", kind: i % 5 == 0 ? .series : .movie, title: sentence(1 + rng.next() % 3).capitalized)
            t.year = 1950 + rng.next() % 75
            t.synopsis = sentence(20 + rng.next() % 30)
            t.genres = [genres[rng.next() % genres.count]]
            let src = CatalogDocument.Source(infohash: String(format: "%040x", i), file: 0, size: 1_000_000)
            if t.kind == .series {
                t.seasons = [CatalogDocument.Season(number: 1, episodes: [CatalogDocument.Episode(number: 1, sources: [src])])]
            } else {
                t.sources = [src]
            }
            titles.append(t)
        }
        let dir = reuse ?? FileManager.default.temporaryDirectory.appendingPathComponent("catalog-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if reuse != nil { keep = true }
        defer { if keep { print("kept \(dir)/catalog.sqlite") } else { try? FileManager.default.removeItem(atPath: dir) } }
        let store = try CatalogStore(path: dir + "/catalog.sqlite")

        let clock = ContinuousClock()
        var importTime = Duration.zero
        var validateTime = Duration.zero
        var channelCount = 0
        for start in stride(from: 0, to: reuse == nil ? titles.count : 0, by: 20_000) {
            let key = String(format: "%064x", start + 1)
            let doc = CatalogDocument(
                channel: .init(key: key, name: "Synthetic \(start / 20_000 + 1)"), sequence: 1, issued: Date(),
                expires: Date().addingTimeInterval(86400), titles: Array(titles[start..<min(start + 20_000, titles.count)]))
            try await store.addChannel(key: key, name: doc.channel.name, address: "")
            validateTime += try clock.measure { try doc.validate(key: nil, sequence: nil) }
            importTime += try await clock.measure {
                try await store.importCatalog(doc, channelKey: key, catalogInfoHash: nil, files: nil)
            }
            channelCount += 1
        }

        // Typical queries: one word, a prefix while typing, two words, a filter;
        // each returns a page of 50 titles.
        let common = words[7], rare = words[3999], other = words[1234]
        let queries: [(String, CatalogStore.Query, String)] = [
            ("one word", CatalogStore.Query(words: common), common),
            ("prefix while typing", CatalogStore.Query(words: String(common.prefix(3))), String(common.prefix(3))),
            ("two words", CatalogStore.Query(words: "\(common) \(other)"), common),
            ("rare word", CatalogStore.Query(words: rare), rare),
            ({ () -> (String, CatalogStore.Query, String) in
                var q = CatalogStore.Query(words: common)
                q.genre = "Drama"
                q.kind = .movie
                return ("word + genre + kind", q, common)
            })(),
        ]

        // The naive alternative: LIKE over title and synopsis, same database.
        let naive = try DatabaseQueue(path: dir + "/catalog.sqlite")

        func percentile(_ xs: [Double], _ p: Double) -> Double {
            let s = xs.sorted()
            return s[min(s.count - 1, Int(Double(s.count - 1) * p))]
        }
        func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }

        if reuse != nil {
            print("searching the database in \(dir), no import")
        } else {
            print(
                "\(titleCount) titles in \(channelCount) channels: import \(String(format: "%.2f", ms(importTime) / 1000)) s, validation \(String(format: "%.2f", ms(validateTime) / 1000)) s"
            )
        }
        print("the words searched: \(common) (common), \(String(common.prefix(3))) (its prefix), \(other), \(rare) (rare)")
        print("")
        print("| query | hits | FTS5 p50 (ms) | FTS5 p99 (ms) | LIKE p50 (ms) | LIKE p99 (ms) | LIKE / FTS5 (p50) |")
        print("|---|---|---|---|---|---|---|")
        // Rounds interleave the shapes and the baseline, so that a burst of
        // load from elsewhere on a shared machine falls on all of them alike
        // rather than on whichever shape was running.
        var fts = Array(repeating: [Double](), count: queries.count)
        var like = Array(repeating: [Double](), count: queries.count)
        var hits = Array(repeating: 0, count: queries.count)
        let likeEvery = runs >= 50 ? 10 : 1
        for round in 0..<runs {
            for (n, (_, query, word)) in queries.enumerated() {
                var q = query
                q.limit = 50  // a page of results, as the UI shows
                let d = try await clock.measure { hits[n] = try await store.search(q).count }
                fts[n].append(ms(d))
                guard round % likeEvery == 0 else { continue }
                let l = try await clock.measure {
                    _ = try await naive.read { db in
                        try Row.fetchAll(
                            db, sql: "SELECT id, document FROM title WHERE title LIKE ? OR synopsis LIKE ? ORDER BY title LIMIT 50",
                            arguments: ["%\(word)%", "%\(word)%"])
                    }
                }
                like[n].append(ms(l))
            }
        }
        for (n, (name, _, _)) in queries.enumerated() {
            let f50 = percentile(fts[n], 0.5), f99 = percentile(fts[n], 0.99)
            let l50 = percentile(like[n], 0.5), l99 = percentile(like[n], 0.99)
            print(
                "| \(name) | \(hits[n]) | \(String(format: "%.2f", f50)) | \(String(format: "%.2f", f99)) | \(String(format: "%.2f", l50)) | \(String(format: "%.2f", l99)) | \(String(format: "%.1fx", l50 / max(f50, 0.001))) |"
            )
        }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int(truncatingIfNeeded: (z ^ (z >> 31)) >> 1)
    }
}
