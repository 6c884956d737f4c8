import Catalog
import Foundation
import GRDB
import TestSupport
import Testing
import TorrentKit

/// A rollback to the previous version meets the database the newer version
/// migrated (docs/release-format.md §5: the schema only grows). The older
/// code must open it and work, ignoring migrations it does not know.
@Suite("The catalog database after a newer version migrated it")
struct SchemaCompatibilityTests {
    @Test func anOlderVersionOpensANewerDatabase() async throws {
        let dir = TempDir("schema")
        let path = dir.path + "/catalog.sqlite"
        do {
            let store = try CatalogStore(path: path)
            try await store.addChannel(
                key: String(repeating: "ab", count: 32), name: "Kept", address: "magnet:?xs=urn:btpk:" + String(repeating: "ab", count: 32))
        }
        // What a newer version's migration does: a new table, a new column
        // with a default, and its identifier recorded.
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: "CREATE TABLE future_things (id INTEGER PRIMARY KEY, note TEXT)")
            try db.execute(sql: "ALTER TABLE channel ADD COLUMN future_flag INTEGER NOT NULL DEFAULT 0")
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-future')")
        }
        // This version opens it, reads and writes.
        let store = try CatalogStore(path: path)
        #expect(try await store.channel(String(repeating: "ab", count: 32))?.name == "Kept")
        try await store.addChannel(
            key: String(repeating: "cd", count: 32), name: "New", address: "magnet:?xs=urn:btpk:" + String(repeating: "cd", count: 32))
        #expect(try await store.channel(String(repeating: "cd", count: 32)) != nil)
    }

    @Test("titles an older version imported (no search tags) get them when this version opens the database")
    func olderImportsGetTags() async throws {
        let dir = TempDir("schema")
        let path = try await Self.sampleDatabase(in: dir)
        // What an import by the version before tags leaves: the column's default.
        try await DatabaseQueue(path: path).write { db in try db.execute(sql: "UPDATE title SET tags = ''") }
        var q = CatalogStore.Query(words: "dragon")
        q.genre = "Fantasy"
        let store = try CatalogStore(path: path)
        #expect(try await store.search(q).map(\.title) == ["Sintel"])
    }

    @Test("titles tagged in the older form (no kind-genre words) are tagged again when this version opens the database")
    func olderTagsAreRedone() async throws {
        let dir = TempDir("schema")
        let path = try await Self.sampleDatabase(in: dir)
        // What the version before kind-genre words wrote: kind, year, genres.
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: "UPDATE title SET tags = 'k' || kind || coalesce(' y' || year, '') || ' gfantasy'")
        }
        var q = CatalogStore.Query(words: "dragon")
        q.genre = "Fantasy"
        q.kind = .movie
        let store = try CatalogStore(path: path)
        #expect(try await store.search(q).map(\.title) == ["Sintel"])
    }

    @Test("a full-text index of the version before prefix indexes is rebuilt with them when this version opens the database")
    func olderIndexGetsPrefixes() async throws {
        let dir = TempDir("schema")
        let path = try await Self.sampleDatabase(in: dir)
        // What the version before wrote: the same table without `prefix`, filled, and no record of this migration.
        try await DatabaseQueue(path: path).write { db in
            try db.dropFTS5SynchronizationTriggers(forTable: "title_fts")
            try db.drop(table: "title_fts")
            try db.create(virtualTable: "title_fts", using: FTS5()) { t in
                t.synchronize(withTable: "title")
                t.tokenizer = .unicode61()
                for c in ["title", "originalTitle", "synopsis", "tags"] { t.column(c) }
            }
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v6-prefix-index'")
        }
        let store = try CatalogStore(path: path)
        let sql = try await DatabaseQueue(path: path).read {
            try String.fetchOne($0, sql: "SELECT sql FROM sqlite_master WHERE name = 'title_fts'")
        }
        #expect(sql?.contains("prefix") == true)
        #expect(try await store.search(.init(words: "si")).map(\.title) == ["Sintel"], "two letters")
        #expect(try await store.search(.init(words: "dra")).map(\.title) == ["Sintel"], "three letters, in the synopsis")
        #expect(try await store.search(.init(words: "exam")).map(\.title) == ["Example Show"])
        try await DatabaseQueue(path: path).write {
            try $0.execute(sql: "INSERT INTO title_fts (title_fts, rank) VALUES ('integrity-check', 1)")
        }
    }

    /// A database with the sample catalog imported by this version, closed.
    static func sampleDatabase(in dir: TempDir) async throws -> String {
        let path = dir.path + "/catalog.sqlite"
        let key = (0..<32).map { UInt8($0) }
        let store = try CatalogStore(path: path)
        try await store.addChannel(key: Hex.encode(key), name: "Open Films", address: "")
        try await store.importCatalog(sampleCatalog(key: key), channelKey: Hex.encode(key), catalogInfoHash: nil, files: nil)
        return path
    }
}
