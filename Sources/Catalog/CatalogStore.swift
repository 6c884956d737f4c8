public import Foundation
public import GRDB
import Synchronization
import TorrentKit

/// The local index of every channel's catalog: SQLite through GRDB, with
/// FTS5 over titles, original titles, synopses and search tags (kind, year,
/// genres; see `SearchTags`). All access goes through
/// GRDB's own queue (async), never on a caller's thread.
public final class CatalogStore: Sendable {
    private let db: DatabaseQueue
    /// The last channel list's display names (see `displayNames`).
    private let names = Mutex<(channels: [ChannelNames.Naming], names: [String: String])?>(nil)

    /// A channel as stored.
    public struct Channel: Sendable, Equatable, Codable, FetchableRecord, PersistableRecord {
        public static let databaseTableName = "channel"
        /// Hex public key; "local:<slug>" for a channel bundled with the app.
        public var key: String
        public var name: String
        public var address: String
        public var isLocal: Bool
        /// The highest sequence ever accepted: a lower one is a replay.
        public var highestSequence: Int64
        public var catalogInfoHash: String?
        public var issued: String?
        public var expires: String?
        public var addedAt: String
        public var refreshedAt: String?
        /// The last refresh's failure, if it failed; the catalog kept is the last good one.
        public var lastError: String?
        public var titleCount: Int
        /// The signed DHT pointer last accepted (value, seq, signature), so
        /// `serve` can put it back on the DHT for the publisher.
        public var pointerValue: Data?
        public var pointerSignature: Data?
        public var pointerSequence: Int64?
        /// What the channel says of itself (its catalog's description).
        public var about: String?

        public var isStale: Bool {
            guard let e = expires, let d = RFC3339.date(e) else { return false }
            return Date() >= d
        }
    }

    /// One search hit: the same work from several channels grouped.
    public struct TitleGroup: Sendable, Equatable {
        public var title: String
        public var year: Int?
        public var kind: CatalogDocument.Kind
        public var entries: [Entry]
    }

    /// A title as one channel lists it.
    public struct Entry: Sendable, Equatable {
        /// What `play` and the UI use: "<channel key prefix>/<title id>" is
        /// unique; the title id alone is accepted when it is.
        public var ref: String
        public var channelKey: String
        public var channelName: String
        public var document: CatalogDocument.Title
        /// Absolute paths of artwork stored with the catalog, if any.
        public var posterFile: String?
        public var backdropFile: String?
        public var addedAt: String
    }

    public enum Sort: String, Sendable, CaseIterable {
        case relevance, title, year, added
    }

    public struct Query: Sendable {
        public var words: String = ""
        public var kind: CatalogDocument.Kind?
        public var genre: String?
        public var year: Int?
        /// A channel's name or key (prefix).
        public var channel: String?
        public var sort: Sort = .relevance
        public var limit = 200

        public init(words: String = "") { self.words = words }
    }

    public init(path: String) throws {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        // 8 MiB of page cache (SQLite's default is 2): the pages a search
        // reads (doclists, the candidates' rows) stay in it across searches
        // of different words; with 2 MiB a third of a search's time went to
        // reading pages again (docs/benchmarks.md).
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = -8192") }
        // Created readable by this user only; SQLite gives its journal files
        // the database's permissions.
        if path != ":memory:", !FileManager.default.fileExists(atPath: path) {
            let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
            if fd >= 0 { close(fd) }
        }
        do {
            db = try DatabaseQueue(path: path, configuration: config)
            try Self.migrator.migrate(db)
            try db.write { try Self.fillMissingTags($0) }
        } catch {
            throw CatalogError(.storage, "cannot open the catalog database \(path): \(error)")
        }
    }

    /// Tags for the titles that have none or an older form of them: all of
    /// them when the column is new, those an older version imported after a
    /// rollback (every title has at least its kind), and those tagged before
    /// the kind-year and kind-genre words (every title has its kind-year word,
    /// "kmoviey" when the year is not known). A full scan of `title` at open.
    private static func fillMissingTags(_ db: Database) throws {
        let rows = try Row.fetchAll(
            db, sql: "SELECT id, kind, year FROM title WHERE tags = '' OR tags NOT LIKE '%k' || kind || 'y%'")
        guard !rows.isEmpty else { return }
        var genres: [Int64: [String]] = [:]
        for r in try Row.fetchAll(db, sql: "SELECT titleRow, name FROM genre") { genres[r["titleRow"], default: []].append(r["name"]) }
        let update = try db.makeStatement(sql: "UPDATE title SET tags = ? WHERE id = ?")
        for r in rows {
            let id: Int64 = r["id"]
            let kind = CatalogDocument.Kind(rawValue: r["kind"]) ?? .movie
            try update.execute(arguments: [SearchTags.of(kind: kind, year: r["year"], genres: genres[id] ?? []), id])
        }
    }

