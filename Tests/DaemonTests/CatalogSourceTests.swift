import Daemon
import Testing

@Suite("What play takes")
struct CatalogSourceTests {
    @Test("title ids, with a channel prefix when several channels list one, are titles; magnets, hashes and URLs are not")
    func titles() {
        #expect(CatalogSource.looksLikeTitle("tiny-dragon-2021"))
        #expect(CatalogSource.looksLikeTitle("5f3a9c1e/tiny-dragon-2021"))
        #expect(!CatalogSource.looksLikeTitle("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567"))
        #expect(!CatalogSource.looksLikeTitle("0123456789abcdef0123456789abcdef01234567"))
        #expect(!CatalogSource.looksLikeTitle("https://example.org/film.torrent"))
        #expect(!CatalogSource.looksLikeTitle(""))
        #expect(!CatalogSource.looksLikeTitle(String(repeating: "a", count: 81)))
    }

    @Test("episodes: S01E02, s1e2 and 1x02")
    func episodes() {
        #expect(CatalogSource.parseEpisode("S01E02")! == (1, 2))
        #expect(CatalogSource.parseEpisode("s1e2")! == (1, 2))
        #expect(CatalogSource.parseEpisode("1x02")! == (1, 2))
        #expect(CatalogSource.parseEpisode("episode two") == nil)
    }
}
