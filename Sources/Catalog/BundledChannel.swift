import Foundation

/// "Open Films": the channel that ships with Matinee. It lists openly
/// licensed films that have public torrents with web seeds (the Blender
/// open movies, as webtorrent.io seeds them), so it needs no DHT address and
/// no key: app releases update it by raising `sequence`.
///
/// It is installed on first run; a user who removes it does not get it back
/// until they ask (`matinee channel add open-films`). Its posters ship with
/// the app (the module's OpenFilms resources: title cards that
/// scripts/make-open-films-posters draws, not the films' own artwork) and are
/// copied beside the channel's other catalogs, where the art route serves
/// them like any catalog's.
public enum BundledChannel {
    public static let key = "local:open-films"
    public static let name = "Open Films"

    /// `channelsDir`: where followed channels' catalogs live (the art
    /// route's root); the posters go to `<channelsDir>/<key>/<sequence>/`.
    /// Without it the channel has no artwork.
    public static func install(into store: CatalogStore, channelsDir: String? = nil, force: Bool = false) async throws {
        if !force, try await store.flag("bundled-removed:\(key)") { return }
        let doc = try document()
        let files = channelsDir.map { "\($0)/\(key)/\(doc.sequence)/\(ChannelResolver.folderName)" }
        if let existing = try await store.channel(key), existing.highestSequence >= doc.sequence, !force,
            files.map({ postersPresent(in: $0, doc) }) ?? true
        {
            return
        }
        if let files { try await copyPosters(of: doc, to: files) }
        try await store.addChannel(key: key, name: name, address: "", isLocal: true)
        _ = try await store.acceptSequence(key, doc.sequence)
        try await store.importCatalog(doc, channelKey: key, catalogInfoHash: nil, files: files)
        try await store.setFlag("bundled-removed:\(key)", false)
    }

    private static func postersPresent(in folder: String, _ doc: CatalogDocument) -> Bool {
        doc.titles.allSatisfy { t in t.poster.map { FileManager.default.fileExists(atPath: folder + "/" + $0) } ?? true }
    }

    /// The shipped posters, written off the caller's thread (small files,
    /// but a Swift concurrency thread never waits on the disk).
    private static func copyPosters(of doc: CatalogDocument, to folder: String) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            DispatchQueue.global().async {
                do {
                    let fm = FileManager.default
                    for t in doc.titles {
                        guard let poster = t.poster, CatalogPath.isSafe(poster) else { continue }
                        let name = (poster as NSString).lastPathComponent
                        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "OpenFilms")
                            ?? Bundle.module.url(forResource: name, withExtension: nil)
                        else { throw CatalogError(.notFound, "the app's Open Films poster \(name) is missing") }
                        let target = folder + "/" + poster
                        try fm.createDirectory(
                            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                        try? fm.removeItem(atPath: target)
                        try fm.copyItem(atPath: url.path, toPath: target)
                    }
                    // Older versions' folders of this channel go.
                    let versions = ((folder as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
                    for old in (try? fm.contentsOfDirectory(atPath: versions)) ?? [] where old != "\(doc.sequence)" {
                        try? fm.removeItem(atPath: versions + "/" + old)
                    }
                    c.resume()
                } catch {
                    c.resume(throwing: error)
                }
            }
        }
    }

    public static func document() throws -> CatalogDocument {
        let doc = try CatalogDocument.decode(Array(json.utf8))
        try doc.validate(key: nil, sequence: nil)
        return doc
    }

    static let webSeed = "https://webtorrent.io/torrents/"

    static let json = #"""
        {
          "schema": 1,
          "channel": {
            "key": "",
            "name": "Open Films",
            "description": "Openly licensed films from the Blender Foundation's open movie projects, shared over BitTorrent with web seeds."
          },
          "sequence": 2,
          "issued": "2026-11-21T00:00:00Z",
          "expires": "2036-11-21T00:00:00Z",
          "titles": [
            {
              "id": "big-buck-bunny-2008",
              "poster": "posters/big-buck-bunny.jpg",
              "kind": "movie",
              "title": "Big Buck Bunny",
              "year": 2008,
              "synopsis": "A good-natured giant rabbit takes his revenge on three rodents who bully the small creatures of his forest. Blender Foundation's Peach open movie project.",
              "genres": ["Animation", "Comedy"],
              "runtime": 10,
              "languages": ["en"],
              "license": "CC BY 3.0, Blender Foundation",
              "added": "2026-11-21T00:00:00Z",
              "sources": [{
                "infohash": "dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c",
                "webSeeds": ["https://webtorrent.io/torrents/"],
                "torrentURL": "https://webtorrent.io/torrents/big-buck-bunny.torrent"
              }]
            },
            {
              "id": "sintel-2010",
              "poster": "posters/sintel.jpg",
              "kind": "movie",
              "title": "Sintel",
              "year": 2010,
              "synopsis": "A young woman crosses a harsh land in search of the baby dragon she once rescued and raised. Blender Foundation's Durian open movie project.",
              "genres": ["Animation", "Fantasy"],
              "runtime": 15,
              "languages": ["en"],
              "license": "CC BY 3.0, Blender Foundation",
              "added": "2026-11-21T00:00:00Z",
              "sources": [{
                "infohash": "08ada5a7a6183aae1e09d831df6748d566095a10",
                "webSeeds": ["https://webtorrent.io/torrents/"],
                "torrentURL": "https://webtorrent.io/torrents/sintel.torrent"
              }]
            },
            {
              "id": "tears-of-steel-2012",
              "poster": "posters/tears-of-steel.jpg",
              "kind": "movie",
              "title": "Tears of Steel",
              "year": 2012,
              "synopsis": "In a future Amsterdam, a group of scientists and warriors try to undo a broken relationship that set robots against humanity. Blender Foundation's Mango open movie project.",
              "genres": ["Science Fiction"],
              "runtime": 12,
              "languages": ["en"],
              "license": "CC BY 3.0, Blender Foundation",
              "added": "2026-11-21T00:00:00Z",
              "sources": [{
                "infohash": "209c8226b299b308beaf2b9cd3fb49212dbd13ec",
                "webSeeds": ["https://webtorrent.io/torrents/"],
                "torrentURL": "https://webtorrent.io/torrents/tears-of-steel.torrent"
              }]
            },
            {
              "id": "cosmos-laundromat-2015",
              "poster": "posters/cosmos-laundromat.jpg",
              "kind": "movie",
              "title": "Cosmos Laundromat",
              "year": 2015,
              "synopsis": "A depressed sheep on a desolate island meets a strange salesman who offers him the gift of a lifetime. Blender Institute's Gooseberry open movie project.",
              "genres": ["Animation", "Fantasy"],
              "runtime": 12,
              "languages": ["en"],
              "license": "CC BY 4.0, Blender Institute",
              "added": "2026-11-21T00:00:00Z",
              "sources": [{
                "infohash": "c9e15763f722f23e98a29decdfae341b98d53056",
                "webSeeds": ["https://webtorrent.io/torrents/"],
                "torrentURL": "https://webtorrent.io/torrents/cosmos-laundromat.torrent"
              }]
            }
          ]
        }
        """#
}