    private static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.create(table: "channel") { t in
                t.primaryKey("key", .text)
                t.column("name", .text).notNull()
                t.column("address", .text).notNull()
                t.column("isLocal", .boolean).notNull()
                t.column("highestSequence", .integer).notNull().defaults(to: 0)
                t.column("catalogInfoHash", .text)
                t.column("issued", .text)
                t.column("expires", .text)
                t.column("addedAt", .text).notNull()
                t.column("refreshedAt", .text)
                t.column("lastError", .text)
                t.column("titleCount", .integer).notNull().defaults(to: 0)
                t.column("pointerValue", .blob)
                t.column("pointerSignature", .blob)
                t.column("pointerSequence", .integer)
            }
            try db.create(table: "title") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("channelKey", .text).notNull().references("channel", onDelete: .cascade)
                t.column("titleId", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("title", .text).notNull()
                t.column("originalTitle", .text)
                t.column("synopsis", .text)
                t.column("year", .integer)
                t.column("added", .text).notNull()
                t.column("posterFile", .text)
                t.column("backdropFile", .text)
                t.column("groupKey", .text).notNull()
                t.column("document", .text).notNull()
                t.uniqueKey(["channelKey", "titleId"])
            }
            try db.create(table: "genre") { t in
                t.column("titleRow", .integer).notNull().references("title", onDelete: .cascade)
                t.column("name", .text).notNull().collate(.nocase)
            }
            try db.create(index: "genre_name", on: "genre", columns: ["name"])
            try db.create(virtualTable: "title_fts", using: FTS5()) { t in
                t.synchronize(withTable: "title")
                t.tokenizer = .unicode61()
                t.column("title")
                t.column("originalTitle")
                t.column("synopsis")
            }
        }
        m.registerMigration("v2-flags") { db in
            try db.create(table: "flag") { t in
                t.primaryKey("name", .text)
                t.column("value", .boolean).notNull()
            }
        }
        m.registerMigration("v4-history") { db in
            try db.create(table: "history") { t in
                t.column("channelKey", .text).notNull()
                t.column("titleId", .text).notNull()
                /// "S01E02" for an episode, "" for a film.
                t.column("episode", .text).notNull()
                t.column("position", .double).notNull()
                t.column("duration", .double).notNull()
                t.column("updatedAt", .text).notNull()
                t.primaryKey(["channelKey", "titleId", "episode"])
            }
        }
        m.registerMigration("v3-title-index") { db in
            try db.create(index: "title_titleId", on: "title", columns: ["titleId"])
            // The genre filter looks genres up per candidate title.
            try db.create(index: "genre_title", on: "genre", columns: ["titleRow", "name"])
        }
        m.registerMigration("v5-search-tags") { db in
            // Kind, year and genres as words of the full-text index, so a
            // search with filters is one FTS5 query instead of a row lookup
            // per match (docs/benchmarks.md, catalog search).
            try db.alter(table: "title") { t in t.add(column: "tags", .text).notNull().defaults(to: "") }
            try fillMissingTags(db)
            try db.dropFTS5SynchronizationTriggers(forTable: "title_fts")
            try db.drop(table: "title_fts")
            try db.create(virtualTable: "title_fts", using: FTS5()) { t in
                t.synchronize(withTable: "title")
                t.tokenizer = .unicode61()
                t.column("title")
                t.column("originalTitle")
                t.column("synopsis")
                t.column("tags")
            }
        }
        m.registerMigration("v6-prefix-index") { db in
            // Prefix indexes for 2 and 3 letters, what search as you type
            // asks for first: without them FTS5 merges the doclists of every
            // word that starts so (a 3-letter prefix 1.2-3.2 ms per tier
            // query at 100,000 titles, 2 letters 31 ms; with them 0.07-0.3
            // ms). Costs about 1 s more to index 100,000 titles and 40% more
            // index (docs/benchmarks.md). The same columns and triggers, so
            // an older version after a rollback uses it as it was.
            try db.dropFTS5SynchronizationTriggers(forTable: "title_fts")
            try db.drop(table: "title_fts")
            try db.create(virtualTable: "title_fts", using: FTS5()) { t in
                t.synchronize(withTable: "title")
                t.tokenizer = .unicode61()
                t.prefixes = [2, 3]
                t.column("title")
                t.column("originalTitle")
                t.column("synopsis")
                t.column("tags")
            }
        }
        m.registerMigration("v7-group-index") { db in
            // A search reads every channel's entry of the works on its page by group key.
            try db.create(index: "title_groupKey", on: "title", columns: ["groupKey"])
        }
        m.registerMigration("v8-my-list") { db in
            // Tables of their own (history stays as older versions write it):
            // titles the user took out of Continue watching until they play
            // them again, and the titles on their list.
            try db.create(table: "continueHidden") { t in
                t.column("channelKey", .text).notNull()
                t.column("titleId", .text).notNull()
                t.primaryKey(["channelKey", "titleId"])
            }
            try db.create(table: "myList") { t in
                t.column("channelKey", .text).notNull()
                t.column("titleId", .text).notNull()
                t.column("addedAt", .text).notNull()
                t.primaryKey(["channelKey", "titleId"])
            }
        }
        m.registerMigration("v9-fts-merging") { db in
            // FTS5 keeps what it indexes in memory up to `hashsize` before it
            // writes a segment, 1 MiB by default: a 20,000-title catalog made
            // dozens of small segments, each merged again and again. 64 MiB
            // and merging 16 segments at a time instead of 4 cut an import
            // of 100,000 titles by about 40% (docs/benchmarks.md, catalog
            // search). Stored config values in the index itself: an older
            // version after a rollback reads them as they are.
            try db.execute(sql: "INSERT INTO title_fts (title_fts, rank) VALUES ('hashsize', 67108864)")
            try db.execute(sql: "INSERT INTO title_fts (title_fts, rank) VALUES ('automerge', 16)")
        }
        m.registerMigration("v10-offline") { db in
            // What the user asked to keep for offline: a film or an episode,
            // the torrent and file it is in (the file once the metadata is
            // known). The torrents themselves are the engine's downloads.
            try db.create(table: "offline") { t in
                t.column("channelKey", .text).notNull()
                t.column("titleId", .text).notNull()
                /// "S01E02" for an episode, "" for a film.
                t.column("episode", .text).notNull()
                t.column("quality", .text)
                t.column("label", .text).notNull()
                t.column("infoHash", .text).notNull()
                t.column("fileIndex", .integer)
                t.column("addedAt", .text).notNull()
                t.primaryKey(["channelKey", "titleId", "episode"])
            }
        }
        m.registerMigration("v11-channel-about") { db in
            // The catalog's description of its channel, shown beside its row.
            try db.alter(table: "channel") { t in t.add(column: "about", .text) }
        }
        return m
    }

    // MARK: Kept for offline

    /// A film or an episode the user keeps for offline (Download).
    public struct OfflineItem: Sendable, Equatable {
        public var channelKey: String
        public var titleId: String
        /// "S01E02" for an episode, "" for a film.
        public var episode: String
        public var quality: String?
        /// "Tiny Planets S01E02 - Dust (720p)".
        public var label: String
        public var infoHash: String
        /// nil until the torrent's metadata is known.
        public var fileIndex: Int?
        public var addedAt: String

        public init(
            channelKey: String, titleId: String, episode: String, quality: String?, label: String, infoHash: String, fileIndex: Int?,
            addedAt: String
        ) {
            self.channelKey = channelKey
            self.titleId = titleId
            self.episode = episode
            self.quality = quality
            self.label = label
            self.infoHash = infoHash
            self.fileIndex = fileIndex
            self.addedAt = addedAt
        }
    }

    /// Adds (or replaces) what is kept for offline.
    public func keepOffline(_ item: OfflineItem) async throws {
        try await db.write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO offline (channelKey, titleId, episode, quality, label, infoHash, fileIndex, addedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    item.channelKey, item.titleId, item.episode, item.quality, item.label, item.infoHash, item.fileIndex, item.addedAt,
                ])
        }
    }

    /// Everything kept for offline, in the order it was asked for.
    public func offlineItems() async throws -> [OfflineItem] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM offline ORDER BY addedAt, rowid").map { r in
                OfflineItem(
                    channelKey: r["channelKey"], titleId: r["titleId"], episode: r["episode"], quality: r["quality"], label: r["label"],
                    infoHash: r["infoHash"], fileIndex: r["fileIndex"], addedAt: r["addedAt"])
            }
        }
    }

    /// No longer kept: one film or episode.
    public func forgetOffline(channelKey: String, titleId: String, episode: String) async throws {
        try await db.write { db in
            try db.execute(
                sql: "DELETE FROM offline WHERE channelKey = ? AND titleId = ? AND episode = ?", arguments: [channelKey, titleId, episode])
        }
    }

    /// No longer kept: everything in one torrent (its download was removed).
    public func forgetOffline(infoHash: String) async throws {
        try await db.write { db in try db.execute(sql: "DELETE FROM offline WHERE infoHash = ?", arguments: [infoHash]) }
    }

    // MARK: Watch history

    /// Where the user stopped in a title (an episode of it, for a series).
    public struct HistoryItem: Sendable, Equatable {
        public var channelKey: String
        public var titleId: String
        public var episode: String
        public var position: Double
        public var duration: Double
        public var updatedAt: String
        /// Taken out of Continue watching by the user (until played again).
        public var hidden = false

        /// Seen to (nearly) the end.
        public var watched: Bool { duration > 0 && position >= duration * 0.95 }
    }

    public func saveProgress(ref: String, episode: String, position: Double, duration: Double) async throws {
        guard let entry = try await title(ref: ref) else { throw CatalogError(.notFound, "no such title") }
        guard position.isFinite, duration.isFinite, position >= 0, duration >= 0, episode.count <= 16 else {
            throw CatalogError(.malformed, "position and duration must be non-negative numbers")
        }
        try await db.write { db in
            try db.execute(
                sql:
                    "INSERT OR REPLACE INTO history (channelKey, titleId, episode, position, duration, updatedAt) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [entry.channelKey, entry.document.id, episode, position, duration, RFC3339.string(Date())])
            // Played again: back in Continue watching.
            try db.execute(
                sql: "DELETE FROM continueHidden WHERE channelKey = ? AND titleId = ?", arguments: [entry.channelKey, entry.document.id])
        }
    }

    /// Takes a title out of Continue watching (its history, watched marks
    /// included, stays) until it is played again.
    public func hideFromContinue(ref: String) async throws {
        guard let entry = try await title(ref: ref) else { throw CatalogError(.notFound, "no such title") }
        try await db.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO continueHidden (channelKey, titleId) VALUES (?, ?)",
                arguments: [entry.channelKey, entry.document.id])
        }
    }

    // MARK: My list

    /// Adds a title to My list (true) or takes it off (false).
    public func setOnMyList(ref: String, _ on: Bool) async throws {
        guard let entry = try await title(ref: ref) else { throw CatalogError(.notFound, "no such title") }
        try await db.write { db in
            if on {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO myList (channelKey, titleId, addedAt) VALUES (?, ?, ?)",
                    arguments: [entry.channelKey, entry.document.id, RFC3339.string(Date())])
            } else {
                try db.execute(
                    sql: "DELETE FROM myList WHERE channelKey = ? AND titleId = ?", arguments: [entry.channelKey, entry.document.id])
            }
        }
    }

    /// My list, the latest added first (titles whose channel is gone are left out).
    public func myList() async throws -> [Entry] {
        let rows = try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT channelKey, titleId FROM myList ORDER BY addedAt DESC, rowid DESC").map {
                (channelKey: $0["channelKey"] as String, titleId: $0["titleId"] as String)
            }
        }
        var out: [Entry] = []
        for r in rows { if let e = try await entry(channelKey: r.channelKey, titleId: r.titleId) { out.append(e) } }
        return out
    }

    /// The newest first.
    public func history(limit: Int = 50) async throws -> [HistoryItem] {
        try await db.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT h.*, c.titleId IS NOT NULL AS hidden FROM history h
                    LEFT JOIN continueHidden c ON c.channelKey = h.channelKey AND c.titleId = h.titleId
                    ORDER BY h.updatedAt DESC, h.rowid DESC LIMIT ?
                    """, arguments: [limit]
            ).map { r in
                HistoryItem(
                    channelKey: r["channelKey"], titleId: r["titleId"], episode: r["episode"], position: r["position"],
                    duration: r["duration"], updatedAt: r["updatedAt"], hidden: r["hidden"])
            }
        }
    }

    /// The entry of a stored title, by its channel and id.
    public func entry(channelKey: String, titleId: String) async throws -> Entry? {
        let ambiguous = try await db.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM title WHERE titleId = ?", arguments: [titleId]) ?? 0
        }
        return try await title(ref: ambiguous > 1 ? "\(channelKey.prefix(8))/\(titleId)" : titleId)
    }

    // MARK: Flags

    public func flag(_ name: String) async throws -> Bool {
        try await db.read { db in try Bool.fetchOne(db, sql: "SELECT value FROM flag WHERE name = ?", arguments: [name]) ?? false }
    }

    public func setFlag(_ name: String, _ value: Bool) async throws {
        try await db.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO flag (name, value) VALUES (?, ?)", arguments: [name, value])
        }
    }

    // MARK: Channels

    public func channels() async throws -> [Channel] {
        try await db.read { db in try Channel.order(Column("name").collating(.localizedCaseInsensitiveCompare)).fetchAll(db) }
    }

    public func channel(_ key: String) async throws -> Channel? {
        try await db.read { db in try Channel.fetchOne(db, key: key) }
    }

    /// Adds a channel the user subscribed to; no-op if it is there already.
    public func addChannel(key: String, name: String, address: String, isLocal: Bool = false) async throws {
        try await db.write { db in
            if try Channel.fetchOne(db, key: key) != nil { return }
            try Channel(
                key: key, name: name, address: address, isLocal: isLocal, highestSequence: 0, addedAt: RFC3339.string(Date()),
                titleCount: 0
            ).insert(db)
        }
    }

    public func removeChannel(_ key: String) async throws {
        _ = try await db.write { db in try Channel.deleteOne(db, key: key) }
    }

    /// Records a refresh's failure; the titles stay as they were.
    public func recordFailure(_ key: String, _ message: String) async throws {
        try await db.write { db in
            try db.execute(
                sql: "UPDATE channel SET lastError = ?, refreshedAt = ? WHERE key = ?",
                arguments: [message, RFC3339.string(Date()), key])
        }
    }

    /// Replay protection, stored before anything is imported: accepts
    /// `sequence` only if it is not lower than the highest seen. Returns
    /// false when it equals the highest (nothing new).
    public func acceptSequence(_ key: String, _ sequence: Int64) async throws -> Bool {
        try await db.write { db in
            guard let c = try Channel.fetchOne(db, key: key) else {
                throw CatalogError(.notFound, "the channel is not in the catalog")
            }
            if sequence < c.highestSequence {
                throw CatalogError(
                    .replay,
                    "refused an older catalog (version \(sequence); version \(c.highestSequence) was already accepted)")
            }
            if sequence == c.highestSequence { return false }
            try db.execute(sql: "UPDATE channel SET highestSequence = ? WHERE key = ?", arguments: [sequence, key])
            return true
        }
    }

    /// Replaces a channel's titles with a verified catalog's, in one transaction.
    /// `files`: where the catalog torrent's folder was downloaded (artwork).
    public func importCatalog(
        _ doc: CatalogDocument, channelKey: String, catalogInfoHash: String?, files: String?,
        pointer: (value: [UInt8], signature: [UInt8], sequence: Int64)? = nil
    ) async throws {
        let now = RFC3339.string(Date())
        try await db.write { db in
            guard var c = try Channel.fetchOne(db, key: channelKey) else {
                throw CatalogError(.notFound, "the channel is not in the catalog")
            }
            // When did each title first appear here? Kept across versions.
            var firstSeen: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT titleId, added FROM title WHERE channelKey = ?", arguments: [channelKey]) {
                firstSeen[row["titleId"]] = row["added"]
            }
            // The full-text index is kept in step by triggers on `title`, one
            // FTS5 write per row; FTS5 flushes what it holds at every
            // statement, so a row at a time made thousands of tiny segments
            // to merge. The import takes the triggers out for the length of
            // its transaction, removes and adds the channel's rows to the
            // index in one statement each, and puts the same triggers back
            // (their SQL as stored, so an older version finds them as it
            // made them). docs/benchmarks.md: 1.96 -> 0.62 s for 20,000
            // titles in SQLite alone.
            let triggers = try Row.fetchAll(
                db, sql: "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'title' AND name IN (?, ?)",
                arguments: [Self.ftsInsertTrigger, Self.ftsDeleteTrigger]
            ).map { ($0["name"] as String, $0["sql"] as String) }
            let bulk = triggers.count == 2
            if bulk {
                for (name, _) in triggers { try db.execute(sql: "DROP TRIGGER \(name.quotedDatabaseIdentifier)") }
                try db.execute(
                    sql: """
                        INSERT INTO title_fts (title_fts, rowid, \(Self.ftsColumns))
                        SELECT 'delete', id, \(Self.ftsColumns) FROM title WHERE channelKey = ?
                        """, arguments: [channelKey])
            }
            try db.execute(sql: "DELETE FROM title WHERE channelKey = ?", arguments: [channelKey])
            // Prepared once for the whole catalog (up to 20,000 titles).
            let insertTitle = try db.cachedStatement(
                sql: """
                    INSERT INTO title (channelKey, titleId, kind, title, originalTitle, synopsis, year, added,
                                       posterFile, backdropFile, groupKey, document, tags)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            let insertGenre = try db.cachedStatement(sql: "INSERT INTO genre (titleRow, name) VALUES (?, ?)")
            let art: (String?) -> String? = { p in
                guard let p, let files, CatalogPath.isSafe(p) else { return nil }
                let abs = files + "/" + p
                return FileManager.default.fileExists(atPath: abs) ? abs : nil
            }
            for t in doc.titles {
                let json = StoredTitle.encode(t)
                try insertTitle.execute(arguments: [
                    channelKey, t.id, t.kind.rawValue, t.title, t.originalTitle, t.synopsis, t.year,
                    firstSeen[t.id] ?? t.added ?? now, art(t.poster), art(t.backdrop),
                    Self.groupKey(t), json, SearchTags.of(kind: t.kind, year: t.year, genres: t.genres ?? []),
                ])
                let row = db.lastInsertedRowID
                var seen = Set<String>()
                for name in t.genres ?? [] where seen.insert(name.lowercased()).inserted {
                    try insertGenre.execute(arguments: [row, name])
                }
            }
            if bulk {
                try db.execute(
                    sql: "INSERT INTO title_fts (rowid, \(Self.ftsColumns)) SELECT id, \(Self.ftsColumns) FROM title WHERE channelKey = ?",
                    arguments: [channelKey])
                for (_, sql) in triggers { try db.execute(sql: sql) }
            }
            c.name = doc.channel.name
            c.about = doc.channel.description
            c.issued = doc.issued
            c.expires = doc.expires
            c.catalogInfoHash = catalogInfoHash
            c.refreshedAt = now
            c.lastError = nil
            c.titleCount = doc.titles.count
            if let pointer {
                c.pointerValue = Data(pointer.value)
                c.pointerSignature = Data(pointer.signature)
                c.pointerSequence = pointer.sequence
            }
            try c.update(db)
        }
    }

    /// The triggers GRDB made to keep `title_fts` in step with `title`
    /// (`synchronize(withTable:)`), and the columns they index.
    static let ftsInsertTrigger = "__title_fts_ai"
    static let ftsDeleteTrigger = "__title_fts_ad"
    static let ftsColumns = "title, originalTitle, synopsis, tags"

    /// Titles that are the same work: same kind, folded title and year.
    static func groupKey(_ t: CatalogDocument.Title) -> String {
        "\(t.kind.rawValue)|\(fold(t.title))|\(t.year.map(String.init) ?? "")"
    }

    /// Without diacritics, lower case, letters and digits only: what makes
    /// "Amélie" and "amelie!" one. ASCII text (most titles) takes a path of
    /// its own that gives the same result: Foundation's folding was a third
    /// of an import's own time.
    static func fold(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            var out: [UInt8] = []
            out.reserveCapacity(text.utf8.count)
            for b in text.utf8 {
                switch b {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): out.append(b)
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): out.append(b + 32)
                default: break
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
        return foldUnicode(text)
    }

    static func foldUnicode(_ text: String) -> String {
        text.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil).lowercased().filter { $0.isLetter || $0.isNumber }
    }

    // MARK: Search

    /// Titles matching `q`, grouped by work, best first. Relevance puts the
    /// titles that begin with the words first, then those whose name has
    /// them, then those whose synopsis alone has them (each in catalog
    /// order). Rows are picked by id first and only the returned page is
    /// read whole.
    public func search(_ q: Query) async throws -> [TitleGroup] {
        try await db.read { db in
            // Candidates: twice a page of them at first, more only when the
            // same work in several channels leaves fewer works than a page
            // (four times a page every time read a third tier of synopsis
            // matches for most words). Each comes with its work's group key; statements are
            // prepared once per shape of query (a statement prepared per
            // search, and a second one for the group keys of 200 ids, were a
            // third of a search at 100,000 titles: docs/benchmarks.md).
            var ids: [Int64] = []
            var keys: [Int64: String] = [:]
            func candidates(_ sql: String, _ arguments: StatementArguments) throws -> [(Int64, String)] {
                let rows = try Row.fetchCursor(try db.cachedStatement(sql: sql), arguments: arguments)
                var out: [(Int64, String)] = []
                while let r = try rows.next() { out.append((r[0], r[1])) }
                return out
            }
            func take(_ found: [(Int64, String)]) {
                for (id, key) in found where ids.count < want && keys.updateValue(key, forKey: id) == nil { ids.append(id) }
            }
            var want = q.limit * 2
            let (filter, filterArgs) = Self.filters(q)
            let words = Self.ftsPattern(q.words)
            func gather() throws {
                if let words {
                    // Kind, year and genre are words of the `tags` column; only
                    // a channel needs the channel's row.
                    let tags = SearchTags.clause(kind: q.kind, year: q.year, genre: q.genre)
                    func pattern(_ columns: String, initial: Bool = false) -> String {
                        "{\(columns)} : (\(initial ? "^" : "")\(words))" + tags
                    }
                    var from = "title_fts JOIN title ON title.id = title_fts.rowid"
                    var channelArgs: [any DatabaseValueConvertible] = []
                    if q.channel != nil { from += " JOIN channel ON channel.key = title.channelKey" }
                    from += " WHERE title_fts MATCH ?"
                    if let ch = q.channel {
                        from += " AND (channel.name = ? COLLATE NOCASE OR channel.key LIKE ?)"
                        channelArgs = [ch, ch.lowercased() + "%"]
                    }
                    if q.sort == .relevance {
                        // Three tiers, each in catalog order and cut off at what
                        // is needed: titles that begin with the words, titles
                        // that have them, then synopses. No bm25: its document
                        // frequencies scan every matching row, which alone took
                        // longer than the 5 ms goal for a short prefix at
                        // 100,000 titles (docs/benchmarks.md).
                        let tiers = [
                            pattern("title originalTitle", initial: true), pattern("title originalTitle"),
                            pattern("title originalTitle synopsis"),
                        ]
                        for p in tiers {
                            take(
                                try candidates(
                                    "SELECT title.id, title.groupKey FROM \(from) LIMIT ?",
                                    StatementArguments([p] + channelArgs + [want + ids.count])))
                            if ids.count >= want { break }
                        }
                    } else {
                        take(
                            try candidates(
                                "SELECT title.id, title.groupKey FROM \(from)\(Self.order(q.sort)) LIMIT ?",
                                StatementArguments([pattern("title originalTitle synopsis")] + channelArgs + [want])))
                    }
                } else {
                    take(
                        try candidates(
                            """
                            SELECT title.id, title.groupKey FROM title \(q.channel == nil ? "" : "JOIN channel ON channel.key = title.channelKey")
                            \(filter.isEmpty ? "" : "WHERE " + filter)\(Self.order(q.sort == .relevance ? .title : q.sort)) LIMIT ?
                            """,
                            StatementArguments(filterArgs + [want])))
                }
            }
            // The first `limit` works among the candidates, in their order.
            var order: [String] = []
            while true {
                ids = []
                keys = [:]
                try gather()
                order = []
                var seen = Set<String>()
                for id in ids where order.count < q.limit {
                    if let g = keys[id], seen.insert(g).inserted { order.append(g) }
                }
                if order.count >= q.limit || ids.count < want || want >= q.limit * 16 { break }
                want *= 2
            }
            guard !order.isEmpty else { return [] }
            // Every channel's entry of those works (the candidates are cut
            // off, so they may hold only some) that the filters let through:
            // kind and year are in the group key; a channel and a genre are
            // asked for here. In each group the candidates come first, in
            // their order (relevance or the sort asked for), then the rest.
            var members: [String: [Int64]] = [:]
            let works = Set(order)
            for id in ids { if let g = keys[id], works.contains(g) { members[g, default: []].append(id) } }
            var memberSQL = "SELECT title.id, title.groupKey FROM title"
            var conditions: [String] = []
            var memberArgs: StatementArguments = []
            if let ch = q.channel {
                memberSQL += " JOIN channel ON channel.key = title.channelKey"
                conditions.append("(channel.name = ? COLLATE NOCASE OR channel.key LIKE ?)")
                memberArgs += [ch, ch.lowercased() + "%"]
            }
            if let g = q.genre {
                // The genre as a word of the tags, as the search itself matched it.
                conditions.append("instr(' ' || title.tags || ' ', ?) > 0")
                memberArgs += [" " + (SearchTags.genre(g) ?? "g") + " "]
            }
            conditions.append("title.groupKey IN (SELECT value FROM json_each(?))")
            memberArgs += [Self.jsonArray(order.map(StoredTitle.jsonString))]
            memberSQL += " WHERE " + conditions.joined(separator: " AND ") + " ORDER BY title.id"
            for (id, g) in try candidates(memberSQL, memberArgs) where members[g]?.contains(id) != true {
                members[g, default: []].append(id)
            }
            let chosen = order.flatMap { members[$0] ?? [] }
            guard !chosen.isEmpty else { return [] }
            struct PageRow {
                var channelKey: String, channelName: String, titleId: String, document: CatalogDocument.Title?
                var posterFile: String?, backdropFile: String?, added: String
            }
            var rows: [Int64: PageRow] = [:]
            // Rows read through cursors by column index: rows copied out and
            // columns looked up by name were a tenth of a search. The ids go
            // as one JSON array, so the statement is the same every time.
            let pageRows = try Row.fetchCursor(
                try db.cachedStatement(
                    sql: """
                        SELECT title.id, title.channelKey, channel.name, title.titleId, title.document,
                               title.posterFile, title.backdropFile, title.added
                        FROM title JOIN channel ON channel.key = title.channelKey
                        WHERE title.id IN (SELECT value FROM json_each(?))
                        """), arguments: [Self.jsonArray(chosen.map(String.init))])
            while let r = try pageRows.next() {
                rows[r[0]] = PageRow(
                    channelKey: r[1], channelName: r[2], titleId: r[3], document: Self.decodeDocument(r[4]), posterFile: r[5],
                    backdropFile: r[6], added: r[7])
            }
            // Ids that more than one channel uses need the channel prefix.
            let titleIds = Set(rows.values.map(\.titleId))
            let ambiguous = Set(
                try String.fetchAll(
                    try db.cachedStatement(
                        sql:
                            "SELECT titleId FROM title WHERE titleId IN (SELECT value FROM json_each(?)) GROUP BY titleId HAVING COUNT(*) > 1"
                    ),
                    arguments: [Self.jsonArray(titleIds.map(StoredTitle.jsonString))]))
            let names = try displayNames(db)
            var groups: [TitleGroup] = []
            for g in order {
                var group: TitleGroup?
                for id in members[g] ?? [] {
                    guard let r = rows[id], let doc = r.document else { continue }
                    let key = r.channelKey
                    let entry = Entry(
                        ref: ambiguous.contains(r.titleId) ? "\(key.prefix(8))/\(r.titleId)" : r.titleId, channelKey: key,
                        channelName: names[key] ?? r.channelName, document: doc, posterFile: r.posterFile,
                        backdropFile: r.backdropFile, addedAt: r.added)
                    if group == nil { group = TitleGroup(title: doc.title, year: doc.year, kind: doc.kind, entries: []) }
                    group!.entries.append(entry)
                }
                if let group { groups.append(group) }
            }
            return groups
        }
    }

    /// Channel names as shown (`ChannelNames.display`) of the channels as
    /// they are now: worked out again only when a channel's name, address
    /// or key differs from the last time (Unicode folding of every name at
    /// every search was a twentieth of it).
    private func displayNames(_ db: Database) throws -> [String: String] {
        var now: [ChannelNames.Naming] = []
        let cursor = try Row.fetchCursor(db, sql: "SELECT key, name, address, isLocal FROM channel ORDER BY key")
        while let r = try cursor.next() { now.append(ChannelNames.Naming(key: r[0], name: r[1], address: r[2], isLocal: r[3])) }
        return names.withLock { cache in
            if let cache, cache.channels == now { return cache.names }
            let fresh = ChannelNames.display(now)
            cache = (now, fresh)
            return fresh
        }
    }

    /// The stored document of a title (see `StoredTitle`); JSONDecoder for
    /// one in a form the hand-written reader does not know. A document that
    /// does not decode at all (written by some other version) is nil.
    static func decodeDocument(_ text: String) -> CatalogDocument.Title? {
        if let t = try? StoredTitle.decode(text) { return t }
        return try? JSONDecoder().decode(CatalogDocument.Title.self, from: Data(text.utf8))
    }

    /// The query's filters as SQL over `title` (and `channel`, joined when a channel is asked for).
    private static func filters(_ q: Query) -> (String, [any DatabaseValueConvertible]) {
        var conditions: [String] = []
        var args: [any DatabaseValueConvertible] = []
        if let k = q.kind {
            conditions.append("title.kind = ?")
            args.append(k.rawValue)
        }
        if let y = q.year {
            conditions.append("title.year = ?")
            args.append(y)
        }
        if let g = q.genre {
            conditions.append("EXISTS (SELECT 1 FROM genre WHERE genre.titleRow = title.id AND genre.name = ?)")
            args.append(g)
        }
        if let ch = q.channel {
            conditions.append("(channel.name = ? COLLATE NOCASE OR channel.key LIKE ?)")
            args += [ch, ch.lowercased() + "%"]
        }
        return (conditions.joined(separator: " AND "), args)
    }

    private static func order(_ sort: Sort) -> String {
        switch sort {
        case .relevance, .title: " ORDER BY title.title COLLATE NOCASE, title.year"
        case .year: " ORDER BY title.year DESC, title.title COLLATE NOCASE"
        case .added: " ORDER BY title.added DESC, title.title COLLATE NOCASE"
        }
    }

    /// A JSON array of values already in JSON form, for `json_each`.
    private static func jsonArray(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }

    /// A title by the ref `search` prints ("sintel-2010" or "3b6a27bc/sintel-2010").
    public func title(ref: String) async throws -> Entry? {
        let parts = ref.split(separator: "/", maxSplits: 1).map(String.init)
        let (prefix, id) = parts.count == 2 ? (parts[0].lowercased(), parts[1]) : ("", parts.first ?? "")
        return try await db.read { db in
            let names = ChannelNames.display(try Channel.fetchAll(db))
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT title.channelKey, channel.name AS channelName, title.titleId, title.document, title.posterFile,
                           title.backdropFile, title.added
                    FROM title JOIN channel ON channel.key = title.channelKey
                    WHERE title.titleId = ? AND title.channelKey LIKE ?
                    """,
                arguments: [id, prefix + "%"])
            guard rows.count == 1, let r = rows.first else { return nil }
            let docText: String = r["document"]
            guard let doc = Self.decodeDocument(docText) else { return nil }
            return Entry(
                ref: ref, channelKey: r["channelKey"], channelName: names[r["channelKey"]] ?? r["channelName"], document: doc,
                posterFile: r["posterFile"], backdropFile: r["backdropFile"], addedAt: r["added"])
        }
    }

    /// Words -> an FTS5 query: each word a prefix match, all required.
    /// Each word is quoted, with no quote inside, so that no user text is
    /// read as FTS5 syntax.
    static func ftsPattern(_ words: String) -> String? {
        let tokens = words.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).filter { !$0.isEmpty }
        guard !tokens.isEmpty else { return nil }
        // A character that is a letter can still hold a quote (a prepended
        // mark joins the scalar after it into one character), so quotes are
        // taken out scalar by scalar.
        return tokens.prefix(16).map { "\"\(String(String.UnicodeScalarView($0.unicodeScalars.filter { $0 != "\"" })))\"*" }
            .joined(separator: " ")
    }
}

/// Kind, year and genres as words of the full-text index (the `tags`
/// column): "kmovie", "y2010", "gsciencefiction", and the pairs a filtered
/// search asks for together, "kmoviey2010" and "kmoviegsciencefiction", so
/// that kind and genre are one short doclist to intersect with the words,
/// not the kind's (most of the catalog) and the genre's. A genre is folded to
/// lower-case letters and digits, so "Science Fiction", "science-fiction"
/// and "Science fiction" are one genre.
enum SearchTags {
    static func of(kind: CatalogDocument.Kind, year: Int?, genres: [String]) -> String {
        let k = "k" + kind.rawValue
        var words = [k]
        if let year { words.append("y\(year)") }
        var genreWords: [String] = []
        for g in genres { if let w = genre(g), !genreWords.contains(w) { genreWords.append(w) } }
        words += genreWords
        // Always there, "kmoviey" with no year: what marks tags of this form.
        words.append(k + "y" + (year.map(String.init) ?? ""))
        words += genreWords.map { k + $0 }
        return words.joined(separator: " ")
    }

    /// What the filters add to an FTS5 query ("" for none): the words, all
    /// required, of the fewest titles. A film is "not a series": the kind
    /// has only those two values, and excluding the small doclist is cheaper
    /// than intersecting with the large one.
    static func clause(kind: CatalogDocument.Kind?, year: Int?, genre name: String?) -> String {
        // A genre with no letters or digits matches nothing: no tag is "g" alone.
        let g = name.map { genre($0) ?? "g" }
        var words: [String] = []
        var notSeries = false
        switch (kind, g) {
        case let (kind?, g?):
            words.append("k" + kind.rawValue + g)
            if let year { words.append("y\(year)") }
        case let (kind?, nil):
            if let year {
                words.append("k\(kind.rawValue)y\(year)")
            } else {
                // Exhaustive on purpose: a new kind must decide here.
                switch kind {
                case .movie: notSeries = true
                case .series: words.append("k" + kind.rawValue)
                }
            }
        case let (nil, g?):
            words.append(g)
            if let year { words.append("y\(year)") }
        case (nil, nil):
            if let year { words.append("y\(year)") }
        }
        var out = words.isEmpty ? "" : " AND {tags} : (" + words.map { "\"\($0)\"" }.joined(separator: " ") + ")"
        if notSeries { out += " NOT {tags} : (\"k\(CatalogDocument.Kind.series.rawValue)\")" }
        return out
    }

    static func genre(_ name: String) -> String? {
        let folded = CatalogStore.fold(name)
        return folded.isEmpty ? nil : "g" + folded
    }
}
