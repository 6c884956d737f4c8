import Catalog
import TestSupport
import Testing

@Suite("My list and Continue watching in the catalog database")
struct MyListTests {
    @Test("a title taken out of Continue watching keeps its history and comes back when played again")
    func hideFromContinue() async throws {
        let dir = TempDir("mylist")
        let store = try CatalogStore(path: try await SchemaCompatibilityTests.sampleDatabase(in: dir))
        try await store.saveProgress(ref: "sintel-2010", episode: "", position: 600, duration: 888)
        try await store.hideFromContinue(ref: "sintel-2010")
        let hidden = try await store.history()
        #expect(hidden.count == 1 && hidden[0].hidden && hidden[0].position == 600)
        try await store.saveProgress(ref: "sintel-2010", episode: "", position: 610, duration: 888)
        #expect(try await store.history().map(\.hidden) == [false])
        await #expect(throws: CatalogError.self) { try await store.hideFromContinue(ref: "no-such-title") }
    }

    @Test("My list: added once, newest first, taken off; a title that is not there is refused")
    func myList() async throws {
        let dir = TempDir("mylist")
        let store = try CatalogStore(path: try await SchemaCompatibilityTests.sampleDatabase(in: dir))
        #expect(try await store.myList().isEmpty)
        try await store.setOnMyList(ref: "sintel-2010", true)
        try await store.setOnMyList(ref: "sintel-2010", true)
        #expect(try await store.myList().map(\.document.id) == ["sintel-2010"])
        try await store.setOnMyList(ref: "sintel-2010", false)
        #expect(try await store.myList().isEmpty)
        await #expect(throws: CatalogError.self) { try await store.setOnMyList(ref: "no-such-title", true) }
    }
}
